"""Named facts: every number the report's prose or a comparison needs, computed from the tidy tables.

A fact has a dotted key, an exact value and a kind that decides how it is printed (German formats):

    item.<id>.n | .top2 | .bottom2 | .mean | .pct.<code> | .share.<code>+<code>[+...]      single-coded items
    item.<id>.mentions | .respondents | .pct.<option> | .pct_resp.<option> | .rank.<k>     multiple response
    schaubild.<n>.n                      the N under the chart (valid N; mentions for mentions charts; the
                                         larger N of a two-series chart)
    instrument.<id>.n                    questionnaires returned / distinct interviews (`responses`)
    interviews.n | interviews.partner.<code> | interviews.duration_mean
                                         (partner codes: the scale of the interview instrument's partner column)
    stats.<measure> | stats.<measure>.<quarter> | stats.<measure>.first_quarter | .last_quarter | stats.<ratio>
                                         (measures and ratios: the running-statistics instrument of the codebook;
                                         first/last quarter of the phase, so texts survive a new Förderphase)
    sites.n | sites.steering_group

Values are never rounded here: rounding happens only when a fact is displayed (`format_fact`), half up
(`round_half_up`), so that a comparison with printed figures sees the exact value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from thinka import ALL_SITES
from thinka.codebook import Codebook, PhaseConfig
from thinka.errors import ThinkaError

KINDS = ("percent", "mean", "count", "decimal", "text")
SUPPRESSED_MARK = "."  # DIN 55301: value not shown (see thinka.wording)
NBSP = "\u00a0"
RELATIVE_QUARTERS = ("first_quarter", "last_quarter")
# change.<item>.<part>: the comparison with the previous phase (thinka.comparison). diff is the size of the
# difference (percentage points or, for means, units; the prose says the direction), verdict the rule's word.
CHANGE_PARTS = ("diff", "previous", "current", "low", "high", "verdict")

# Syntactic grammar of fact keys; whether the item / option / code exists is checked against the data.
_CODE = r"[A-Za-z0-9_\-]+"
KEY_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        rf"item\.\w+\.(n|top2|bottom2|mean|mentions|respondents)",
        rf"item\.\w+\.(pct|pct_resp)\.{_CODE}",
        rf"item\.\w+\.share\.{_CODE}(\+{_CODE})+",
        r"item\.\w+\.rank\.[1-9][0-9]*",
        r"schaubild\.[1-9][0-9]*\.n",
        r"instrument\.\w+\.n",
        rf"interviews\.(n|duration_mean|partner\.{_CODE})",
        r"stats\.\w+(\.(\d{4}-Q[1-4]|first_quarter|last_quarter))?",
        r"sites\.(n|steering_group)",
        rf"change\.\w+\.({'|'.join(CHANGE_PARTS)})",
    )
)


class UnknownFactError(ThinkaError, KeyError):
    """A fact key that is not in the grammar or names an item, option or code the data do not have."""


def is_valid_key(key: str) -> bool:
    """True if `key` follows the fact-key grammar (existence of item, code, option is not checked)."""
    return isinstance(key, str) and any(p.fullmatch(key) for p in KEY_PATTERNS)


# ----------------------------------------------------------------------------------------------------------------
# Facts and German formatting


@dataclass(frozen=True)
class Fact:
    key: str
    value: Any  # float | int | str | None (None = suppressed)
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Fact {self.key!r}: unknown kind {self.kind!r}; allowed: {', '.join(KINDS)}")

    @property
    def suppressed(self) -> bool:
        return _missing(self.value)


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def round_half_up(x: float, ndigits: int = 0) -> int | float:
    """Round half away from zero (76.5 -> 77, 2.25 -> 2.3), never banker's rounding.

    Works on the decimal text of `x` (what a reader would write down), after snapping float noise of the order
    1e-9 (e.g. 0.145 * 100 = 14.499999999999998 is a half). Returns an int for ndigits=0, else a float.
    """
    if _missing(x):
        raise ValueError("round_half_up: no value (None/NaN) to round")
    snapped = round(float(x), 9)
    quantum = Decimal(1).scaleb(-ndigits)
    d = Decimal(repr(snapped)).quantize(quantum, rounding=ROUND_HALF_UP)
    return int(d) if ndigits <= 0 else float(d)


def format_number(x: float | None, decimals: int = 0) -> str:
    """German number: dot thousands separator, comma decimal mark, half-up rounding (1457 -> '1.457')."""
    if _missing(x):
        return SUPPRESSED_MARK
    d = Decimal(repr(float(round_half_up(x, decimals))))
    text = format(d, f",.{decimals}f")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_percent(x: float | None, decimals: int = 0) -> str:
    """'82 %' with a no-break space before the percent sign; '.' for a suppressed value."""
    if _missing(x):
        return SUPPRESSED_MARK
    return f"{format_number(x, decimals)}{NBSP}%"


def format_fact(fact: Fact) -> str:
    """The fact as the German text prints it: percent '82' (the prose adds 'Prozent'), mean/decimal '2,2',
    count '1.457', text as is; a suppressed value is '.' (SUPPRESSED_MARK)."""
    if fact.kind == "text":
        return SUPPRESSED_MARK if _missing(fact.value) else str(fact.value)
    if _missing(fact.value):
        return SUPPRESSED_MARK
    decimals = 1 if fact.kind in ("mean", "decimal") else 0
    return format_number(fact.value, decimals)


# ----------------------------------------------------------------------------------------------------------------
# The fact book


def _py(x: Any) -> Any:
    """numpy / pandas scalar -> plain Python (None for NA)."""
    if _missing(x):
        return None
    return x.item() if hasattr(x, "item") else x


class _Sources:
    """The tables restricted to one site, plus the configuration that interprets them.

    Filtering by site and grouping by item happen once, here: a fact book resolves hundreds of keys.
    """

    def __init__(self, site: str, tables: dict[str, pd.DataFrame], config: PhaseConfig, codebook: Codebook):
        self.site, self.tables, self.config, self.codebook = site, tables, config, codebook
        self._site_tables: dict[str, pd.DataFrame] = {}
        self._by_item: dict[str, dict[str, pd.DataFrame]] = {}
        self._records: dict[tuple[str, str], list[dict]] = {}

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._site_tables:
            df = self.tables.get(name)
            if df is None:
                raise _NoFact(f"the table {name!r} is not available")
            if "site" in df.columns:
                df = df[df["site"].astype(str) == self.site]
            self._site_tables[name] = df
        return self._site_tables[name]

    def item_rows(self, name: str, item_id: str) -> pd.DataFrame:
        if name not in self._by_item:
            df = self.table(name)
            self._by_item[name] = {str(k): g for k, g in df.groupby(df["item"].astype(str), sort=False)}
        rows = self._by_item[name].get(item_id)
        if rows is None:
            raise _NoFact(f"no {name} rows for item {item_id!r} at site {self.site!r}")
        return rows

    def item_records(self, name: str, item_id: str) -> list[dict]:
        """The item's rows as plain dicts (row access on small frames is slow in pandas)."""
        key = (name, item_id)
        if key not in self._records:
            self._records[key] = self.item_rows(name, item_id).to_dict("records")
        return self._records[key]


