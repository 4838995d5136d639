"""A second programme adopts thinka by configuration alone, and builds its full Datenreport from its own folder.

examples/einwanderung-gestalten-nrw/ is a complete project for the twelve municipalities of "Einwanderung gestalten
NRW": its own thinka.yaml, phase.yaml, codebook.yaml, texts and SYNTHETIC exports (scripts/make_synthetic_exports.py)
— one instrument fewer and one dimension fewer than ThINKA, other scales, wording, measures and chapters. No code
change and no copied notebooks: the notebooks generated from its codebook serve both of its dimensions.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pandas as pd
import pytest

from thinka import ALL_SITES, api, cli, notebook_gen
from thinka.codebook import load_codebook, load_phase
from thinka.facts import compute_facts
from thinka.paths import PhasePaths
from thinka.process import process_phase
from thinka.texts import check_texts

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "einwanderung-gestalten-nrw"
PHASE = "2016-2017"


@pytest.fixture(scope="module")
def nrw(tmp_path_factory) -> PhasePaths:
    """A copy of the example project as it is shipped (outputs a developer may have built are left behind)."""
    root = tmp_path_factory.mktemp("nrw") / "einwanderung-gestalten-nrw"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("processed", "build", "report"))
    return PhasePaths(root, PHASE)


def _generator():
    spec = importlib.util.spec_from_file_location("make_synthetic_exports", EXAMPLE / "scripts" / "make_synthetic_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_exports_are_what_the_script_makes(tmp_path, nrw):
    written = _generator().write(tmp_path)
    for path in written:
        shipped = nrw.raw / path.name
        if path.suffix == ".xlsx":  # workbooks carry a zip timestamp: compare the sheet
            pd.testing.assert_frame_equal(pd.read_excel(path, dtype=str), pd.read_excel(shipped, dtype=str))
        else:
            assert path.read_bytes() == shipped.read_bytes(), path.name


def test_config_differs_from_thinka(nrw, repo_root):
    config, codebook = load_phase(nrw.config), load_codebook(nrw.codebook)
    thinka_codebook = load_codebook(repo_root / "data" / "raw" / "2013-2014" / "codebook.yaml")
    assert len(config.sites) == 12 and config.sites[0].name == "Mülheim an der Ruhr"
    assert config.programme["short"] == "EG NRW"  # from the project's thinka.yaml
    assert len(codebook.instruments) == len(thinka_codebook.instruments) - 1
    assert len(codebook.dimensions) == len(thinka_codebook.dimensions) - 1
    assert "zustimmung4" in codebook.scales and "likert5" not in codebook.scales
    assert codebook.instruments["fallstatistik"].measures == ("profilings", "fallberatungen", "uebergaben")


def test_validate_process_facts_and_texts(nrw, capsys):
    assert cli.main(["validate", "--root", str(nrw.root), "--phase", PHASE]) == 0
    assert "partnerbefragung: 70 rows (xlsx)" in capsys.readouterr().out
    process_phase(nrw)
    tables = api.load_tables(PHASE, root=nrw.root)
    config, codebook = load_phase(nrw.config), load_codebook(nrw.codebook)
    summaries = tables["summaries"]
    overall = summaries[(summaries["item"] == "zusammenarbeit_note") & (summaries["site"] == ALL_SITES)]
    grades = tables["records_partnerbefragung"]["zusammenarbeit_note"].dropna().map(
        {lv.label: lv.code for lv in codebook.scales["schulnote"].levels})
    assert overall["valid_n"].item() == grades.size
    assert overall["mean"].item() == pytest.approx(grades.astype(float).mean())
    assert set(tables["running_statistics"]["measure"]) == {"profilings", "fallberatungen", "uebergaben"}
    facts = compute_facts(tables, config, codebook)
    assert facts["sites.n"].value == 12
    assert facts["stats.uebergaben_je_profiling"].value == pytest.approx(
        facts["stats.uebergaben"].value / facts["stats.profilings"].value)
    assert check_texts(nrw.texts, facts) == []


def test_its_running_statistics_carry_its_own_instrument_name(nrw):
    """thinka prints no instrument name of its own: captions, alt text and source name the codebook's label."""
    from thinka import plots, stitch

    process_phase(nrw)
    config, codebook = load_phase(nrw.config), load_codebook(nrw.codebook)
    dimension = next(s.dimension for s in codebook.sections if s.content == "running_statistics")
    out = plots.render_running_statistics(api.load_unit(PHASE, dimension, ALL_SITES, root=nrw.root))
    assert "<caption>Fallstatistik je Quartal – Alle Standorte</caption>" in out
    assert "Daten: Fallstatistik der Standorte" in out and "Säulendiagramm „Fallstatistik“ je Quartal" in out
    assert "Projektstatistik" not in out
    # no interview instrument: the methods note says nothing about interviews
    assert not any("Interview" in p for p in stitch.disclosure_paragraphs(config, codebook))


