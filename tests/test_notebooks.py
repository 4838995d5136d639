"""The notebooks: generated per dimension from the codebook (headed cells that follow any programme's sections and
Schaubilder, deterministic bytes), `thinka notebooks`, explore.ipynb; real papermill and nbval runs on a tmp copy."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import copy_phase_project

from thinka import ALL_SITES, cli, notebook_gen
from thinka.codebook import SECTION_CONTENTS, load_codebook
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths

PHASE = "2013-2014"
REPO = Path(__file__).resolve().parent.parent
CODEBOOKS = {
    "thinka-2013-2014": REPO / "data" / "raw" / "2013-2014" / "codebook.yaml",
    "thinka-2015-2016": REPO / "data" / "raw" / "2015-2016" / "codebook.yaml",
    "nrw-2016-2017": REPO / "examples" / "einwanderung-gestalten-nrw" / "data" / "raw" / "2016-2017" / "codebook.yaml",
}
DIMENSIONS = ("sozialraum", "individual", "verwaltung")
# The generic loop the packaged notebook ran before thinka generated one notebook per dimension: the reference the
# generated notebooks must reproduce output for output.
LOOP = '''\
for section in unit.codebook.sections_of(unit.dimension):
    display(HTML(plots.render_section_heading(unit, section.id)))
    if text := api.section_text(unit, section.id):
        display(HTML(text))
    display(HTML(plots.render_section(unit, section.id)))
    if summary := api.section_text(unit, section.id, "zusammenfassung"):
        display(HTML(summary))'''


def _codebook(name: str):
    return load_codebook(CODEBOOKS[name])


def _first_line(cell) -> str:
    return cell.source.splitlines()[0]


def _expected_headings(codebook, dimension: str) -> list[str]:
    """The markdown headings a generated notebook must show, in order, computed from the codebook alone."""
    heads = [f"# {codebook.dimension(dimension).heading}"]
    for section in codebook.sections_of(dimension):
        heads.append(f"## {section.title}")
        heads += [f"### Schaubild {sb.number} – {sb.title}" for sb in codebook.schaubilder_of(section.id)]
        heads += [f"### Item table – {t.title}" for t in codebook.item_tables_of(section.id)]
        if section.content is not None:
            instrument = codebook.instrument_of_kind(section.content)
            heads.append(f"### {codebook.instruments[instrument].label}")
    return heads


# ----------------------------------------------------------------------------------------------------------------
# The generator (pure, fast)


@pytest.mark.parametrize("name", CODEBOOKS)
def test_generated_notebook_follows_the_codebook(name):
    """Every section and Schaubild of the programme's codebook is a headed cell, in codebook order, and the cell
    under a Schaubild's heading draws exactly that Schaubild."""
    codebook = _codebook(name)
    assert codebook.dimensions
    for dim in codebook.dimensions:
        nb = notebook_gen.dimension_notebook(codebook, dim.id, "2099-2100")
        nbformat.validate(nb)
        markdown = [c for c in nb.cells if c.cell_type == "markdown"]
        assert [_first_line(c) for c in markdown] == _expected_headings(codebook, dim.id)
        assert all(c.metadata.get("tags") == ["notebook-only"] for c in markdown), "markdown would land in the report"
        for i, cell in enumerate(nb.cells):
            if m := re.fullmatch(r"### Schaubild (\d+) – .*", _first_line(cell)):
                assert nb.cells[i + 1].source == f"display(HTML(plots.render_schaubild(unit, {m.group(1)})))"
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        drawn = [int(n) for n in re.findall(r"render_schaubild\(unit, (\d+)\)", code)]
        assert drawn == [sb.number for s in codebook.sections_of(dim.id) for sb in codebook.schaubilder_of(s.id)]
        assert "pandas" not in code and "matplotlib" not in code and "read_parquet" not in code
        for section in codebook.sections_of(dim.id):
            assert f'plots.render_section_heading(unit, "{section.id}")' in code
            assert f'api.section_text(unit, "{section.id}", "zusammenfassung")' in code


