"""Printed figures of an earlier edition, compared with the facts thinka reproduces from the data.

The register (`data/raw/<phase>/published_figures.yaml`) lists every number the earlier report printed, the fact
key it corresponds to, how the print qualified it, and, where the data cannot reproduce it, a registered deviation.

Qualifier semantics (v = the reproduced value, p = the printed number; percentages in percentage points):

    exact               round_half_up(v) == p; for means and decimals round_half_up(v, 1) == p
    knapp               v < p and (round_half_up(v) == p or p - 2.5 <= v)   ("knapp 37" = just below 37)
    fraction            |v - p| <= 2.5                                       ("zwei von drei" printed as 66.7)
    mehr_als, ueber     v > p
    knapp_weniger_als   p - 2.5 <= v < p
    approx              |v - p| / p <= 3 %                                   (restated round counts)

Rule A (default): v is the exact aggregate (e.g. the top-2 share computed from counts).
Rule B: v is the sum of the rounded category percentages (the chart labels) of the fact's codes, as if the author
had added up labels; it needs the tidy tables.

Status: "ok" (the qualifier holds), "deviation (registered)" (it does not, and the register says why), or
"MISMATCH" (it does not, unexplained). A registered deviation that now holds is "ok" with the note
"register entry is stale", so the register does not silently keep explaining problems that are gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from thinka.errors import ThinkaError
from thinka.facts import (
    SUPPRESSED_MARK, FactBook, UnknownFactError, format_number, format_percent, is_valid_key, labels_sum, round_half_up,
)

QUALIFIERS = ("exact", "knapp", "fraction", "mehr_als", "ueber", "knapp_weniger_als", "approx")
RULES = ("A", "B")
STATUSES = ("ok", "deviation (registered)", "MISMATCH")
ENTRY_KEYS = ("id", "schaubild", "fact", "printed", "printed_text", "qualifier", "rule", "where", "deviation", "note")
REQUIRED_KEYS = ("id", "fact", "printed", "qualifier", "where")
TOLERANCE_PP = 2.5  # percentage points for knapp / fraction / knapp_weniger_als
APPROX_RELATIVE = 0.03
STALE_NOTE = "register entry is stale"
_INCONSISTENCY = re.compile(r"I[1-9][0-9]*")
_RULE_B_FACT = re.compile(r"item\.\w+\.(top2|bottom2|pct\.[^.]+|share\.[^.]+)")


@dataclass(frozen=True)
class Deviation:
    reason: str
    inconsistency: str


@dataclass(frozen=True)
class PrintedFigure:
    id: str
    schaubild: int | None
    fact: str
    printed: float
    qualifier: str
    where: str
    rule: str = "A"
    printed_text: str | None = None
    deviation: Deviation | None = None
    note: str | None = None


# ----------------------------------------------------------------------------------------------------------------
# Loading and validating the register


def _fail(path: Path, entry: str, key: str, value: Any, allowed: str, hint: str | None = None) -> ThinkaError:
    return ThinkaError(
        f"{path}: entry {entry}: key {key!r} has the value {value!r}, which is not allowed (allowed: {allowed}).",
        hint=hint or "Fix the entry in the register of printed figures; its format is described at the top of the file.",
    )


def load_register(path: Path) -> list[PrintedFigure]:
    """Read and validate a published_figures.yaml; every problem raises a ThinkaError naming file, entry and key."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ThinkaError(f"{path}: file not found.", hint="The register is optional; create it only to compare with a print.") from None
    except yaml.YAMLError as exc:
        raise ThinkaError(f"{path}: not valid YAML ({exc}).") from None
    entries = data.get("figures") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ThinkaError(f"{path}: expected a mapping with a list under 'figures'.", hint="See the comment at the top of the shipped register.")
    figures = [_entry(path, i, raw) for i, raw in enumerate(entries)]
    ids = [f.id for f in figures]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise ThinkaError(f"{path}: duplicate entry ids {dupes}.", hint="Every printed figure needs its own id.")
    return figures