class _NoFact(Exception):
    """Internal: the key is well-formed but names nothing in the data."""


class FactBook(Mapping):
    """Facts of one site (or `all`). Iterates over the concrete keys; parametrised keys (shares of any code
    combination, ranks) are computed on demand. An unknown key raises a KeyError that suggests close keys."""

    def __init__(self, sources: _Sources, resolved: dict[str, Fact]):
        self._src = sources
        self._keys = tuple(resolved)
        self._cache: dict[str, Fact] = dict(resolved)

    @property
    def site(self) -> str:
        return self._src.site

    @property
    def codebook(self) -> Codebook:
        return self._src.codebook

    @property
    def config(self) -> PhaseConfig:
        return self._src.config

    def __getitem__(self, key: str) -> Fact:
        if key in self._cache:
            return self._cache[key]
        try:
            if not is_valid_key(key):
                raise _NoFact("the key does not follow the fact-key grammar")
            fact = _resolve(key, self._src)
        except _NoFact as exc:
            raise UnknownFactError(
                f"Unknown fact {key!r} (site {self.site!r}): {exc}.", hint=self._suggest(key)
            ) from None
        self._cache[key] = fact
        return fact

    def _suggest(self, key: str) -> str:
        close = difflib.get_close_matches(key, self._keys, n=5, cutoff=0.6)
        if close:
            return "Did you mean " + ", ".join(close) + "?"
        return "See the key grammar in thinka/facts.py; list(facts) gives every concrete key."

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<FactBook site={self.site!r} keys={len(self._keys)}>"


