"""The German words thinka puts around the data (marks, reasons, notices), from templates/wording.de.yaml.

Kept out of the Python code so that wording can be read and changed in one place; a programme may override single
entries in thinka.yaml or phase.yaml under `report.wording` (same keys).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from thinka.errors import ConfigError

WORDING = Path(__file__).resolve().parent / "templates" / "wording.de.yaml"


@lru_cache(maxsize=1)
def _base() -> dict[str, Any]:
    return yaml.safe_load(WORDING.read_text(encoding="utf-8"))


def _merged(overrides: dict | None) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in _base().items()}
    for key, value in (overrides or {}).items():
        if key not in out:
            raise ConfigError(f"report.wording: unknown key {key!r}; allowed: {', '.join(out)}.")
        out[key] = {**out[key], **value} if isinstance(out[key], dict) and isinstance(value, dict) else value
    return out


def words(config=None) -> dict[str, Any]:
    """The wording for a phase (thinka's German defaults under the phase's `report.wording`)."""
    overrides = (getattr(config, "report", None) or {}).get("wording") if config is not None else None
    return _merged(overrides)


MARKS = _base()["marks"]
HIDDEN, ZERO, NOT_APPLICABLE = MARKS["hidden"], MARKS["zero"], MARKS["not_applicable"]


def mark_of(reason: str) -> str:
    """The mark shown for a value that is not shown for `reason` (thinka.api.REASONS)."""
    return NOT_APPLICABLE if reason == "not_applicable" else HIDDEN if reason else ""


def reason_text(reason: str, threshold: int, config=None) -> str:
    return words(config)["reasons"][reason].format(t=threshold)
