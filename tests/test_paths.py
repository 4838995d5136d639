"""Finding the project: --root, else $THINKA_ROOT, else the nearest thinka.yaml upwards; never thinka's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest

import thinka
from thinka import cli
from thinka.errors import ThinkaError
from thinka.paths import MARKER, ROOT_ENV, find_project, phase_paths


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "office"
    (root / "data" / "raw" / "2025-2026" / "texte").mkdir(parents=True)
    (root / MARKER).write_text("thinka: 1\n", encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def no_root_env(monkeypatch):
    monkeypatch.delenv(ROOT_ENV, raising=False)


def test_walks_up_from_the_working_directory(project, monkeypatch):
    monkeypatch.chdir(project / "data" / "raw" / "2025-2026" / "texte")
    assert find_project() == project.resolve()


def test_explicit_root_wins_over_environment_and_working_directory(project, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    (other / MARKER).write_text("thinka: 1\n", encoding="utf-8")
    monkeypatch.setenv(ROOT_ENV, str(other))
    monkeypatch.chdir(project)
    assert find_project(project) == project.resolve()
    assert find_project() == other.resolve()


@pytest.mark.parametrize("how", ["root", "env"])
def test_a_folder_without_marker_is_refused(tmp_path, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    with pytest.raises(ThinkaError, match=f"not a thinka project.*no {MARKER}") as err:
        find_project(tmp_path if how == "root" else None)
    assert "thinka init" in err.value.hint


def test_no_project_found_says_how_to_create_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ThinkaError, match="No thinka project found") as err:
        find_project()
    assert "thinka init" in err.value.hint


def test_never_the_folder_thinka_is_installed_in(tmp_path, monkeypatch):
    """Run from a folder outside any project, thinka must not fall back to its own checkout or site-packages."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ThinkaError, match="No thinka project found"):
        phase_paths("2013-2014")
    # The package folder itself holds no marker: an installed thinka is never mistaken for a project.
    assert not (Path(thinka.__file__).resolve().parent / MARKER).exists()


def test_cli_outside_a_project_is_a_plain_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate"]) == 2
    err = capsys.readouterr().err
    assert "No thinka project found" in err and "Traceback" not in err