def compute_facts(tables: dict[str, pd.DataFrame], config: PhaseConfig, codebook: Codebook, site: str = ALL_SITES) -> FactBook:
    """All named facts of `site` (default: over all sites) from the tidy tables of docs/architecture.md."""
    if site != ALL_SITES and site not in config.site_codes:
        raise ThinkaError(
            f"Unknown site {site!r} for the facts.",
            hint=f"Use {ALL_SITES!r} or one of: {', '.join(config.site_codes)}.",
        )
    src = _Sources(site, tables, config, codebook)
    resolved = {}
    for key in _candidate_keys(src):
        try:
            resolved[key] = _resolve(key, src)
        except _NoFact:
            continue  # e.g. an item this site did not ask, or a mean of a likert item
    return FactBook(src, resolved)


class FactKeys(Mapping):
    """Every fact key a phase's configuration allows, without data: what `thinka check-texts` checks texts against
    before the exports are in (a new Förderphase). Values are unknown (None); only membership matters."""

    def __init__(self, config: PhaseConfig, codebook: Codebook):
        self._codebook = codebook
        self._keys = tuple(_candidate_keys(_Sources(ALL_SITES, {}, config, codebook)))
        self._known = set(self._keys)

    def _parametrised(self, key: str) -> bool:
        m = re.fullmatch(r"item\.(\w+)\.(share|rank)\.(.+)", key)
        item = self._codebook.items.get(m.group(1)) if m else None
        if item is None or not is_valid_key(key):
            return False
        if m.group(2) == "rank":
            return item.is_multiple_response and int(m.group(3)) <= len(item.options)
        codes = m.group(3).split("+")
        scale = self._codebook.scale_of(item.id)
        return not item.is_multiple_response and len(set(codes)) == len(codes) and set(codes) <= {str(c) for c in scale.codes}

    def __getitem__(self, key: str) -> Fact:
        if key in self._known or self._parametrised(key):
            return Fact(key, None, "text")
        raise UnknownFactError(f"Unknown fact {key!r}: the phase's configuration has no such fact.",
                               hint=FactBook._suggest(self, key))  # same suggestions as with data

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _candidate_keys(src: _Sources) -> list[str]:
    cb, keys = src.codebook, []
    for item in cb.items.values():
        base = f"item.{item.id}"
        if item.is_multiple_response:
            keys += [f"{base}.mentions", f"{base}.respondents"]
            for o in item.options:
                keys += [f"{base}.pct.{o.column}", f"{base}.pct_resp.{o.column}"]
            keys += [f"{base}.rank.{k}" for k in range(1, len(item.options) + 1)]
        else:
            keys += [f"{base}.n", f"{base}.top2", f"{base}.bottom2", f"{base}.mean"]
            keys += [f"{base}.pct.{c}" for c in cb.scale_of(item.id).codes]
    keys += [f"schaubild.{s.number}.n" for s in cb.schaubilder]
    keys += [f"instrument.{i}.n" for i in cb.instruments]
    keys += ["interviews.n", "interviews.duration_mean"]
    keys += [f"interviews.partner.{c}" for c in _partner_codes(cb)]
    spec = _running_statistics(cb)
    for m in spec.measures if spec else ():
        keys.append(f"stats.{m}")
        keys += [f"stats.{m}.{q}" for q in (*src.config.quarters, *RELATIVE_QUARTERS)]
    keys += [f"stats.{r}" for r in (spec.ratios if spec else ())]
    keys += ["sites.n", "sites.steering_group"]
    keys += _change_keys(src)
    return keys


def _change_keys(src: _Sources) -> list[str]:
    """change.<item>.* for the compared items (with data), or every single-response item (keys only, before the
    data are in) when the phase names a previous phase."""
    if not src.config.previous_phase:
        return []
    items = src.tables.get("comparison_items")
    if items is None:
        ids = [i.id for i in src.codebook.items.values() if not i.is_multiple_response]
    else:
        ids = [str(i) for i in items.loc[(items["status"] == "both") & (items["measure"] != "mentions"), "item"]]
    return [f"change.{i}.{part}" for i in ids for part in CHANGE_PARTS]


