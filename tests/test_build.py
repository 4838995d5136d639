"""Build stage: units, cache keys, cached parallel execution, failure isolation, atomic publishing.

The expensive part, one full build of the shipped phase in a scratch project, runs once per session
(the `full_build` fixture of conftest.py) and is shared with test_stitch.py, test_pdf.py, test_browser.py,
test_cli.py and test_audit.py. Tests that change inputs work
on a copy of that project (the copy keeps the cache: keys do not depend on the project folder).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from conftest import copy_project, make_project, pinned_source, run_build

from thinka import build
from thinka.build import BuildResult, Unit, UnitFailure
from thinka.codebook import load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths

PHASE = "2013-2014"
REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------------------------------------------
# Pure parts


@pytest.fixture(scope="module")
def phase_objects():
    raw = REPO / "data" / "raw" / PHASE
    return load_phase(raw / "phase.yaml"), load_codebook(raw / "codebook.yaml")


def test_plan_units_covers_every_dimension_and_site(phase_objects):
    config, codebook = phase_objects
    units = build.plan_units(config, codebook)
    assert len(units) == len(codebook.dimensions) * (len(config.sites) + 1) == 36
    assert units[0] == Unit(codebook.dimensions[0].id, "all")
    assert len({u.name for u in units}) == 36


def test_plan_units_selects_sites_and_rejects_unknown(phase_objects):
    config, codebook = phase_objects
    units = build.plan_units(config, codebook, ["S02", "all"])
    assert {u.site for u in units} == {"all", "S02"} and len(units) == 6
    with pytest.raises(ThinkaError, match="S99"):
        build.plan_units(config, codebook, ["S99"])


def test_unit_key_changes_with_each_input():
    base = dict(notebook=b"nb", parameters={"site": "S01"}, fingerprint="f", source_hash="s", versions={"pandas": "3"})
    key = build.unit_key(**base)
    assert key == build.unit_key(**base)
    for field, other in [("notebook", b"nb2"), ("parameters", {"site": "S02"}), ("fingerprint", "g"),
                         ("source_hash", "t"), ("versions", {"pandas": "4"})]:
        assert build.unit_key(**{**base, field: other}) != key, field


def test_key_parameters_leave_out_the_project_folder(tmp_path):
    a, b = PhasePaths(tmp_path / "a", PHASE), PhasePaths(tmp_path / "b", PHASE)
    unit = Unit("sozialraum", "S01")
    assert build.unit_parameters(a, unit)["root"] != build.unit_parameters(b, unit)["root"]
    assert build.key_parameters(a, unit) == build.key_parameters(b, unit) == {"phase": PHASE, "site": "S01",
                                                                              "dimension": "sozialraum"}


def test_package_source_hash_covers_modules_and_templates(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "templates").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "templates" / "report.css").write_text("body {}\n")
    first = build.package_source_hash(pkg)
    (pkg / "templates" / "report.css").write_text("body { color: red }\n")
    second = build.package_source_hash(pkg)
    (pkg / "a.py").write_text("x = 2\n")
    assert len({first, second, build.package_source_hash(pkg)}) == 3


def test_normalize_notebook_strips_run_specific_metadata():
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"start_time": "now"}})
    cell = nbformat.v4.new_code_cell("1", execution_count=7)
    cell.metadata["papermill"] = {"duration": 1.0}
    cell.metadata["execution"] = {"iopub.execute_input": "2024"}
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=7)]
    nb.cells = [cell]
    out = build.normalize_notebook(nb)
    assert "papermill" not in out.metadata
    assert out.cells[0].metadata == {} and out.cells[0].execution_count is None
    assert out.cells[0].outputs[0].execution_count is None and out.cells[0].id == "cell-000"


def test_swap_dir_replaces_the_report_atomically(tmp_path):
    target, new = tmp_path / "report" / PHASE, tmp_path / "report" / f".{PHASE}.new-1"
    target.mkdir(parents=True)
    (target / "old.html").write_text("old")
    new.mkdir()
    (new / "datenreport.html").write_text("new")
    build.swap_dir(new, target)
    assert sorted(p.name for p in target.iterdir()) == ["datenreport.html"]
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [PHASE]


def test_swap_dir_touches_only_the_target_and_its_temporary_siblings(tmp_path):
    reports = tmp_path / "report"
    target, other = reports / PHASE, reports / "2015-2016"
    for folder in (target, other, tmp_path / "elsewhere"):
        folder.mkdir(parents=True)
        (folder / "keep.html").write_text(folder.name)
    for new in (other, tmp_path / "elsewhere", reports / ".new"):
        with pytest.raises(ThinkaError, match="Refusing to swap"):
            build.swap_dir(new, target)
    assert all((f / "keep.html").read_text() == f.name for f in (target, other, tmp_path / "elsewhere"))


def test_swap_dir_puts_the_old_report_back_when_the_second_rename_fails(tmp_path, monkeypatch):
    target, new = tmp_path / "report" / PHASE, tmp_path / "report" / f".{PHASE}.new-1"
    target.mkdir(parents=True)
    (target / "datenreport.html").write_text("old")
    new.mkdir()
    real_rename = os.rename

    def rename(src, dst):
        if Path(src) == new:
            raise OSError("disk full")
        real_rename(src, dst)

    monkeypatch.setattr(build.os, "rename", rename)
    with pytest.raises(OSError, match="disk full"):
        build.swap_dir(new, target)
    assert (target / "datenreport.html").read_text() == "old"
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([PHASE, new.name])


def _good_report(tmp_path: Path) -> PhasePaths:
    """A project whose report/<phase>/ holds a (stand-in) last good report."""
    paths = PhasePaths(tmp_path, PHASE)
    for name, text in {"datenreport.html": "<p>gut</p>", "datenreport.pdf": "%PDF gut",
                       "standorte/S01.html": "<p>S01</p>", "daten/schaubild_01.csv": "site;pct\nall;10\n"}.items():
        (paths.report / name).parent.mkdir(parents=True, exist_ok=True)
        (paths.report / name).write_text(text)
    return paths


def _fake_stitch(paths, out_dir, notebooks, *, code_hash):
    from thinka.io import atomic_write_text

    return [atomic_write_text(out_dir / name, "neu", within=out_dir)
            for name in ("datenreport.html", "daten/schaubild_01.csv", "standorte/S01.html")]


def _fail(*args, **kwargs):
    raise RuntimeError("kaputt nach den Einheiten")


@pytest.mark.parametrize("broken", ["pdf", "stitch", "chart-csv", "foreign-path"])
def test_a_failure_after_the_units_keeps_the_last_good_report(tmp_path, monkeypatch, broken, tree_digest):
    from thinka import pdf, stitch

    paths = _good_report(tmp_path)
    before = tree_digest(paths.report)
    monkeypatch.setattr(stitch, "stitch_phase", _fake_stitch)
    if broken == "pdf":
        monkeypatch.setattr(pdf, "write_pdf", _fail)
    elif broken == "stitch":
        def stitch_then_fail(paths, out_dir, notebooks, *, code_hash):
            _fake_stitch(paths, out_dir, notebooks, code_hash=code_hash)
            _fail()
        monkeypatch.setattr(stitch, "stitch_phase", stitch_then_fail)
    elif broken == "foreign-path":  # a stage reports a file outside the new report (once an error after the swap)
        monkeypatch.setattr(stitch, "stitch_phase", lambda *a, **k: [*_fake_stitch(*a, **k), tmp_path / "x.html"])
    else:  # a chart CSV whose name would leave the report folder
        def escaping_csv(paths, out_dir, notebooks, *, code_hash):
            from thinka.io import atomic_write_text, safe_join

            _fake_stitch(paths, out_dir, notebooks, code_hash=code_hash)
            atomic_write_text(safe_join(out_dir / "daten" / "standorte", "../../../" + PHASE) / "x.csv", "x",
                              within=out_dir)
        monkeypatch.setattr(stitch, "stitch_phase", escaping_csv)
    with pytest.raises((RuntimeError, ThinkaError)):
        build.publish_report(paths, {}, code_hash="h", pdf=True)
    assert tree_digest(paths.report) == before, "the last good report must stay byte-identical"
    assert sorted(p.name for p in paths.report.parent.iterdir()) == [PHASE], "no temporary folders may remain"


def test_publish_report_swaps_in_the_new_report_as_the_last_step(tmp_path, monkeypatch):
    from thinka import pdf, stitch

    paths = _good_report(tmp_path)
    seen = []

    def fake_pdf(html, target, **_options):
        seen.append((paths.report / "datenreport.html").read_text())  # the old report is still published
        return Path(target).write_bytes(b"%PDF neu") and Path(target)

    monkeypatch.setattr(stitch, "stitch_phase", _fake_stitch)
    monkeypatch.setattr(pdf, "write_pdf", fake_pdf)
    written = build.publish_report(paths, {}, code_hash="h", pdf=True)
    assert seen == ["<p>gut</p>"]
    assert (paths.report / "datenreport.html").read_text() == "neu"
    assert paths.report / "datenreport.pdf" in written
    assert not (paths.report / "datenreport.txt").exists()
    assert sorted(p.name for p in paths.report.parent.iterdir()) == [PHASE]


@pytest.mark.parametrize("phase", ["..", "../report", "a/b", ".hidden"])
def test_publish_report_refuses_a_phase_that_leaves_report(tmp_path, monkeypatch, phase):
    from thinka import stitch

    monkeypatch.setattr(stitch, "stitch_phase", _fake_stitch)
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(ThinkaError):
        build.publish_report(PhasePaths(tmp_path / "p", phase), {}, code_hash="h", pdf=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_published_chart_csvs_neutralise_formulas_in_site_names(phase_copy, tmp_path):
    import pandas as pd

    from thinka.io import is_within
    from thinka.process import process_phase
    from thinka.stitch import write_chart_data

    hostile = {"S01": '=HYPERLINK("http://example.org","klick")', "S02": "+1", "S03": "@SUM(1)", "S04": "-Nord"}
    text = phase_copy.config.read_text(encoding="utf-8")
    for code, name in hostile.items():
        text = text.replace(f'name: "Standort {code[1:]} (Platzhalter)"', "name: '" + name + "'")
    phase_copy.config.write_text(text, encoding="utf-8")
    config, codebook = load_phase(phase_copy.config), load_codebook(phase_copy.codebook)
    assert config.site("S01").name == hostile["S01"]
    process_phase(phase_copy)
    out = tmp_path / "out"
    written = write_chart_data(phase_copy, out, codebook, config)
    assert written and all(is_within(p, out) for p in written)

    for code, name in hostile.items():
        frame = pd.read_csv(out / "daten" / "standorte" / code / "schaubild_01.csv", sep=";", dtype={"site_label": str})
        labels = set(frame["site_label"])
        assert "'" + name in labels and name not in labels, (code, labels)
    raw = (out / "daten" / "standorte" / "S01" / "schaubild_01.csv").read_text(encoding="utf-8")
    assert not any(line.startswith(("=", "+", "@")) or ";=" in line or ";+" in line or ";@" in line
                   for line in raw.splitlines())


def test_summary_names_each_failed_unit_and_its_log(tmp_path):
    unit = Unit("verwaltung", "S03")
    result = BuildResult(PHASE, [unit], failures=[UnitFailure(unit, "RuntimeError: kaputt", tmp_path / "f.ipynb")])
    assert not result.ok
    text = result.summary()
    assert "verwaltung-S03" in text and "RuntimeError: kaputt" in text and str(tmp_path / "f.ipynb") in text


def test_unknown_engine_and_bad_jobs_are_user_errors(tmp_path):
    paths = make_project(tmp_path)
    with pytest.raises(ThinkaError, match="engine"):
        build.build_phase(paths, engine="latex", progress=False)
    with pytest.raises(ThinkaError, match="jobs"):
        build.build_phase(paths, jobs=0, progress=False)


def test_generated_notebook_unless_the_project_keeps_its_own(tmp_path):
    """An installed thinka builds without a notebooks/ folder (each dimension's notebook is generated into build/);
    a project's own copy wins, and editing it changes its units' cache keys."""
    from thinka.notebook_gen import dimension_notebook, notebook_text

    paths = make_project(tmp_path)
    codebook = load_codebook(paths.codebook)
    assert not paths.notebooks.exists()
    files = build.notebook_files(paths, codebook)
    for d in codebook.dimensions:
        assert files[d.id] == paths.build / "notebooks" / d.notebook
        assert files[d.id].read_text(encoding="utf-8") == notebook_text(dimension_notebook(codebook, d.id, PHASE))
    assert sorted(p.name for p in (paths.build / "notebooks").iterdir()) == sorted(d.notebook for d in codebook.dimensions)
    written = {d: p.stat().st_mtime_ns for d, p in files.items()}
    assert {d: p.stat().st_mtime_ns for d, p in build.notebook_files(paths, codebook).items()} == written, \
        "unchanged notebooks are not rewritten"

    def key(path: Path) -> str:
        return build.unit_key(path.read_bytes(), {}, "f", "s", {})

    generated = key(files["verwaltung"])
    own = paths.notebooks / "verwaltung.ipynb"
    own.parent.mkdir()
    own.write_bytes(files["verwaltung"].read_bytes())  # an unedited copy: same bytes, same key
    files = build.notebook_files(paths, codebook)
    assert files["verwaltung"] == own and files["sozialraum"] == paths.build / "notebooks" / "sozialraum.ipynb"
    assert key(files["verwaltung"]) == generated
    own.write_text(own.read_text(encoding="utf-8").replace("render_schaubild(unit, 17)", "render_schaubild(unit, 18)"),
                   encoding="utf-8")
    assert key(build.notebook_files(paths, codebook)["verwaltung"]) != generated


def test_generated_notebooks_stay_inside_the_build_folder(tmp_path):
    paths = make_project(tmp_path)
    codebook = load_codebook(paths.codebook)
    bad = dataclasses.replace(codebook, dimensions=(dataclasses.replace(codebook.dimensions[0], notebook="../../x.ipynb"),
                                                     *codebook.dimensions[1:]))
    with pytest.raises(ThinkaError, match=r"'\.\./\.\./x\.ipynb'"):
        build.notebook_files(paths, bad)
    assert not (tmp_path / "x.ipynb").exists() and not (paths.root / "build" / "x.ipynb").exists()


# ----------------------------------------------------------------------------------------------------------------
# Whole builds


@pytest.mark.slow
def test_full_build_executes_every_unit_and_publishes(full_build):
    paths, result, seconds = full_build
    assert result.ok, result.summary()
    assert len(result.executed) == 36 and not result.cached and result.stitched
    assert len(list((paths.build / "units").glob("*.ipynb"))) == 36
    cache = json.loads((paths.build / "cache.json").read_text())
    assert len(cache["units"]) == 36 and cache["stitch"]
    for name in ("datenreport.html", "datenreport.pdf", "standorte/S01.html", "standorte/S11.html"):
        assert (paths.report / name).is_file(), name
    leftovers = [p.name for p in paths.report.parent.iterdir() if p.name != PHASE]
    assert leftovers == [], "temporary report folders must not remain"
    # The kernels' caches stay inside the build folder.
    assert (paths.build / ".cache" / "mpl").is_dir()
    executed = nbformat.read(str(paths.build / "units" / "sozialraum-S01.ipynb"), as_version=4)
    assert "papermill" not in executed.metadata


@pytest.mark.slow
def test_rebuild_without_changes_executes_nothing(full_build, tmp_path, tree_digest):
    paths = copy_project(full_build[0], tmp_path / "p")
    before = tree_digest(paths.report)
    started = time.perf_counter()
    result = run_build(paths)
    seconds = time.perf_counter() - started
    assert result.ok and result.executed == [] and len(result.cached) == 36
    assert not result.stitched, "nothing changed: the stitch key must skip re-stitching"
    assert tree_digest(paths.report) == before
    assert seconds < 5, f"a no-change rebuild took {seconds:.1f} s"


def _add_consultation(paths: PhasePaths, site: str) -> None:
    path = paths.raw / "projektstatistik.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    sep = ";" if lines[0].count(";") > lines[0].count(",") else ","
    header = lines[0].rstrip("\r\n").split(sep)
    i_site, i_cons = header.index("standort"), header.index("beratungen")
    for i in range(len(lines) - 1, 0, -1):
        cells = lines[i].rstrip("\r\n").split(sep)
        if cells[i_site] == site:
            cells[i_cons] = str(int(cells[i_cons]) + 1)
            lines[i] = sep.join(cells) + "\n"
            break
    path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.slow
def test_one_site_change_reruns_only_that_site_and_the_total(full_build, tmp_path):
    paths = copy_project(full_build[0], tmp_path / "p")
    old_html = (paths.report / "datenreport.html").read_bytes()
    _add_consultation(paths, "S05")
    result = run_build(paths, pdf=False)
    assert result.ok, result.summary()
    assert sorted(u.name for u in result.executed) == ["individual-S05", "individual-all"]
    assert result.stitched and (paths.report / "datenreport.html").read_bytes() != old_html


def _make_site_fail(paths: PhasePaths, dimension: str, site: str) -> None:
    """Keep a project copy of the generated notebook that fails for one site (the copy wins over the generated one)."""
    path = paths.notebooks / f"{dimension}.ipynb"
    nb = nbformat.read(str(paths.build / "notebooks" / f"{dimension}.ipynb"), as_version=4)
    path.parent.mkdir(exist_ok=True)
    nb.cells.append(nbformat.v4.new_code_cell(f'if site == "{site}":\n    raise RuntimeError("Testfehler am Standort")'))
    nbformat.write(nb, str(path))


@pytest.mark.slow
def test_failing_unit_is_isolated_and_the_report_kept(full_build, tmp_path, capsys, tree_digest):
    from thinka.cli import main

    paths = copy_project(full_build[0], tmp_path / "p")
    before = tree_digest(paths.report)
    _make_site_fail(paths, "verwaltung", "S03")
    with pinned_source():
        code = main(["build", "--root", str(paths.root), "--phase", PHASE, "--no-progress"])
    out = capsys.readouterr()
    assert code != 0
    text = out.out + out.err
    failed = paths.build / "failed" / "verwaltung-S03.ipynb"
    assert "verwaltung-S03" in text and str(failed) in text and "Testfehler" in text
    assert failed.is_file(), "the executed notebook is kept as the log"
    assert "Testfehler am Standort" in failed.read_text(encoding="utf-8")
    # Every other unit of the changed notebook finished and is cached; the report is untouched.
    cache = json.loads((paths.build / "cache.json").read_text())
    assert "verwaltung-S03" not in cache["units"] and "verwaltung-S04" in cache["units"]
    assert tree_digest(paths.report) == before


@pytest.mark.slow
@pytest.mark.parametrize("broken", ["pdf", "chart-csv"])
def test_real_build_failing_after_the_units_keeps_the_last_good_report(full_build, tmp_path, monkeypatch, capsys,
                                                                        broken, tree_digest):
    from thinka import pdf, stitch
    from thinka.cli import main

    paths = copy_project(full_build[0], tmp_path / "p")
    before = tree_digest(paths.report)
    cache = json.loads((paths.build / "cache.json").read_text())
    cache["stitch"] = "stale"  # every unit is cached, but the report must be stitched again
    (paths.build / "cache.json").write_text(json.dumps(cache))
    if broken == "pdf":
        monkeypatch.setattr(pdf, "write_pdf", _fail)
    else:
        real = stitch.write_chart_data

        def half_then_fail(*args, **kwargs):
            real(*args, **kwargs)
            _fail()

        monkeypatch.setattr(stitch, "write_chart_data", half_then_fail)
    with pinned_source():
        code = main(["build", "--root", str(paths.root), "--phase", PHASE, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 3 and "kaputt nach den Einheiten" in err and "Traceback" not in err
    assert tree_digest(paths.report) == before, "the last good report must stay byte-identical"
    assert sorted(p.name for p in paths.report.parent.iterdir()) == [PHASE], "no temporary folders may remain"
