"""Optional render engine: quarto, used when a `quarto` executable is on PATH.

quarto cannot be installed from PyPI, apt or npm on the project's machines, so the default engine is nbconvert.
With engine="quarto" the units are still executed by thinka (papermill, cache); quarto only renders the merged,
already executed report notebook (it does not execute .ipynb input by default).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Mapping

from thinka import ALL_SITES
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths

MISSING_HINT = (
    "Install quarto from https://quarto.org/docs/get-started/ (it is not available from PyPI, apt or npm), "
    "or build with the default engine: thinka build --engine nbconvert."
)


def find_quarto() -> Path | None:
    """The `quarto` executable on PATH, or None."""
    found = shutil.which("quarto")
    return Path(found) if found else None


def require_quarto() -> Path:
    exe = find_quarto()
    if exe is None:
        raise ThinkaError("The quarto engine was requested, but no `quarto` executable is on PATH.", hint=MISSING_HINT)
    return exe


def quarto_command(input_path: Path, output_dir: Path, to: str = "html") -> list[str]:
    """The quarto call that renders an executed notebook without re-running it, into one self-contained file."""
    exe = find_quarto()
    return [
        str(exe) if exe else "quarto", "render", str(input_path),
        "--to", to,
        "--output-dir", str(output_dir),
        "--no-execute",
        "-M", "embed-resources:true",
        "-M", "echo:false",
    ]


def render_with_quarto(input_path: Path, output_dir: Path, to: str = "html", *, timeout: float = 600) -> Path:
    """Run quarto; return the output folder. Raises ThinkaError if quarto is absent or fails."""
    require_quarto()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    cmd = quarto_command(Path(input_path), output_dir, to)
    try:
        proc = subprocess.run(cmd, cwd=Path(input_path).parent, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ThinkaError(f"quarto did not finish within {timeout:.0f} s: {' '.join(cmd)}") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-1500:]
        raise ThinkaError(f"quarto failed (exit {proc.returncode}) rendering {input_path}:\n{tail}",
                          hint="Try the default engine: thinka build --engine nbconvert.")
    return output_dir


def render_merged_with_quarto(paths: PhasePaths, out_dir: Path, notebooks: Mapping[tuple[str, str], Path]) -> list[Path]:
    """Merge the overall notebooks and render them with quarto to out_dir/quarto/ (beside the nbconvert report)."""
    import nbformat

    from thinka.codebook import load_codebook, load_phase
    from thinka.stitch import merge_cells, report_cells
    from thinka.wording import words

    codebook = load_codebook(paths.codebook)
    cells = [c for d in codebook.dimensions for c in report_cells(notebooks[(d.id, ALL_SITES)])]
    title = words(load_phase(paths.config))["quarto"]["title"].format(phase=paths.phase)
    nb = merge_cells(cells, metadata={"title": title})
    source = paths.build / "quarto" / "datenreport.ipynb"
    source.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(source))
    target = render_with_quarto(source, out_dir / "quarto", "html")
    return sorted(p for p in target.rglob("*") if p.is_file())