def _partner_codes(cb: Codebook) -> tuple[str, ...]:
    """The partner-type codes of the interview instrument (the scale of its `partner` column); () without one."""
    iid = cb.instrument_of_kind("interviews")
    return tuple(str(c) for c in cb.role_scale(iid, "partner").codes) if iid else ()


def _resolve(key: str, src: _Sources) -> Fact:
    head, _, rest = key.partition(".")
    resolver = {
        "item": _item_fact,
        "schaubild": _schaubild_fact,
        "instrument": _instrument_fact,
        "interviews": _interviews_fact,
        "stats": _stats_fact,
        "sites": _sites_fact,
        "change": _change_fact,
    }.get(head)
    if resolver is None:
        raise _NoFact(f"unknown key family {head!r}")
    return resolver(key, rest.split(".") if rest else [], src)


# --- items ------------------------------------------------------------------------------------------------------


def _item_fact(key: str, parts: list[str], src: _Sources) -> Fact:
    item_id, what, args = parts[0], parts[1], parts[2:]
    item = src.codebook.items.get(item_id)
    if item is None:
        raise _NoFact(f"no item {item_id!r} in the codebook")
    if item.is_multiple_response:
        return _mention_fact(key, item, what, args, src)
    return _single_fact(key, item, what, args, src)


def _summary_row(item_id: str, src: _Sources) -> pd.Series:
    return src.item_rows("summaries", item_id).iloc[0]


def _single_fact(key: str, item, what: str, args: list[str], src: _Sources) -> Fact:
    scale = src.codebook.scale_of(item.id)
    if what == "n":
        return Fact(key, _py(_summary_row(item.id, src)["valid_n"]), "count")
    if what in ("top2", "bottom2"):
        if not (scale.top if what == "top2" else scale.bottom):
            raise _NoFact(f"the scale {scale.id!r} of item {item.id!r} defines no {what[:-1]} codes")
        return Fact(key, _py(_summary_row(item.id, src)[what]), "percent")
    if what == "mean":
        if scale.kind not in ("grade", "count"):
            raise _NoFact(f"a mean is reported only for grade and count scales; {item.id!r} is {scale.kind}")
        return Fact(key, _py(_summary_row(item.id, src)["mean"]), "mean")
    if what == "pct":
        return Fact(key, _py(_code_records(item.id, scale, args, src)[0]["pct"]), "percent")
    if what == "share":
        return Fact(key, _share(item.id, scale, args[0].split("+"), src), "percent")
    raise _NoFact(f"{what!r} does not apply to the single-coded item {item.id!r}")


def _code_records(item_id: str, scale, codes: list[str], src: _Sources) -> list[dict]:
    known = [str(c) for c in scale.codes]
    for c in codes:
        if c not in known:
            raise _NoFact(f"code {c!r} is not a level of scale {scale.id!r} (codes: {', '.join(known)})")
    by_code = {str(r["code"]): r for r in src.item_records("distributions", item_id)}
    missing = [c for c in codes if c not in by_code]
    if missing:
        raise _NoFact(f"no distribution rows for codes {missing} of item {item_id!r} at site {src.site!r}")
    return [by_code[c] for c in codes]


def _share(item_id: str, scale, codes: list[str], src: _Sources) -> float | None:
    """% of valid answers in `codes`, from the counts (not from adding rounded percentages)."""
    if len(set(codes)) != len(codes):
        raise _NoFact(f"codes repeat in {'+'.join(codes)}")
    rows = _code_records(item_id, scale, codes, src)
    if any(_missing(r["count"]) or _missing(r["valid_n"]) or bool(r.get("suppressed")) for r in rows):
        return None
    valid_n = int(rows[0]["valid_n"])
    if valid_n == 0:
        return None
    return 100.0 * float(sum(int(r["count"]) for r in rows)) / valid_n


def _flag(rows: pd.DataFrame) -> pd.Series:
    if "suppressed" not in rows.columns:
        return pd.Series(False, index=rows.index)
    return rows["suppressed"].fillna(False).astype(bool)