@pytest.mark.parametrize("name", CODEBOOKS)
def test_generated_notebook_parameters_cell(name):
    codebook = _codebook(name)
    dim = codebook.dimensions[-1]
    nb = notebook_gen.dimension_notebook(codebook, dim.id, "2099-2100")
    first = nb.cells[0]
    assert first.cell_type == "code" and first.metadata["tags"] == ["parameters"]
    assert [line.split("  #")[0] for line in first.source.splitlines()] == [
        'phase = "2099-2100"', 'site = "all"', "root = None", f'dimension = "{dim.id}"']
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert "unit = api.load_unit(phase, dimension, site, root)" in nb.cells[2].source
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")


def test_generated_notebook_bytes_are_deterministic():
    first = {d: notebook_gen.notebook_text(notebook_gen.dimension_notebook(_codebook("thinka-2013-2014"), d, PHASE))
             for d in DIMENSIONS}
    again = {d: notebook_gen.notebook_text(notebook_gen.dimension_notebook(_codebook("thinka-2013-2014"), d, PHASE))
             for d in DIMENSIONS}
    assert first == again
    assert len(set(first.values())) == len(DIMENSIONS)
    nb = nbformat.reads(first["individual"], as_version=4)
    assert [c.id for c in nb.cells] == [f"cell-{i:03d}" for i in range(len(nb.cells))]
    assert first["individual"].endswith("}\n") and "execution_count\": null" in first["individual"]
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", first["individual"]), "no timestamps"
    other = notebook_gen.dimension_notebook(_codebook("thinka-2013-2014"), "individual", "2015-2016")
    assert notebook_gen.notebook_text(other) != first["individual"]


def test_a_section_without_charts_and_another_order_is_followed():
    """Not only the shipped codebooks: sections moved, one emptied, one Schaubild moved to another section."""
    codebook = _codebook("thinka-2013-2014")
    sections = codebook.sections_of("verwaltung")
    moved = [dataclasses.replace(sb, section=sections[0].id) if sb.section == sections[1].id else sb
             for sb in codebook.schaubilder]
    changed = dataclasses.replace(
        codebook,
        sections=tuple(s for s in codebook.sections if s not in sections) + tuple(reversed(sections)),
        schaubilder=tuple(moved), item_tables=())
    nb = notebook_gen.dimension_notebook(changed, "verwaltung", PHASE)
    heads = [_first_line(c) for c in nb.cells if c.cell_type == "markdown"]
    assert heads == _expected_headings(changed, "verwaltung")
    assert heads[1] == f"## {sections[1].title}" and heads[2] == f"## {sections[0].title}"


def test_unknown_section_content_names_value_known_ones_and_hint():
    codebook = _codebook("thinka-2013-2014")
    broken = dataclasses.replace(codebook, sections=tuple(
        dataclasses.replace(s, content="videos") if s.content == "interviews" else s for s in codebook.sections))
    with pytest.raises(ThinkaError, match=r"'videos'.*known: interviews, running_statistics") as info:
        notebook_gen.dimension_notebook(broken, "sozialraum", PHASE)
    assert "codebook.yaml" in (info.value.hint or "")


def test_content_renderers_are_the_ones_plots_registers():
    from thinka import plots, stitch

    assert set(notebook_gen.CONTENT_RENDERERS) == set(SECTION_CONTENTS) == set(plots.SECTION_CONTENT_RENDERERS)
    for content, name in notebook_gen.CONTENT_RENDERERS.items():
        assert getattr(plots, name) is plots.SECTION_CONTENT_RENDERERS[content]
    assert notebook_gen.NOTEBOOK_ONLY == stitch.NOTEBOOK_ONLY


