"""Build stage: execute every unit's notebook (cached, in parallel), then stitch report/<phase>/.

A unit is one dimension's notebook run for one site (or for `all`). Its cache key covers everything that can
change its output: the notebook, its parameters, the data it reads (`thinka.api.unit_fingerprint`), thinka's own
source and the versions of the packages that draw and execute. A rebuild with nothing changed starts no kernel.

Failures are isolated: a failing unit does not stop the others, and when any unit failed the published report
stays as it was (the last good report). The executed notebook of a failed unit is kept as its log.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from thinka import COMPARISON, __version__
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths
from thinka.renderers import DEFAULT_ENGINE, get_renderer
from thinka.units import Unit, api_units, plan_units
KERNEL_NAME = "python3"
MAX_WORKERS = 3  # measured: 2-3 workers beat more on 2-core machines (kernel start-up contends for CPU)
CACHE_VERSION = 1
PORT_RACE = "Address already in use"
# Packages whose version changes what a notebook draws or how it is executed and exported.
KEY_PACKAGES = (
    "pandas", "numpy", "pyarrow", "matplotlib", "seaborn", "papermill", "nbclient", "nbformat", "nbconvert",
    "ipykernel", "weasyprint", "statsmodels",
)
PACKAGE_DIR = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------------------------------------------
# Units (thinka.units: what a unit is; here: how it is executed)


def unit_parameters(paths: PhasePaths, unit: Unit) -> dict[str, Any]:
    """The values papermill injects into the notebook's `parameters` cell."""
    return {"phase": paths.phase, "site": unit.site, "root": str(paths.root), "dimension": unit.dimension}


def key_parameters(paths: PhasePaths, unit: Unit) -> dict[str, Any]:
    """The parameters that enter the cache key. `root` is left out: where the project folder lives does not
    change what a notebook shows (its data are in the fingerprint), and a moved or copied checkout stays cached."""
    return {k: v for k, v in unit_parameters(paths, unit).items() if k != "root"}


# ----------------------------------------------------------------------------------------------------------------
# Cache keys (pure)


def sha256_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def unit_key(notebook: bytes, parameters: dict, fingerprint: str, source_hash: str, versions: dict) -> str:
    """sha256 over everything that determines a unit's executed notebook."""
    return sha256_json({
        "cache": CACHE_VERSION,
        "notebook": hashlib.sha256(notebook).hexdigest(),
        "parameters": parameters,
        "fingerprint": fingerprint,
        "source": source_hash,
        "versions": versions,
    })