def _mention_rows(item_id: str, src: _Sources) -> pd.DataFrame:
    return src.item_rows("mentions", item_id)


def _mention_fact(key: str, item, what: str, args: list[str], src: _Sources) -> Fact:
    rows = _mention_rows(item.id, src)
    if what in ("mentions", "respondents"):
        return Fact(key, _py(rows[what].iloc[0]), "count")
    if what in ("pct", "pct_resp"):
        options = [o.column for o in item.options]
        if args[0] not in options:
            raise _NoFact(f"{args[0]!r} is not an option of {item.id!r} (options: {', '.join(options)})")
        row = rows[rows["option"].astype(str) == args[0]]
        if row.empty:
            raise _NoFact(f"no mentions row for option {args[0]!r}")
        col = "pct_mentions" if what == "pct" else "pct_respondents"
        return Fact(key, _py(row[col].iloc[0]), "percent")
    if what == "rank":
        return Fact(key, _ranked_label(rows, int(args[0]), item.id), "text")
    raise _NoFact(f"{what!r} does not apply to the multiple-response item {item.id!r}")


def _ranked_label(rows: pd.DataFrame, k: int, item_id: str) -> str | None:
    if k > len(rows):
        raise _NoFact(f"item {item_id!r} has only {len(rows)} options, no rank {k}")
    if rows["count"].isna().any() or _flag(rows).any():
        return None
    # Ties keep the codebook order, so the ranking is deterministic.
    ordered = rows.sort_values(["count", "order"], ascending=[False, True], kind="stable")
    return str(ordered["label"].iloc[k - 1])


# --- Schaubilder, instruments, interviews, programme statistics, sites -------------------------------------------


def _schaubild_fact(key: str, parts: list[str], src: _Sources) -> Fact:
    number = int(parts[0])
    sb = next((s for s in src.codebook.schaubilder if s.number == number), None)
    if sb is None:
        raise _NoFact(f"no Schaubild {number} in the codebook")
    ns = []
    for item_id in sb.items:
        if src.codebook.items[item_id].is_multiple_response:
            ns.append(_mention_rows(item_id, src)["mentions"].iloc[0])
        else:
            ns.append(_summary_row(item_id, src)["valid_n"])
    values = [_py(n) for n in ns]
    value = None if any(v is None for v in values) else max(values)
    return Fact(key, value, "count")


def _instrument_fact(key: str, parts: list[str], src: _Sources) -> Fact:
    inst = parts[0]
    if inst not in src.codebook.instruments:
        raise _NoFact(f"no instrument {inst!r} (known: {', '.join(src.codebook.instruments)})")
    df = src.table("responses")
    rows = df[df["instrument"].astype(str) == inst]
    if rows.empty:
        raise _NoFact(f"no responses row for instrument {inst!r} at site {src.site!r}")
    return Fact(key, _py(rows["n"].iloc[0]), "count")


def _interview_rows(src: _Sources) -> pd.DataFrame:
    df = src.tables.get("interviews")
    if df is None:
        raise _NoFact("the table 'interviews' is not available")
    # One row per interview; site 'all' means every row.
    return df if src.site == ALL_SITES else df[df["site"].astype(str) == src.site]


def _interviews_fact(key: str, parts: list[str], src: _Sources) -> Fact:
    rows = _interview_rows(src)
    if parts == ["n"]:
        return Fact(key, int(rows["interview"].nunique()), "count")
    if parts == ["duration_mean"]:
        durations = rows.drop_duplicates("interview")["duration_min"].dropna()
        return Fact(key, float(durations.mean()) if len(durations) else None, "count")
    code, codes = parts[1], _partner_codes(src.codebook)
    if code not in codes:
        raise _NoFact(f"{code!r} is not a partner code of the interviews ({', '.join(codes) or 'none'})")
    hit = rows[rows["partner"].astype(str) == code]
    return Fact(key, int(hit["interview"].nunique()), "count")


def _stat_value(measure: str, quarter: str, src: _Sources) -> float | None:
    df = src.table("running_statistics")
    rows = df[(df["measure"].astype(str) == measure) & (df["quarter"].astype(str) == quarter)]
    if rows.empty:
        raise _NoFact(f"no running_statistics row for measure {measure!r}, quarter {quarter!r}")
    return _py(rows["value"].iloc[0])


