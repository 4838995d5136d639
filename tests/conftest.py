"""Shared, generic fixtures. Keep this file small: stage-specific fixtures live in the stage's test file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thinka.paths import PhasePaths, project_root

PHASE = "2013-2014"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout under test (read-only: never write below it in a test)."""
    return project_root()


@pytest.fixture
def phase_copy(repo_root: Path, tmp_path: Path) -> PhasePaths:
    """A private copy of data/raw/2013-2014 under tmp_path, as PhasePaths(tmp_path, "2013-2014").

    Tests may modify or break the copy freely; the shipped raw data stay untouched.
    """
    src = repo_root / "data" / "raw" / PHASE
    dst = tmp_path / "data" / "raw" / PHASE
    shutil.copytree(src, dst)
    return PhasePaths(tmp_path, PHASE)
