"""Where things live: the project folder, and below it everything keyed by funding phase (`data/raw/<phase>/`, ...).

A project is a folder with a `thinka.yaml` marker (programme-wide settings), found the way git, Kedro and Quarto find
theirs: an explicit `--root`, else `$THINKA_ROOT`, else the nearest folder from the working directory upwards that
holds the marker. Never the folder thinka is installed in.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from thinka.errors import ThinkaError

ROOT_ENV = "THINKA_ROOT"
MARKER = "thinka.yaml"
_CREATE_HINT = (
    "Run thinka inside a project folder, pass --root FOLDER or set THINKA_ROOT; "
    "`thinka init FOLDER` creates a new project."
)


def _checked_project(folder: Path, source: str) -> Path:
    folder = folder.expanduser().resolve()
    if not (folder / MARKER).is_file():
        raise ThinkaError(f"{source} names {folder}, which is not a thinka project (it has no {MARKER}).", hint=_CREATE_HINT)
    return folder


def find_project(root: str | Path | None = None, *, start: Path | None = None) -> Path:
    """The project folder: `root` if given, else $THINKA_ROOT, else the nearest folder holding `thinka.yaml` from
    `start` (default: the working directory) upwards. Raises a ThinkaError saying how to create one."""
    if root is not None:
        return _checked_project(Path(root), "--root")
    if env := os.environ.get(ROOT_ENV):
        return _checked_project(Path(env), f"${ROOT_ENV}")
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    raise ThinkaError(f"No thinka project found in {here} or any folder above it (no {MARKER}).", hint=_CREATE_HINT)


# Names that become folder or file names (phase, site codes, instrument and dimension ids): nothing that can leave
# a folder ('..', '/', '\\', an absolute path) or hide a file (a leading '.').
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SAFE_NAME_RULE = "letters A-Z and a-z, digits, '-' and '_', starting with a letter or digit, at most 64 characters"


def is_safe_name(name: object) -> bool:
    return isinstance(name, str) and SAFE_NAME.fullmatch(name) is not None


def project_root() -> Path:
    """The project found from the environment and the working directory (see `find_project`)."""
    return find_project()


@dataclass(frozen=True)
class PhasePaths:
    """All paths of one funding phase below a project root."""

    root: Path
    phase: str

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw" / self.phase

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed" / self.phase

    @property
    def report(self) -> Path:
        return self.root / "report" / self.phase

    @property
    def build(self) -> Path:
        """Executed notebooks and the unit cache (not published, safe to delete)."""
        return self.root / "build" / self.phase

    @property
    def config(self) -> Path:
        return self.raw / "phase.yaml"

    @property
    def settings(self) -> Path:
        """The project's thinka.yaml: programme-wide defaults under every phase.yaml."""
        return self.root / MARKER

    @property
    def codebook(self) -> Path:
        return self.raw / "codebook.yaml"

    @property
    def texts(self) -> Path:
        """The report's editable German prose, with numbers bound to computed values."""
        return self.raw / "texte"

    @property
    def published(self) -> Path:
        """Figures printed in an earlier edition of the report, with registered deviations (optional)."""
        return self.raw / "published_figures.yaml"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"


def list_phases(root: Path | None = None) -> list[str]:
    raw = (Path(root) if root else project_root()) / "data" / "raw"
    return sorted(p.name for p in raw.iterdir() if (p / "phase.yaml").is_file()) if raw.is_dir() else []


def phase_paths(phase: str, root: Path | None = None) -> PhasePaths:
    """Paths of `phase` in the project `root` (default: `find_project()`); raises a ThinkaError naming the known
    phases if it has no phase.yaml."""
    root = find_project(root)
    if not is_safe_name(phase):
        raise ThinkaError(f"Phase name {phase!r} is not allowed: {SAFE_NAME_RULE}.",
                          hint="Pass the name of a folder below data/raw/, e.g. --phase 2013-2014.")
    paths = PhasePaths(root, phase)
    if not paths.config.is_file():
        known = ", ".join(list_phases(root)) or "none"
        raise ThinkaError(
            f"Unknown phase {phase!r}: {paths.config} does not exist (known phases: {known}).",
            hint="Create data/raw/<phase>/phase.yaml and codebook.yaml; see data/raw/README.md.",
        )
    return paths