def _running_statistics(cb: Codebook):
    """The codebook's running-statistics instrument spec (measures, ratios), or None."""
    iid = cb.instrument_of_kind("running_statistics")
    return cb.instruments[iid] if iid else None


def _stats_fact(key: str, parts: list[str], src: _Sources) -> Fact:
    spec = _running_statistics(src.codebook)
    measures, ratios = (spec.measures, spec.ratios) if spec else ((), {})
    if len(parts) == 1 and parts[0] in ratios:
        numerator, denominator = (_stat_value(m, "total", src) for m in ratios[parts[0]])
        value = None if denominator in (None, 0) or numerator is None else numerator / denominator
        return Fact(key, value, "decimal")
    measure = parts[0]
    if measure not in measures:
        raise _NoFact(f"unknown measure {measure!r} (measures: {', '.join((*measures, *ratios)) or 'none'})")
    quarter = parts[1] if len(parts) > 1 else "total"
    if quarter in RELATIVE_QUARTERS:
        quarter = src.config.quarters[0 if quarter == "first_quarter" else -1]
    return Fact(key, _stat_value(measure, quarter, src), "count")


def _sites_fact(key: str, parts: list[str], src: _Sources) -> Fact:
    sites = src.config.sites if src.site == ALL_SITES else (src.config.site(src.site),)
    if parts == ["n"]:
        return Fact(key, len(sites), "count")
    return Fact(key, sum(1 for s in sites if s.steering_group), "count")


# ----------------------------------------------------------------------------------------------------------------
# Rule B


def labels_sum(tables: dict[str, pd.DataFrame], item: str, codes: list[str] | tuple[str, ...], site: str = ALL_SITES) -> int:
    """Sum of the rounded category percentages (the chart labels) of `codes`: the "rule B" reading of a printed
    share, as if the author had added up the labels of the chart instead of rounding the aggregate."""
    df = tables["distributions"]
    rows = df[(df["item"].astype(str) == item) & (df["site"].astype(str) == site)]
    wanted = [str(c) for c in codes]
    rows = rows[rows["code"].astype(str).isin(wanted)]
    missing = sorted(set(wanted) - set(rows["code"].astype(str)))
    if missing:
        raise UnknownFactError(f"labels_sum: item {item!r} has no distribution rows for codes {missing} at site {site!r}.")
    if rows["pct"].isna().any():
        raise UnknownFactError(f"labels_sum: item {item!r} has suppressed percentages at site {site!r}.")
    return sum(round_half_up(p) for p in rows["pct"])


__all__ = [
    "Fact",
    "FactBook",
    "KINDS",
    "UnknownFactError",
    "compute_facts",
    "format_fact",
    "format_number",
    "format_percent",
    "is_valid_key",
    "labels_sum",
    "round_half_up",
]


# --- change between phases ------------------------------------------------------------------------------------


def change_verdict_words(config) -> dict[str, str]:
    """verdict code (thinka.change) -> the report's word for it (thinka.wording, comparison.verdicts)."""
    from thinka.wording import words

    return dict(words(config)["comparison"]["verdicts"])


def _change_fact(key: str, parts: list[str], src: _Sources) -> Fact:
    item_id, what = parts
    rows = src.table("comparison_changes")
    rows = rows[(rows["item"].astype(str) == item_id) & (rows["option"].astype(str) == "")]
    if rows.empty:
        raise _NoFact(f"item {item_id!r} is not compared with the previous phase (new, dropped, other scale, "
                      "multiple response or no previous phase)")
    row = rows.iloc[0]
    items = src.tables["comparison_items"]
    mean = (items.loc[items["item"] == item_id, "measure"] == "mean").any()
    shown = not row["reason"]
    if what == "verdict":
        return Fact(key, change_verdict_words(src.config)[row["verdict"]] if shown else None, "text")
    value = {"diff": abs(row["diff"]) if shown else None, "previous": row["value_previous"],
             "current": row["value_current"], "low": row["ci_low"], "high": row["ci_high"]}[what]
    return Fact(key, _py(value), "decimal" if mean else "percent")