def test_generated_notebooks_follow_its_codebook(nrw):
    """Its own sections and Schaubilder, under their own headings, in its dimensions' notebooks; none of ThINKA's."""
    codebook = load_codebook(nrw.codebook)
    seen = {}
    for dim in codebook.dimensions:
        nb = notebook_gen.dimension_notebook(codebook, dim.id, PHASE)
        heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
        seen[dim.id] = heads
        assert heads[0] == f"# {dim.heading}"
        assert [h for h in heads if h.startswith("## ")] == [f"## {s.title}" for s in codebook.sections_of(dim.id)]
        assert "ThINKA" not in notebook_gen.notebook_text(nb)
    assert seen["fallmanagement"][1:] == [
        "## Beratung und Anliegen", "### Schaubild 1 – Beratung in verständlicher Sprache",
        "### Schaubild 2 – Anliegen der Zugewanderten", "## Profilings, Fallberatungen und Übergaben",
        f"### {codebook.instruments[codebook.instrument_of_kind('running_statistics')].label}"]
    assert [h for h in seen["zusammenarbeit"] if h.startswith("### Schaubild")] == [
        "### Schaubild 3 – Sozialraumorientierung der Fallarbeit", "### Schaubild 4 – Bewertung der Zusammenarbeit",
        "### Schaubild 5 – Leistungen aus einer Hand"]


@pytest.mark.slow
def test_builds_its_full_datenreport_from_its_own_folder(nrw, monkeypatch, capsys):
    """The documented command, run inside the project folder: `thinka build`."""
    monkeypatch.chdir(nrw.root)
    monkeypatch.delenv("THINKA_ROOT", raising=False)
    assert cli.main(["build", "--no-progress"]) == 0, capsys.readouterr()
    assert not nrw.notebooks.exists()
    assert sorted(p.name for p in (nrw.build / "notebooks").iterdir()) == ["fallmanagement.ipynb", "zusammenarbeit.ipynb"]
    report = nrw.report
    html = (report / "datenreport.html").read_text(encoding="utf-8")
    assert (report / "datenreport.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (report / "standorte").glob("*.html")) == [f"K{i:02d}.html" for i in range(1, 13)]
    assert sorted(p.name for p in (report / "daten").glob("schaubild_*.csv")) == [f"schaubild_{i:02d}.csv" for i in range(1, 6)]
    assert [f'id="schaubild-{i}"' in html for i in range(1, 6)] == [True] * 5
    assert "Kapitel A – Ziele und Vorgehen des Modellprojekts" in html and "Fallmanagement für Zugewanderte" in html
    assert "ThINKA" not in html  # nothing of the first programme leaks into the second one's report
    assert "Projektstatistik" not in html and "Experteninterview" not in html and "Fallstatistik je Quartal" in html
    assert "Mülheim an der Ruhr" in (report / "standorte" / "K01.html").read_text(encoding="utf-8")
    assert cli.main(["audit"]) == 0, capsys.readouterr()  # its own disclosure rules hold in its published outputs
