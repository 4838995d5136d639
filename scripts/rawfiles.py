"""Helpers shared by the scripts that write a phase's raw files (reconstruct_2013_2014.py, make_phase_2015_2016.py).

Pure helpers that turn target counts into respondents' answers, plus the one way both scripts render and write a
raw file (deterministic bytes: "\\n" line endings, optional BOM, atomic replace). Both scripts' tests compare their
output with the shipped files byte for byte, so a change here that alters either phase's files fails a test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MISSING = "9"  # "keine Angabe" of every coded scale
MISSING_COUNT = "-9"  # "keine Angabe" of the count item besuche


@dataclass(frozen=True)
class OutFile:
    """One raw file as an office would export it."""

    instrument: str
    delimiter: str
    bom: bool
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def expand(vector: tuple[int, ...]) -> list[int]:
    """(2, 1) -> [1, 1, 2]: the codes 1..k as often as the vector says, best code first."""
    return [code for code, n in enumerate(vector, start=1) for _ in range(n)]


def assign_by_score(codes: list[int], respondents: list[int], score: np.ndarray, rng: np.random.Generator,
                    noise: float = 1.0) -> dict[int, int]:
    """Give the sorted codes to respondents ordered by score + noise (highest score gets the first code).

    The multiset of codes is kept exactly, so the total distribution is the target, while respondents with a
    high latent score (and sites with a favourable tendency) get the better answers more often.
    """
    noisy = {r: score[r] + rng.normal(0.0, noise) for r in respondents}
    ordered = sorted(respondents, key=lambda r: (-noisy[r], r))
    return dict(zip(ordered, codes, strict=True))


def pick_missing(n_missing: int, propensity: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Respondents who skip an item, drawn without replacement in proportion to their skip propensity."""
    if n_missing < 0:
        raise ValueError("a target vector has more answers than there are respondents")
    if n_missing == 0:
        return []
    p = propensity / propensity.sum()
    return sorted(int(i) for i in rng.choice(len(p), size=n_missing, replace=False, p=p))


def missing_cell(site_uses_code: float, rng: np.random.Generator, code: str = MISSING) -> str:
    """A missing answer as entered: the explicit code or a blank, per the site's data-entry habit."""
    return code if rng.random() < site_uses_code else ""


def is_workday(day: dt.date, holidays: frozenset[dt.date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def next_workday(day: dt.date, holidays: frozenset[dt.date]) -> dt.date:
    """The day itself, or the next workday (questionnaires come back on workdays)."""
    while not is_workday(day, holidays):
        day += dt.timedelta(1)
    return day


def spread_dates(n: int, start: dt.date, end: dt.date, rng: np.random.Generator, holidays: frozenset[dt.date],
                 trend: float = 0.0) -> list[dt.date]:
    """n workdays in [start, end]; trend > 0 makes later dates more frequent (more questionnaires over time)."""
    days = [start + dt.timedelta(d) for d in range((end - start).days + 1)]
    days = [d for d in days if is_workday(d, holidays)]
    w = np.linspace(1.0, 1.0 + trend, len(days))
    idx = rng.choice(len(days), size=n, replace=True, p=w / w.sum())
    return sorted(days[int(i)] for i in idx)


def distribute_mentions(counts: dict[str, int], per_respondent: list[int], affinity: np.ndarray) -> list[set[str]]:
    """Assign every mention to a respondent, each option at most once per respondent, totals exact.

    Options are handled from the most to the least frequent; each goes to the respondents with the most free
    slots first (which keeps the assignment feasible), among them to those whose site likes the option most.
    `affinity[r, j]` is respondent r's (noisy) preference for option j.
    """
    names = list(counts)
    free = list(per_respondent)
    chosen: list[set[str]] = [set() for _ in per_respondent]
    for opt in sorted(names, key=lambda o: (-counts[o], names.index(o))):
        j = names.index(opt)
        candidates = sorted((r for r in range(len(free)) if free[r] > 0), key=lambda r: (-free[r], -affinity[r, j], r))
        if len(candidates) < counts[opt]:
            raise RuntimeError(f"cannot place {counts[opt]} mentions of {opt}")
        for r in candidates[: counts[opt]]:
            chosen[r].add(opt)
            free[r] -= 1
    return chosen


def render(out: OutFile) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=out.delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(out.header)
    writer.writerows(out.rows)
    return (b"\xef\xbb\xbf" if out.bom else b"") + buf.getvalue().encode("utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