def _entry(path: Path, index: int, raw: Any) -> PrintedFigure:
    label = f"#{index + 1}"
    if not isinstance(raw, dict):
        raise _fail(path, label, "(entry)", raw, "a mapping with the keys " + ", ".join(ENTRY_KEYS))
    if isinstance(raw.get("id"), str) and raw["id"]:
        label = repr(raw["id"])
    for key in raw:
        if key not in ENTRY_KEYS:
            raise _fail(path, label, key, raw[key], "keys " + ", ".join(ENTRY_KEYS), hint=f"Remove or rename the key {key!r}.")
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise _fail(path, label, key, None, "a value; required keys: " + ", ".join(REQUIRED_KEYS), hint=f"Add the key {key!r}.")
    return PrintedFigure(
        id=_text(path, label, raw, "id"),
        schaubild=_schaubild(path, label, raw.get("schaubild")),
        fact=_fact_key(path, label, raw["fact"]),
        printed=_printed(path, label, raw["printed"]),
        qualifier=_choice(path, label, "qualifier", raw["qualifier"], QUALIFIERS),
        where=_text(path, label, raw, "where"),
        rule=_rule(path, label, raw),
        printed_text=_optional_text(path, label, raw, "printed_text"),
        deviation=_deviation(path, label, raw.get("deviation")),
        note=_optional_text(path, label, raw, "note"),
    )


def _text(path: Path, label: str, raw: dict, key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, label, key, value, "a non-empty text")
    return value


def _optional_text(path: Path, label: str, raw: dict, key: str) -> str | None:
    return None if raw.get(key) is None else _text(path, label, raw, key)


