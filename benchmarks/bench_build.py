"""Benchmark: thinka's build against a naive baseline, in one run, on copies of the shipped data.

Scenarios (each in its own scratch project folder, so nothing in the checkout is touched):
  cold        `thinka build` with an empty cache
  no-change   the same build again: every unit should come from the cache
  one-site    one site's running statistics change: only that site's units and the overall units re-run
Baseline: the naive loop a user would write: `papermill` CLI for each of the same notebooks and units, then
`jupyter nbconvert --to html --no-input` for each executed notebook. It has no cache, so it costs the same in
all three scenarios.

Prints wall time, CPU time of child processes, peak memory of the largest child, and baseline/thinka ratios.
Usage: python benchmarks/bench_build.py [--phase 2013-2014] [--sites S01,S02] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Timing:
    label: str
    wall: float
    cpu: float
    peak_mb: float
    note: str = ""


def scratch_project(phase: str, parent: Path, name: str) -> Path:
    """A project folder (thinka.yaml and a copy of the phase's raw data); thinka generates its notebooks."""
    root = parent / name
    shutil.copytree(REPO / "data" / "raw" / phase, root / "data" / "raw" / phase)
    shutil.copy2(REPO / "thinka.yaml", root / "thinka.yaml")
    return root


def timed(label: str, cmds: list[list[str]], env: dict, note: str = "") -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for cmd in cmds:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"benchmark step failed: {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(label, wall, cpu, after.ru_maxrss / 1024, note)


def env_for(root: Path) -> dict:
    env = dict(os.environ, THINKA_ROOT=str(root), PYTHONHASHSEED="0")
    env.setdefault("SOURCE_DATE_EPOCH", "1427760000")
    for var, sub in (("MPLCONFIGDIR", "mpl"), ("IPYTHONDIR", "ipython"), ("JUPYTER_RUNTIME_DIR", "jupyter")):
        env[var] = str(root / ".bench-cache" / sub)
    return env


def change_one_site(root: Path, phase: str, site: str) -> None:
    """Add one consultation to `site`'s last quarter: a change an office makes when a report is corrected."""
    path = root / "data" / "raw" / phase / "projektstatistik.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(";")
    col_site, col_cons = header.index("standort"), header.index("beratungen")
    for i in range(len(lines) - 1, 0, -1):
        cells = lines[i].rstrip("\n").split(";")
        if cells[col_site] == site:
            cells[col_cons] = str(int(cells[col_cons]) + 1)
            lines[i] = ";".join(cells) + "\n"
            break
    path.write_text("".join(lines), encoding="utf-8")


def thinka_build(root: Path, phase: str, sites: str | None) -> list[str]:
    cmd = [str(BIN / "thinka"), "build", "--phase", phase, "--no-progress"]
    return cmd + (["--sites", sites] if sites else [])


def units(root: Path, phase: str, sites: str | None) -> list[tuple[str, str]]:
    sys.path.insert(0, str(REPO))
    from thinka.codebook import load_codebook, load_phase

    config = load_phase(root / "data" / "raw" / phase / "phase.yaml")
    codebook = load_codebook(root / "data" / "raw" / phase / "codebook.yaml")
    chosen = sites.split(",") if sites else list(config.site_codes)
    return [(d.notebook, s) for d in codebook.dimensions for s in ["all", *chosen]]


def baseline_commands(root: Path, phase: str, sites: str | None) -> list[list[str]]:
    out = root / "baseline"
    out.mkdir(exist_ok=True)
    cmds = []
    for notebook, site in units(root, phase, sites):
        executed = out / f"{Path(notebook).stem}__{site}.ipynb"
        cmds.append([
            str(BIN / "papermill"), str(root / "notebooks" / notebook), str(executed),
            "-p", "phase", phase, "-p", "site", site, "-p", "root", str(root), "--log-level", "ERROR",
        ])
        cmds.append([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed), "--log-level", "ERROR"])
    return cmds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", default="2013-2014")
    parser.add_argument("--sites", help="restrict to these sites (comma-separated) for a quicker run")
    parser.add_argument("--changed-site", default="S03", help="the site whose data change in the one-site scenario")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="thinka-bench-") as tmp:
        tmp = Path(tmp)
        root = scratch_project(args.phase, tmp, "thinka")
        env = env_for(root)
        n_units = len(units(root, args.phase, args.sites))
        print(f"thinka benchmark: phase {args.phase}, {n_units} units, {os.cpu_count()} cores", flush=True)

        results = [timed("cold build", [thinka_build(root, args.phase, args.sites)], env)]
        results.append(timed("no-change rebuild", [thinka_build(root, args.phase, args.sites)], env))
        change_one_site(root, args.phase, args.changed_site)
        results.append(timed(f"one-site change ({args.changed_site})", [thinka_build(root, args.phase, args.sites)], env))

        baseline = None
        if not args.skip_baseline:
            base_root = scratch_project(args.phase, tmp, "baseline")
            base_env = env_for(base_root)
            # The baseline gets its processed tables for free: only notebook execution and conversion are timed.
            subprocess.run([str(BIN / "thinka"), "process", "--phase", args.phase], env=base_env, check=True, capture_output=True)
            # The same notebooks thinka runs, written where the naive loop expects them.
            subprocess.run([str(BIN / "thinka"), "notebooks", "--phase", args.phase], env=base_env, check=True,
                           capture_output=True)
            baseline = timed("naive loop (papermill CLI + nbconvert)", baseline_commands(base_root, args.phase, args.sites), base_env)

    print(f"\n{'scenario':44} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'baseline/thinka':>16}")
    for t in results:
        ratio = f"{baseline.wall / t.wall:14.1f}x" if baseline else "-"
        print(f"{t.label:44} {t.wall:8.1f} {t.cpu:8.1f} {t.peak_mb:8.0f} {ratio:>16}")
    if baseline:
        print(f"{baseline.label:44} {baseline.wall:8.1f} {baseline.cpu:8.1f} {baseline.peak_mb:8.0f} {'1.0x':>16}")
        print("\nThe baseline has no cache: its cost is the same for a cold build, a no-change rebuild and a one-site change.")


if __name__ == "__main__":
    main()