def test_the_report_sees_only_the_code_cells(tmp_path):
    """thinka.stitch drops the notebook-only explanations: the report gets no markdown from a generated notebook."""
    from thinka import stitch

    nb = notebook_gen.dimension_notebook(_codebook("thinka-2013-2014"), "sozialraum", PHASE)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<p>x</p>"})]
    path = tmp_path / "sozialraum.ipynb"
    nbformat.write(nb, str(path))
    kept = stitch.report_cells(path)
    assert kept and all(c.cell_type == "code" for c in kept)
    assert len(kept) == sum(c.cell_type == "code" for c in nb.cells)


def test_explore_committed_without_outputs(repo_root):
    nb = nbformat.read(repo_root / "notebooks" / "explore.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "strip outputs before committing"


def test_the_checkout_keeps_no_stale_dimension_notebooks(repo_root):
    """A project copy wins over the generated notebook; copies in this checkout would freeze old report pages."""
    for phase in ("2013-2014", "2015-2016"):
        codebook = load_codebook(repo_root / "data" / "raw" / phase / "codebook.yaml")
        assert not [d.notebook for d in codebook.dimensions if (repo_root / "notebooks" / d.notebook).exists()]


# ----------------------------------------------------------------------------------------------------------------
# thinka notebooks


def test_notebooks_command_writes_refuses_and_forces(phase_copy, capsys):
    argv = ["notebooks", "--root", str(phase_copy.root), "--phase", PHASE]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    codebook = load_codebook(phase_copy.codebook)
    written = {d.notebook: phase_copy.notebooks / d.notebook for d in codebook.dimensions}
    for name, path in written.items():
        assert f"notebooks/{name}" in out
        dim = next(d.id for d in codebook.dimensions if d.notebook == name)
        # The same bytes the build generates: an unedited copy keeps every unit's cache key.
        assert path.read_text(encoding="utf-8") == notebook_gen.notebook_text(
            notebook_gen.dimension_notebook(codebook, dim, PHASE))
    assert "thinka build" in out and "--force" in out
    assert sorted(p.name for p in phase_copy.notebooks.iterdir()) == sorted(written), "no temporary files left"

    edited = written["verwaltung.ipynb"]
    edited.write_text(edited.read_text(encoding="utf-8").replace("render_schaubild(unit, 17)", "render_schaubild(unit, 18)"),
                      encoding="utf-8")
    kept = edited.read_bytes()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert str(edited) in err and "--force" in err and "Traceback" not in err
    assert edited.read_bytes() == kept, "an edited copy is never overwritten without --force"

    assert cli.main([*argv, "--force"]) == 0
    assert edited.read_bytes() != kept and "render_schaubild(unit, 17)" in edited.read_text(encoding="utf-8")


def test_notebooks_command_writes_only_into_notebooks(phase_copy, tree_digest, capsys):
    raw = tree_digest(phase_copy.root / "data")
    assert cli.main(["notebooks", "--root", str(phase_copy.root), "--phase", PHASE]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in phase_copy.root.iterdir()) == ["data", "notebooks", "thinka.yaml"]
    assert tree_digest(phase_copy.root / "data") == raw


# ----------------------------------------------------------------------------------------------------------------
# Real runs


@pytest.fixture(scope="module")
def processed_root(repo_root, tmp_path_factory) -> Path:
    """A tmp project root with a copy of data/raw/2013-2014, processed once for all runs of this module."""
    from thinka.process import process_phase

    root = tmp_path_factory.mktemp("thinka")
    copy_phase_project(root)
    process_phase(PhasePaths(root, PHASE))
    return root


def _run(path: Path, out: Path, **parameters):
    import papermill

    papermill.execute_notebook(str(path), str(out), parameters=parameters, kernel_name="python3",
                               progress_bar=False, cwd=str(out.parent))
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    return nb


def _generated(root: Path, dimension: str, folder: Path) -> Path:
    codebook = load_codebook(root / "data" / "raw" / PHASE / "codebook.yaml")
    path = folder / f"generated-{dimension}.ipynb"
    path.write_text(notebook_gen.notebook_text(notebook_gen.dimension_notebook(codebook, dimension, PHASE)),
                    encoding="utf-8")
    return path


def _loop_notebook(folder: Path) -> Path:
    nb = notebook_gen.dimension_notebook(load_codebook(CODEBOOKS["thinka-2013-2014"]), "verwaltung", PHASE)
    nb.cells = [nb.cells[0], nb.cells[2], nbformat.v4.new_code_cell(LOOP)]  # parameters, setup, the loop
    path = folder / "loop.ipynb"
    nbformat.write(nb, str(path))
    return path


def _html_outputs(nb) -> list[str]:
    return [o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.mark.slow
@pytest.mark.parametrize(("dimension", "site"), [("sozialraum", ALL_SITES), ("individual", "S02")])
def test_generated_notebook_shows_what_the_generic_loop_showed(processed_root, tmp_path, dimension, site):
    """Same HTML, in the same order, as the loop over render_section; split into one output per Schaubild."""
    params = {"phase": PHASE, "site": site, "root": str(processed_root), "dimension": dimension}
    new = _html_outputs(_run(_generated(processed_root, dimension, tmp_path), tmp_path / "new.ipynb", **params))
    old = _html_outputs(_run(_loop_notebook(tmp_path), tmp_path / "old.ipynb", **params))
    assert "".join(new) == "".join(old)
    assert new[0] == old[0] and new[0].startswith('<h1 class="dimension"')
    charts = [o for o in new if o.startswith('<figure class="schaubild"')]
    assert len(charts) == len(re.findall(r'<figure class="schaubild"', "".join(old))) > 0, "one output per Schaubild"


@pytest.mark.slow
@pytest.mark.parametrize("site", [ALL_SITES, "S02"])
@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_papermill_run(processed_root, tmp_path, dimension, site):
    nb = _run(_generated(processed_root, dimension, tmp_path), tmp_path / f"{dimension}-{site}.ipynb",
              phase=PHASE, site=site, root=str(processed_root), dimension=dimension)
    outputs = _html_outputs(nb)
    assert ("Standort 02 (Platzhalter)" in outputs[0]) == (site != ALL_SITES)
    codebook = load_codebook(CODEBOOKS["thinka-2013-2014"])
    html = "\n".join(outputs)
    expected = [str(sb.number) for s in codebook.sections_of(dimension) for sb in codebook.schaubilder_of(s.id)]
    assert re.findall(r'id="schaubild-(\d+)"', html) == expected
    assert "<script" not in html


@pytest.mark.slow
def test_explore_runs_on_fresh_copy(repo_root, phase_copy, tmp_path):
    nb = _run(repo_root / "notebooks" / "explore.ipynb", tmp_path / "explore.ipynb", phase=PHASE,
              root=str(phase_copy.root))
    assert (phase_copy.processed / "manifest.json").is_file()  # load_tables processed the fresh copy
    assert any('id="schaubild-17"' in h for h in _html_outputs(nb))


def _nbval(folder: Path, notebook: Path, root: Path) -> None:
    """nbval over a notebook with its default parameters; THINKA_ROOT points root=None at the processed copy."""
    env = {**os.environ, "THINKA_ROOT": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", str(notebook)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"\d+ passed", proc.stdout)


@pytest.mark.slow
def test_nbval_lax_explore(repo_root, processed_root):
    _nbval(repo_root, Path("notebooks") / "explore.ipynb", processed_root)


@pytest.mark.slow
@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_nbval_lax_written_notebooks(processed_root, tmp_path, dimension):
    """What `thinka notebooks` writes runs as it is opened in JupyterLab: default parameters, root found."""
    root = tmp_path / "project"
    copy_phase_project(root)
    paths = PhasePaths(root, PHASE)
    notebook_gen.write_project_notebooks(paths, load_codebook(paths.codebook))
    _nbval(root, Path("notebooks") / f"{dimension}.ipynb", processed_root)