def _schaubild(path: Path, label: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(path, label, "schaubild", value, "a chart number 1, 2, ... or null")
    return value


def _fact_key(path: Path, label: str, value: Any) -> str:
    if not isinstance(value, str) or not is_valid_key(value):
        raise _fail(
            path, label, "fact", value,
            "a fact key such as item.<id>.top2, item.<id>.share.1+2, schaubild.<n>.n, stats.<measure>",
            hint="The key grammar is documented at the top of thinka/facts.py.",
        )
    return value


def _printed(path: Path, label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, label, "printed", value, "a number as printed (fractions as a percentage, e.g. 66.7)")
    return float(value)


def _choice(path: Path, label: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _fail(path, label, key, value, ", ".join(allowed))
    return value


def _rule(path: Path, label: str, raw: dict) -> str:
    rule = _choice(path, label, "rule", str(raw.get("rule", "A")), RULES)
    if rule == "B" and not _RULE_B_FACT.fullmatch(raw["fact"]):
        raise _fail(path, label, "rule", rule, "A for this fact; B only for item.<id>.top2/bottom2/pct.<code>/share.<codes>")
    return rule


def _deviation(path: Path, label: str, value: Any) -> Deviation | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"reason", "inconsistency"}:
        raise _fail(path, label, "deviation", value, "a mapping {reason: <text>, inconsistency: I<n>}")
    reason, inc = value["reason"], value["inconsistency"]
    if not isinstance(reason, str) or not reason.strip():
        raise _fail(path, label, "deviation.reason", reason, "a non-empty text")
    if not isinstance(inc, str) or not _INCONSISTENCY.fullmatch(inc):
        raise _fail(path, label, "deviation.inconsistency", inc, "an inconsistency id like I7")
    return Deviation(reason, inc)


# ----------------------------------------------------------------------------------------------------------------
# Qualifier semantics


def qualifier_holds(qualifier: str, value: float, printed: float, kind: str = "percent") -> bool:
    """Whether the reproduced `value` supports a print of `printed` with this qualifier (see the module text)."""
    v, p = float(value), float(printed)
    if qualifier == "exact":
        return round_half_up(v, 1 if kind in ("mean", "decimal") else 0) == p
    if qualifier == "knapp":
        return v < p and (round_half_up(v) == p or p - TOLERANCE_PP <= v)
    if qualifier == "fraction":
        return abs(v - p) <= TOLERANCE_PP
    if qualifier in ("mehr_als", "ueber"):
        return v > p
    if qualifier == "knapp_weniger_als":
        return p - TOLERANCE_PP <= v < p
    if qualifier == "approx":
        return p != 0 and abs(v - p) / abs(p) <= APPROX_RELATIVE
    raise ValueError(f"unknown qualifier {qualifier!r}; allowed: {', '.join(QUALIFIERS)}")


# ----------------------------------------------------------------------------------------------------------------
# Comparison


def _rule_b_codes(fact_key: str, facts: FactBook) -> tuple[str, list[str]]:
    _, item_id, what, *args = fact_key.split(".")
    scale = facts.codebook.scale_of(item_id)
    if what == "top2":
        return item_id, [str(c) for c in scale.top]
    if what == "bottom2":
        return item_id, [str(c) for c in scale.bottom]
    return item_id, args[0].split("+")


def _reproduce(fig: PrintedFigure, facts: FactBook, tables: dict[str, pd.DataFrame] | None) -> tuple[Any, str]:
    """(exact value, kind) of the figure under its rule."""
    try:
        fact = facts[fig.fact]
    except UnknownFactError as exc:
        raise ThinkaError(
            f"Register entry {fig.id!r}: key 'fact' has the value {fig.fact!r}, which the data cannot compute ({exc.message})",
            hint=exc.hint,
        ) from None
    if fig.rule == "A" or fact.value is None:
        return fact.value, fact.kind
    if tables is None:
        raise ThinkaError(f"Register entry {fig.id!r} uses rule B, which needs the tidy tables.", hint="Pass tables to compare().")
    item_id, codes = _rule_b_codes(fig.fact, facts)
    return labels_sum(tables, item_id, codes, site=facts.site), fact.kind


def _shown(value: Any, kind: str, rule: str) -> str:
    """The reproduced value in German format, one decimal finer than a print would use (to show why it passes)."""
    if value is None:
        return SUPPRESSED_MARK
    if rule == "B":
        return f"{format_percent(value)} (Summe der Labels)"
    if kind == "percent":
        return format_percent(value, 1)
    if kind in ("mean", "decimal"):
        return format_number(value, 2)
    return format_number(value) if kind == "count" else str(value)


def _printed_shown(fig: PrintedFigure, kind: str) -> str:
    if fig.printed_text:
        return fig.printed_text
    if kind == "percent":
        return format_percent(fig.printed)
    return format_number(fig.printed, 1 if kind in ("mean", "decimal") else 0)


def _status(fig: PrintedFigure, value: Any, kind: str) -> tuple[str, str]:
    holds = value is not None and qualifier_holds(fig.qualifier, value, fig.printed, kind)
    if holds:
        notes = [STALE_NOTE] if fig.deviation else []
        return "ok", "; ".join(notes + ([fig.note] if fig.note else []))
    if fig.deviation:
        return "deviation (registered)", f"{fig.deviation.inconsistency}: {fig.deviation.reason}"
    why = "value suppressed" if value is None else f"{fig.qualifier} {_printed_number(fig.printed)} does not hold for {value:.4g}"
    return "MISMATCH", why


def _printed_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def compare(register: list[PrintedFigure], facts: FactBook, tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per printed figure: printed vs reproduced value and a status (see the module text)."""
    rows = []
    for fig in register:
        value, kind = _reproduce(fig, facts, tables)
        status, note = _status(fig, value, kind)
        rows.append({
            "id": fig.id, "schaubild": fig.schaubild, "fact": fig.fact, "printed": fig.printed,
            "qualifier": fig.qualifier, "rule": fig.rule,
            "reproduced": None if value is None else float(value), "shown": _shown(value, kind, fig.rule),
            "status": status, "note": note, "kind": kind, "printed_shown": _printed_shown(fig, kind), "where": fig.where,
        })
    df = pd.DataFrame(rows, columns=[
        "id", "schaubild", "fact", "printed", "qualifier", "rule", "reproduced", "shown", "status", "note",
        "kind", "printed_shown", "where",
    ])
    df["schaubild"] = df["schaubild"].astype("Int64")
    df["reproduced"] = df["reproduced"].astype("Float64")
    return df


# ----------------------------------------------------------------------------------------------------------------
# Plain-text report


def _group_order(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    groups = []
    numbers = sorted(int(n) for n in df["schaubild"].dropna().unique())
    for n in numbers:
        groups.append((f"Schaubild {n}", df[df["schaubild"] == n]))
    rest = df[df["schaubild"].isna()]
    if len(rest):
        groups.append(("Weitere Kennzahlen", rest))
    return groups


def summary_line(df: pd.DataFrame) -> str:
    counts = df["status"].value_counts()
    return (
        f"{int(counts.get('ok', 0))} ok, {int(counts.get('deviation (registered)', 0))} registered deviations, "
        f"{int(counts.get('MISMATCH', 0))} mismatches"
    )


def format_comparison(df: pd.DataFrame) -> str:
    """A plain-text table grouped by Schaubild (then the other figures), with notes and a summary line."""
    header = ("Schaubild", "Kennzahl", "gedruckt", "reproduziert", "Status")
    body: list[tuple[str, ...] | str] = []
    for title, group in _group_order(df):
        for r in group.itertuples(index=False):
            body.append((title, r.fact, r.printed_shown, r.shown, r.status))
            if r.status != "ok" or r.note == STALE_NOTE or (r.note and r.note.startswith(STALE_NOTE)):
                body.append(f"    → {r.id}: {r.note}")
            title = ""
    rows = [header] + [b for b in body if isinstance(b, tuple)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return " | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()

    out = [line(header), "-+-".join("-" * w for w in widths)]
    out += [b if isinstance(b, str) else line(b) for b in body]
    out += ["", summary_line(df)]
    return "\n".join(out) + "\n"
