"""The notebooks: thin, parameterised, outputs stripped; real papermill and nbval runs on a tmp copy of the data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import copy_phase_project

from thinka import ALL_SITES
from thinka.codebook import load_codebook

PHASE = "2013-2014"
REPORT_NOTEBOOKS = ("sozialraum", "individual", "verwaltung")
ALL_NOTEBOOKS = (*REPORT_NOTEBOOKS, "explore")


def _notebook(repo_root: Path, name: str):
    return nbformat.read(repo_root / "notebooks" / f"{name}.ipynb", as_version=4)


# ----------------------------------------------------------------------------------------------------------------
# Static checks (fast)


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_notebook_committed_without_outputs(repo_root, name):
    nb = _notebook(repo_root, name)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip outputs before committing"


@pytest.mark.parametrize("name", REPORT_NOTEBOOKS)
def test_report_notebook_parameters_and_thinness(repo_root, name):
    nb = _notebook(repo_root, name)
    first = nb.cells[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert first.source.splitlines() == ['phase = "2013-2014"', 'site = "all"', "root = None"]
    # No markdown cells (they would land in the report) and nothing but thinka calls and display.
    assert all(c.cell_type == "code" for c in nb.cells)
    code = "\n".join(c.source for c in nb.cells[1:])
    assert "pandas" not in code and "matplotlib" not in code and "read_parquet" not in code
    assert f'api.load_unit(phase, "{name}", site, root)' in code
    codebook = load_codebook(repo_root / "data" / "raw" / PHASE / "codebook.yaml")
    assert codebook.dimension(name).notebook == f"{name}.ipynb"


# ----------------------------------------------------------------------------------------------------------------
# Real runs


@pytest.fixture(scope="module")
def processed_root(repo_root, tmp_path_factory) -> Path:
    """A tmp project root with a copy of data/raw/2013-2014, processed once for all runs of this module."""
    src = repo_root / "data" / "raw" / PHASE
    if not any(src.glob("*.csv")):
        pytest.skip("raw data not shipped yet")
    from thinka.paths import PhasePaths
    from thinka.process import process_phase

    root = tmp_path_factory.mktemp("thinka")
    copy_phase_project(root)
    process_phase(PhasePaths(root, PHASE))
    return root


def _execute(repo_root: Path, name: str, out: Path, **parameters):
    import papermill

    papermill.execute_notebook(
        str(repo_root / "notebooks" / f"{name}.ipynb"), str(out), parameters=parameters,
        kernel_name="python3", progress_bar=False, cwd=str(out.parent),
    )
    return nbformat.read(out, as_version=4)


def _html_outputs(nb) -> list[str]:
    return [o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _expected_schaubilder(repo_root: Path, dimension: str) -> list[str]:
    codebook = load_codebook(repo_root / "data" / "raw" / PHASE / "codebook.yaml")
    return [str(sb.number) for s in codebook.sections_of(dimension) for sb in codebook.schaubilder_of(s.id)]


@pytest.mark.slow
@pytest.mark.parametrize("site", [ALL_SITES, "S02"])
@pytest.mark.parametrize("name", REPORT_NOTEBOOKS)
def test_papermill_run(repo_root, processed_root, tmp_path, name, site):
    nb = _execute(repo_root, name, tmp_path / f"{name}-{site}.ipynb", phase=PHASE, site=site, root=str(processed_root))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    outputs = _html_outputs(nb)
    assert outputs[0].startswith('<h1 class="dimension"')
    assert ("Standort 02 (Platzhalter)" in outputs[0]) == (site != ALL_SITES)
    html = "\n".join(outputs)
    assert re.findall(r'id="schaubild-(\d+)"', html) == _expected_schaubilder(repo_root, name)
    assert "<script" not in html


@pytest.mark.slow
def test_explore_runs_on_fresh_copy(repo_root, phase_copy, tmp_path):
    if not any(phase_copy.raw.glob("*.csv")):
        pytest.skip("raw data not shipped yet")
    nb = _execute(repo_root, "explore", tmp_path / "explore.ipynb", phase=PHASE, root=str(phase_copy.root))
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert (phase_copy.processed / "manifest.json").is_file()  # load_tables processed the fresh copy
    assert any('id="schaubild-17"' in h for h in _html_outputs(nb))


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_nbval_lax(repo_root, processed_root, name):
    """nbval over the committed notebook with its default parameters; THINKA_ROOT points root=None at the copy."""
    env = {**os.environ, "THINKA_ROOT": str(processed_root)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         f"notebooks/{name}.ipynb"],
        cwd=repo_root, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"\d+ passed", proc.stdout)
