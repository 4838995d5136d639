"""A second programme adopts thinka by configuration alone.

examples/einwanderung-gestalten-nrw/ holds only configuration (phase.yaml, codebook.yaml, texte/) for the twelve
municipalities of "Einwanderung gestalten NRW": other sites, instruments, scales, wording, Schaubilder and measures
than ThINKA. Synthetic exports (one as XLSX) are generated here; thinka's unchanged code must run on them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_synthetic_instruments

from thinka import ALL_SITES, api, cli
from thinka.codebook import load_codebook, load_phase
from thinka.facts import compute_facts
from thinka.paths import PhasePaths
from thinka.process import process_phase
from thinka.texts import check_texts

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "einwanderung-gestalten-nrw"
PHASE = "2016-2017"


@pytest.fixture(scope="module")
def nrw(tmp_path_factory) -> PhasePaths:
    root = tmp_path_factory.mktemp("nrw")
    shutil.copytree(EXAMPLE / "data", root / "data")
    shutil.copy2(EXAMPLE / "thinka.yaml", root / "thinka.yaml")
    shutil.copytree(Path(__file__).resolve().parent.parent / "notebooks", root / "notebooks")
    paths = PhasePaths(root, PHASE)
    write_synthetic_instruments(paths, rows=90, seed=7)
    # The interview export arrives as a real workbook, as phase.yaml names it.
    xlsx = paths.raw / "werkstattgespraeche.xlsx"
    frame = pd.read_csv(xlsx, dtype=str, keep_default_na=False)
    xlsx.unlink()
    frame.to_excel(xlsx, index=False)
    return paths


def test_example_is_configuration_only():
    files = sorted(p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*") if p.is_file())
    assert all(f.endswith((".yaml", ".md")) for f in files), files


def test_config_differs_from_thinka(nrw):
    config, codebook = load_phase(nrw.config), load_codebook(nrw.codebook)
    assert len(config.sites) == 12 and config.sites[0].name == "Mülheim an der Ruhr"
    assert "zustimmung4" in codebook.scales and "likert5" not in codebook.scales
    assert codebook.instrument_of_kind("running_statistics") == "fallstatistik"


def test_validate_and_process(nrw, capsys):
    assert cli.main(["validate", "--root", str(nrw.root), "--phase", PHASE]) == 0
    assert "werkstattgespraeche: " in capsys.readouterr().out
    result = process_phase(nrw)
    tables = {Path(path).stem: pd.read_parquet(path) for path in result.outputs.values() if str(path).endswith(".parquet")}
    summaries = tables["summaries"]
    overall = summaries[(summaries["item"] == "zusammenarbeit_note") & (summaries["site"] == ALL_SITES)]
    records = tables["records_partnerbefragung"]
    grades = records["zusammenarbeit_note"].dropna().map({lv.label: lv.code for lv in load_codebook(nrw.codebook).scales["schulnote"].levels})
    assert overall["valid_n"].item() == grades.size
    assert overall["mean"].item() == pytest.approx(grades.astype(float).mean())
    measures = set(tables["projektstatistik"]["measure"])
    assert measures == {"profilings", "fallberatungen", "uebergaben"}
    assert set(tables["interview_partners"]["partnertyp"]) >= {"sozialamt", "auslaenderbehoerde"}


def test_facts_and_texts(nrw):
    process_phase(nrw)
    tables = api.load_tables(PHASE, root=nrw.root)
    facts = compute_facts(tables, load_phase(nrw.config), load_codebook(nrw.codebook))
    assert facts["sites.n"].value == 12
    assert check_texts(nrw.texts, facts) == []


@pytest.mark.slow
def test_notebook_runs_unchanged(nrw, tmp_path):
    import papermill

    process_phase(nrw)
    out = tmp_path / "verwaltung.ipynb"
    papermill.execute_notebook(
        str(nrw.notebooks / "verwaltung.ipynb"), str(out),
        parameters={"phase": PHASE, "site": "K01", "root": str(nrw.root)}, progress_bar=False, kernel_name="python3",
    )
    text = out.read_text(encoding="utf-8")
    assert 'id=\\"schaubild-4\\"' in text and 'id=\\"schaubild-5\\"' in text
    assert "Mülheim an der Ruhr" in text
