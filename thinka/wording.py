"""The German words thinka puts around the data (marks, reasons, notices, headings, captions, the front and back
matter of the report), from templates/wording.de.yaml.

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


def _merge(base: dict[str, Any], overrides: Any, where: str) -> dict[str, Any]:
    """`base` with `overrides` laid over it key by key, at every depth; a key `base` lacks is refused."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: expected a mapping of {', '.join(base)}, got {overrides!r}.",
                          hint="Override single entries with the keys of thinka/templates/wording.de.yaml.")
    out = dict(base)
    for key, value in overrides.items():
        if key not in base:
            raise ConfigError(f"{where}: unknown key {key!r}; allowed: {', '.join(base)}.",
                              hint="The keys are those of thinka/templates/wording.de.yaml, with the same nesting.")
        out[key] = _merge(base[key], value, f"{where}.{key}") if isinstance(base[key], dict) else value
    return out


def _merged(overrides: dict | None) -> dict[str, Any]:
    return _merge(_base(), overrides or {}, "report.wording")


def words(config=None) -> dict[str, Any]:
    """The wording for a phase (thinka's German defaults under the phase's `report.wording`). Read it, do not
    change it: parts of it are shared between calls."""
    overrides = (getattr(config, "report", None) or {}).get("wording") if config is not None else None
    return _merged(overrides)


MARKS = _base()["marks"]
HIDDEN, ZERO, NOT_APPLICABLE = MARKS["hidden"], MARKS["zero"], MARKS["not_applicable"]


def mark_of(reason: str) -> str:
    """The mark shown for a value that is not shown for `reason` (thinka.api.REASONS)."""
    return NOT_APPLICABLE if reason == "not_applicable" else HIDDEN if reason else ""


def reason_text(reason: str, threshold: int, config=None) -> str:
    return words(config)["reasons"][reason].format(t=threshold)


def german_date(day, config=None) -> str:
    """A date as the report prints it: '31. März 2015'."""
    d = words(config)["dates"]
    return d["date"].format(day=day.day, month=d["months"][day.month - 1], year=day.year)


def and_list(names, config=None) -> str:
    """'A', 'A und B', 'A, B und C'."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {words(config)['front']['and']} " + names[-1]
