"""`thinka init` and `thinka new-phase`: a new programme's project, and a Förderphase from the previous one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import copy_phase_project, write_synthetic_instruments

from thinka import cli
from thinka.codebook import load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.paths import MARKER, PhasePaths
from thinka.scaffold import init_project, new_phase

PHASE = "2013-2014"


def test_init_writes_a_valid_project(tmp_path, capsys):
    assert cli.main(["init", str(tmp_path / "office"), "--programme", "Testprogramm", "--phase", "2025-2026"]) == 0
    root = tmp_path / "office"
    assert (root / MARKER).is_file() and (root / ".gitignore").is_file() and (root / "README.md").is_file()
    paths = PhasePaths(root, "2025-2026")
    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    assert config.programme["name"] == "Testprogramm" and config.period_start.isoformat() == "2025-01-01"
    assert [d.id for d in codebook.dimensions] == ["befragung"]
    assert "thinka validate" in capsys.readouterr().out


def test_init_refuses_an_existing_project(tmp_path):
    init_project(tmp_path, programme="P", phase="2025-2026")
    before = (tmp_path / MARKER).read_bytes()
    with pytest.raises(ThinkaError, match="already is a thinka project"):
        init_project(tmp_path, programme="Q", phase="2027-2028")
    assert (tmp_path / MARKER).read_bytes() == before


@pytest.mark.parametrize("phase", ["../x", "/abs", "a b", ""])
def test_init_refuses_unsafe_phase_names(tmp_path, phase):
    with pytest.raises(ThinkaError, match="letters, digits"):
        init_project(tmp_path / "p", programme="P", phase=phase)
    assert not (tmp_path / "p" / MARKER).exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_gitignore_keeps_exports_and_outputs_out_of_version_control(tmp_path):
    init_project(tmp_path, programme="P", phase="2025-2026")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    raw = "data/raw/2025-2026"
    candidates = [f"{raw}/fragebogen.csv", f"{raw}/export.sav", f"{raw}/eingabe.xlsx", "data/processed/2025-2026/x.parquet",
                  "report/2025-2026/datenreport.html", "build/2025-2026/cache.json",
                  f"{raw}/phase.yaml", f"{raw}/codebook.yaml", f"{raw}/texte/vorwort.md", f"{raw}/mappings/a.yaml"]
    for name in candidates:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    ignored = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", *candidates], capture_output=True, text=True)
    assert ignored.stdout.split() == candidates[:6]


@pytest.mark.slow
def test_a_scaffolded_project_builds_once_data_are_added(tmp_path, monkeypatch, capsys):
    """init, add the exports, build from inside the folder: no notebooks/ folder, no --root."""
    init_project(tmp_path, programme="P", phase="2025-2026")
    write_synthetic_instruments(PhasePaths(tmp_path, "2025-2026"), rows=40)
    monkeypatch.chdir(tmp_path / "data")
    assert cli.main(["build", "--no-pdf", "--no-progress"]) == 0, capsys.readouterr()
    assert (tmp_path / "report" / "2025-2026" / "standorte" / "S02.html").is_file()
    assert 'id="schaubild-1"' in (tmp_path / "report" / "2025-2026" / "datenreport.html").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------------------------
# new-phase


@pytest.fixture
def project(tmp_path) -> Path:
    copy_phase_project(tmp_path)
    return tmp_path


def test_new_phase_carries_configuration_and_texts_but_no_data(project, capsys):
    assert cli.main(["new-phase", "2015-2016", "--from", PHASE, "--root", str(project)]) == 0
    new, old = PhasePaths(project, "2015-2016"), PhasePaths(project, PHASE)
    config = load_phase(new.config)
    assert config.phase == "2015-2016"
    assert (config.period_start.isoformat(), config.period_end.isoformat()) == ("2015-01-01", "2016-12-31")
    assert config.instruments["experteninterviews"].field_start.isoformat() == "2016-01-01"
    assert config.report["date"].isoformat() == "2017-03-31"
    assert config.previous_phase == PHASE  # the new phase's report compares it with the old one
    assert new.codebook.read_bytes() == old.codebook.read_bytes()
    assert sorted(p.name for p in new.texts.iterdir()) == sorted(p.name for p in old.texts.iterdir())
    data = [p.name for p in new.raw.iterdir() if p.suffix in (".csv", ".xlsx", ".sav")]
    assert data == [] and not new.published.exists()
    out = capsys.readouterr().out
    assert "expertenfragebogen.csv" in out and "check-texts" in out
    assert f"compare 2015-2016 with {PHASE}" in out


def test_a_phase_started_from_a_compared_phase_names_its_own_predecessor(project):
    new_phase(project, "2015-2016", PHASE)
    new_phase(project, "2017-2018", "2015-2016")
    text = PhasePaths(project, "2017-2018").config.read_text(encoding="utf-8")
    assert text.count("previous_phase:") == 1
    assert load_phase(PhasePaths(project, "2017-2018").config).previous_phase == "2015-2016"


def test_new_phase_never_writes_into_an_existing_phase(project):
    new_phase(project, "2015-2016", PHASE)
    before = PhasePaths(project, "2015-2016").config.read_bytes()
    with pytest.raises(ThinkaError, match="exists already"):
        new_phase(project, "2015-2016", PHASE)
    assert PhasePaths(project, "2015-2016").config.read_bytes() == before
    with pytest.raises(ThinkaError, match="No phase"):
        new_phase(project, "2017-2018", "1999-2000")


def test_texts_survive_the_move_and_keys_are_checked_before_any_data(project, capsys):
    """The carried texts bind only phase-relative keys; a key that cannot exist is reported without data."""
    new_phase(project, "2015-2016", PHASE)
    args = ["check-texts", "--root", str(project), "--phase", "2015-2016"]
    assert cli.main(args) == 0
    assert "fact key" in capsys.readouterr().out
    texts = PhasePaths(project, "2015-2016").texts
    with open(texts / "vorwort.md", "a", encoding="utf-8") as fh:
        fh.write("\nIm Quartal blieben es {{49|stats.personen.2013-Q1}} Personen.\n")
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "unknown fact" in err and "stats.personen.2013-Q1" in err and "close keys: stats.personen." in err