def tree_hash(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over (relative name, content) pairs, independent of the order they are listed in."""
    h = hashlib.sha256()
    for name, data in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def package_source_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """Hash of thinka's Python modules and report templates: code changes invalidate every unit."""
    files = [p for p in package_dir.glob("*.py")]
    files += [p for p in (package_dir / "templates").rglob("*") if p.is_file()]
    return tree_hash((p.relative_to(package_dir).as_posix(), p.read_bytes()) for p in files if "__pycache__" not in p.parts)


def environment_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "thinka": __version__}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def dir_hash(folder: Path) -> str:
    """Hash of every file below `folder` ('' when it does not exist)."""
    if not folder.is_dir():
        return ""
    return tree_hash((p.relative_to(folder).as_posix(), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


# ----------------------------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class UnitFailure:
    unit: Unit
    error: str
    notebook: Path


@dataclass
class BuildResult:
    phase: str
    units: list[Unit]
    executed: list[Unit] = field(default_factory=list)
    cached: list[Unit] = field(default_factory=list)
    failures: list[UnitFailure] = field(default_factory=list)
    stitched: bool = False
    report: Path | None = None
    outputs: list[Path] = field(default_factory=list)
    note: str = ""
    seconds: float = 0.0
    unit_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines = [
            f"Phase {self.phase}: {len(self.units)} units, {len(self.executed)} executed, "
            f"{len(self.cached)} from the cache, {len(self.failures)} failed."
        ]
        for f in self.failures:
            lines.append(f"  FAILED {f.unit.name}: {f.error}\n    log: {f.notebook}")
        if self.failures:
            lines.append(f"The report was not rebuilt; {self.report or 'report/<phase>/'} still holds the last good one.")
        elif self.stitched:
            lines.append(f"Report written to {self.report}")
        elif self.report is not None:
            lines.append(f"Report up to date: {self.report}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# Cache index (I/O)


def _cache_path(paths: PhasePaths) -> Path:
    return paths.build / "cache.json"


def load_cache(paths: PhasePaths) -> dict:
    try:
        data = json.loads(_cache_path(paths).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"version": CACHE_VERSION, "units": {}, "stitch": None}
    if data.get("version") != CACHE_VERSION:
        return {"version": CACHE_VERSION, "units": {}, "stitch": None}
    data.setdefault("units", {})
    data.setdefault("stitch", None)
    return data


def save_cache(paths: PhasePaths, cache: dict) -> None:
    from thinka.io import atomic_write_text

    atomic_write_text(_cache_path(paths), json.dumps(cache, indent=1, sort_keys=True) + "\n", within=paths.build)


def safe_join(base: Path, *parts: str) -> Path:
    from thinka.io import safe_join as join  # lazily: thinka.io imports pandas, which workers need not load

    return join(base, *parts)


def unit_notebook(paths: PhasePaths, unit: Unit) -> Path:
    return safe_join(paths.build / "units", f"{unit.name}.ipynb")


def failed_notebook(paths: PhasePaths, unit: Unit) -> Path:
    return safe_join(paths.build / "failed", f"{unit.name}.ipynb")


def is_fresh(paths: PhasePaths, cache: dict, unit: Unit, key: str) -> bool:
    return cache["units"].get(unit.name) == key and unit_notebook(paths, unit).is_file()


# ----------------------------------------------------------------------------------------------------------------
# Hooks into the other stages (imported lazily: they are heavy or optional)


def _process(paths: PhasePaths) -> None:
    from thinka.process import process_phase

    process_phase(paths)


def _fingerprints(paths: PhasePaths, config, codebook, units: list[Unit]) -> dict[str, str]:
    """unit name -> thinka.api.unit_fingerprint: a hash of exactly what the unit's notebook reads."""
    from thinka import api

    return {u.name: str(api.unit_fingerprint(bundle)) for u, bundle in api_units(paths, config, codebook, units).items()}


# ----------------------------------------------------------------------------------------------------------------
# Execution (runs in worker processes; papermill is not thread-safe)


def _short_error(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _error_notebook(path: Path, input_path: Path, message: str) -> None:
    """A log notebook for a unit whose execution produced none (e.g. the kernel never started)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# Execution failed\n\nNotebook: `{input_path}`\n\n```\n{message}\n```"))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _quiet_kernels(log_dir: Path) -> None:
    """Send this worker's stderr (inherited by its kernels, which warn on every start) to a log file."""
    if getattr(_quiet_kernels, "done", False):
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_dir / f"kernels-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    _quiet_kernels.done = True


def execute_unit(job: dict) -> dict:
    """Execute one unit with papermill; keep the output on success, the log notebook on failure."""
    if job.get("quiet", True):
        _quiet_kernels(Path(job["cache_dir"]) / "logs")
    for var, sub in (("MPLCONFIGDIR", "mpl"), ("IPYTHONDIR", "ipython"), ("JUPYTER_RUNTIME_DIR", "jupyter")):
        os.environ[var] = str(Path(job["cache_dir"]) / sub)
        Path(os.environ[var]).mkdir(parents=True, exist_ok=True)
    import papermill

    started = time.perf_counter()
    tmp, out, failed = Path(job["tmp"]), Path(job["output"]), Path(job["failed"])
    tmp.parent.mkdir(parents=True, exist_ok=True)
    error = None
    for attempt in (1, 2):
        try:
            papermill.execute_notebook(
                job["input"], str(tmp), parameters=job["parameters"], kernel_name=KERNEL_NAME,
                progress_bar=False, log_output=False, cwd=job["cwd"],
            )
            error = None
            break
        except Exception as exc:  # noqa: BLE001 - any failure is reported per unit, never raised
            error = exc
            if attempt == 1 and PORT_RACE in str(exc):
                continue  # two kernels raced for a ZMQ port; a second start succeeds
            break
    if error is None:
        write_notebook_atomic(normalize_notebook(_read_nb(tmp)), out, Path(job["build_dir"]))
        tmp.unlink()
        if failed.exists():
            failed.unlink()
        return {"name": job["name"], "ok": True, "error": None, "seconds": time.perf_counter() - started}
    failed.parent.mkdir(parents=True, exist_ok=True)
    if tmp.is_file():
        os.replace(tmp, failed)
    else:
        _error_notebook(failed, Path(job["input"]), _short_error(error))
    return {"name": job["name"], "ok": False, "error": _short_error(error), "seconds": time.perf_counter() - started}


def _read_nb(path: Path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def normalize_notebook(nb):
    """Strip what differs between two executions of the same inputs (timings, papermill state, random ids)."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = None
    return nb


def write_notebook_atomic(nb, path: Path, within: Path) -> None:
    import nbformat

    from thinka.io import atomic_write_text

    atomic_write_text(path, nbformat.writes(nb) + "\n", within=within)


def _jobs_for(paths: PhasePaths, units: list[Unit], notebooks: dict[str, Path]) -> list[dict]:
    return [
        {
            "name": u.name,
            "input": str(notebooks[u.dimension]),
            "tmp": str(safe_join(paths.build / ".tmp", f"{u.name}.ipynb")),
            "output": str(unit_notebook(paths, u)),
            "failed": str(failed_notebook(paths, u)),
            "parameters": unit_parameters(paths, u),
            "cwd": str(paths.root),
            "cache_dir": str(paths.build / ".cache"),
            "build_dir": str(paths.build),
        }
        for u in units
    ]


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="Notebooks", unit="nb", file=sys.stderr, disable=not (enabled and sys.stderr.isatty()))


def run_units(paths: PhasePaths, units: list[Unit], notebooks: dict[str, Path], *, jobs: int | None,
              progress: bool, on_done) -> list[dict]:
    """Execute `units` in a process pool; `on_done(unit, outcome)` is called as each one finishes."""
    if not units:
        return []
    workers = jobs or min(len(units), os.cpu_count() or 1, MAX_WORKERS)
    by_name = {u.name: u for u in units}
    outcomes = []
    # spawn: a fresh interpreter per worker, safe with the threads pandas/tqdm may have started in this process
    ctx = multiprocessing.get_context("spawn")
    with _progress_bar(len(units), progress) as bar, ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx) as pool:
        futures = [pool.submit(execute_unit, job) for job in _jobs_for(paths, units, notebooks)]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            on_done(by_name[outcome["name"]], outcome)
            bar.update(1)
    return outcomes


# ----------------------------------------------------------------------------------------------------------------
# The build


COMPARISON_NOTEBOOK = PACKAGE_DIR / "notebooks" / "comparison.ipynb"
"""The parameterised notebook of the comparison with the previous phase (a project's notebooks/comparison.ipynb wins)."""


def notebook_files(paths: PhasePaths, codebook, config=None) -> dict[str, Path]:
    """Per dimension: the project's own notebooks/<notebook> if it keeps one (it wins), else the notebook generated
    from the codebook (thinka.notebook_gen), written to build/<phase>/notebooks/; the comparison's notebook too when
    `config` names a previous phase.

    Either way the notebook's bytes enter the unit's cache key, so editing a project copy re-runs its units."""
    from thinka.notebook_gen import generated_notebook

    files = {d.id: (own if (own := paths.notebooks / d.notebook).is_file() else generated_notebook(paths, codebook, d.id))
             for d in codebook.dimensions}
    if config is not None and config.previous_phase:
        own = paths.notebooks / COMPARISON_NOTEBOOK.name
        files[COMPARISON] = own if own.is_file() else COMPARISON_NOTEBOOK
    return files


def stitch_key(paths: PhasePaths, unit_keys: dict[str, str], source_hash: str, versions: dict, *, engine: str,
               pdf: bool, pdf_variant: str = "") -> str:
    """sha256 over everything the stitched report shows beyond the executed notebooks."""
    return sha256_json({
        "units": unit_keys,
        "source": source_hash,
        "versions": versions,
        "config": file_hash(paths.config),
        "settings": file_hash(paths.settings),
        "codebook": file_hash(paths.codebook),
        "published": file_hash(paths.published),
        "texts": dir_hash(paths.texts),
        "manifest": file_hash(paths.processed / "manifest.json"),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        "engine": engine,
        "pdf": pdf,
        "pdf_variant": pdf_variant,
    })


def _report_complete(paths: PhasePaths, pdf: bool) -> bool:
    return (paths.report / "datenreport.html").is_file() and (not pdf or (paths.report / "datenreport.pdf").is_file())


def build_phase(paths: PhasePaths, *, sites: Iterable[str] | None = None, jobs: int | None = None,
                engine: str = DEFAULT_ENGINE, progress: bool = True, pdf: bool = True,
                pdf_variant: str | None = None) -> BuildResult:
    """Process the data, execute stale units, and (if every unit succeeded) publish report/<phase>/."""
    from thinka.codebook import load_codebook, load_phase

    started = time.perf_counter()
    get_renderer(engine).check()  # an unknown engine or a missing tool stops the build before any unit runs
    if jobs is not None and jobs < 1:
        raise ThinkaError(f"--jobs must be at least 1, got {jobs}.")
    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    variant = _pdf_variant(config, pdf_variant)  # checked before any unit runs
    notebooks = notebook_files(paths, codebook, config)
    _process(paths)

    all_units = plan_units(config, codebook)
    selected = plan_units(config, codebook, sites)
    source_hash, versions = package_source_hash(), environment_versions()
    nb_bytes = {dim: p.read_bytes() for dim, p in notebooks.items()}
    prints = _fingerprints(paths, config, codebook, all_units)
    keys = {
        u.name: unit_key(nb_bytes[u.dimension], key_parameters(paths, u), prints[u.name], source_hash, versions)
        for u in all_units
    }
    cache = load_cache(paths)
    result = BuildResult(paths.phase, selected)
    stale = [u for u in selected if not is_fresh(paths, cache, u, keys[u.name])]
    result.cached = [u for u in selected if u not in stale]

    def on_done(unit: Unit, outcome: dict) -> None:
        result.unit_seconds[unit.name] = outcome["seconds"]
        if outcome["ok"]:
            cache["units"][unit.name] = keys[unit.name]
            result.executed.append(unit)
        else:
            cache["units"].pop(unit.name, None)
            result.failures.append(UnitFailure(unit, outcome["error"], failed_notebook(paths, unit)))
        save_cache(paths, cache)  # after each unit: an interrupted build keeps what finished

    run_units(paths, stale, notebooks, jobs=jobs, progress=progress, on_done=on_done)
    result.failures.sort(key=lambda f: all_units.index(f.unit))
    result.executed.sort(key=all_units.index)
    result.report = paths.report
    if result.failures:
        result.seconds = time.perf_counter() - started
        return result

    missing = [u.name for u in all_units if not is_fresh(paths, cache, u, keys[u.name])]
    if missing:
        result.note = f"Report not rebuilt: {len(missing)} unit(s) outside --sites are not built yet ({', '.join(missing[:4])}...)."
        result.report = None
        result.seconds = time.perf_counter() - started
        return result
    key = stitch_key(paths, {n: keys[n] for n in sorted(keys)}, source_hash, versions, engine=engine, pdf=pdf,
                     pdf_variant=variant)
    if cache.get("stitch") != key or not _report_complete(paths, pdf):
        result.outputs = publish_report(paths, {(u.dimension, u.site): unit_notebook(paths, u) for u in all_units},
                                        code_hash=source_hash, engine=engine, pdf=pdf, pdf_variant=variant)
        cache["stitch"] = key
        save_cache(paths, cache)
        result.stitched = True
    result.seconds = time.perf_counter() - started
    return result


# ----------------------------------------------------------------------------------------------------------------
# Publishing: build beside report/<phase>/ and swap in atomically


def _report_folder(paths: PhasePaths) -> Path:
    """report/<phase>, refused unless it is a direct child of the project's report/ folder."""
    from thinka.paths import is_safe_name

    reports = paths.root / "report"
    if not is_safe_name(paths.phase):
        raise ThinkaError(f"Refusing to publish phase {paths.phase!r}: not a plain folder name.",
                          hint="A phase name may only contain letters, digits, '-' and '_'.")
    target = safe_join(reports, paths.phase)
    if target.resolve().parent != reports.resolve():
        raise ThinkaError(f"Refusing to publish into {target}: not a folder directly below {reports}.",
                          hint="A phase name may only contain letters, digits, '-' and '_'.")
    return target


def _pdf_variant(config, requested: str | None) -> str:
    """--pdf-variant, else report.pdf_variant of phase.yaml / thinka.yaml, else PDF/UA-1; checked."""
    from thinka.pdf import DEFAULT_VARIANT, check_variant

    return check_variant(requested or str(config.report.get("pdf_variant", DEFAULT_VARIANT)))


def publish_report(paths: PhasePaths, notebooks: dict[tuple[str, str], Path], *, code_hash: str,
                   engine: str = DEFAULT_ENGINE, pdf: bool = True, pdf_variant: str | None = None) -> list[Path]:
    """Render with the engine's renderer (thinka.renderers) and print into a temporary folder beside
    report/<phase>/, then swap it in.

    The swap is the very last step: whatever fails before it (stitching, chart CSVs, Quarto, the PDF) leaves the
    last good report/<phase>/ as it was and removes the temporary folder."""
    renderer = get_renderer(engine)
    target = _report_folder(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.new-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        written = renderer.render(paths, tmp, notebooks, code_hash=code_hash)
        if pdf:
            from thinka.pdf import write_pdf

            written.append(write_pdf(tmp / "datenreport.html", tmp / "datenreport.pdf",
                                     variant=pdf_variant or "pdf/ua-1"))
        # Everything that can fail happens before the swap, even naming the published files.
        published = [target / _inside(p, tmp) for p in written]
        swap_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return published


def _inside(path: Path, folder: Path) -> Path:
    """`path` relative to `folder`; a stage that reports a file outside the report being built is a bug."""
    from thinka.io import is_within

    if not is_within(path, folder):
        raise ThinkaError(f"Refusing to publish: {path} was written outside the new report folder {folder}.")
    return Path(path).resolve().relative_to(folder.resolve())


def swap_dir(new: Path, target: Path) -> None:
    """Replace `target` by `new` with two renames, so readers see the old or the new report, never a mix.

    Only `target` and its temporary siblings (.<name>.new-*, .<name>.old-*) are ever touched; if the second rename
    fails, the old folder is put back."""
    if new.parent != target.parent or not new.name.startswith(f".{target.name}."):
        raise ThinkaError(f"Refusing to swap {new} into {target}: only a temporary sibling '.{target.name}.*' "
                          "may replace it.")
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    had_old = target.exists()
    if had_old:
        os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        if had_old:
            os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
