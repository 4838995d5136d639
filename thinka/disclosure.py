"""Disclosure control of per-site aggregates: primary suppression below a threshold, plus secondary suppression
until nothing hidden can be derived from what is published.

A site value resting on 1 … threshold-1 answers is suppressed (primary). Every table also has the overall row
(`site == thinka.ALL_SITES`, never suppressed), so within each group (one item) further sites are suppressed
(secondary): first until at least two sites with together at least `threshold` answers are hidden (`decide`),
then — where the item is published (`Publication`) — one more site at a time, the visible site with the smallest
n > 0 (ties in site order), while the reader model of `thinka.audit` still derives a hidden value (a 100 % share,
a positive count, a mean, a top share, n; zero cells when `protect_zeros`) from the overall row, the visible
sites, the marks and the published returned questionnaires. `suppress_published` takes one decision per item for
`distributions` and `summaries` together (they are published as one chart or item-table row) and one per item
for `mentions`; what the reader sees is modelled from how the item is published (chart ⇒ full distribution,
item table ⇒ top share and n, neither ⇒ nothing per site: only the base rule).

Not suppressed, by design:
- running_statistics: administrative counts the sites report about their own work (persons, consultations,
  network contacts), not answers of respondents;
- interview tables and responses: the interviews are qualitative material published as quotations, and the
  number of returned questionnaires per site is a field-work fact, not an answer (the CSV writer shows it
  as "< threshold" below the threshold unless `exact_n`).

Residual risk, documented for the methods note: what the overall row alone implies (e.g. 100 % agreement overall,
or a group in which only one site has answers at all) cannot be hidden by suppressing sites.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from thinka import ALL_SITES
from thinka import audit

PRIMARY = "primary"
SECONDARY = "secondary"


def _recoverable(ns: Sequence[int], threshold: int) -> bool:
    """Could the hidden sites' values be told from the overall row minus the visible sites?"""
    return len(ns) == 1 or sum(ns) < threshold


def decide(units: Sequence[tuple[str, int]], threshold: int, *, has_total: bool = True) -> dict[str, str]:
    """Which sites of one group to suppress, and why.

    `units` are (site, n) pairs in site order, without the overall row. Returns {site: "primary" | "secondary"}.
    Secondary suppression adds the visible site with the smallest n > 0 (ties: first in site order) while the
    hidden sites are recoverable; it only applies when the group has an overall row to difference against.
    """
    reasons = {site: PRIMARY for site, n in units if 0 < n < threshold}
    while has_total and reasons and _recoverable([n for site, n in units if site in reasons], threshold):
        visible = [(n, position, site) for position, (site, n) in enumerate(units) if site not in reasons and n > 0]
        if not visible:
            break
        reasons[min(visible)[2]] = SECONDARY
    return reasons


def _unit_ns(table: pd.DataFrame, keys: list[str], n_column: str) -> pd.DataFrame:
    """One row per (group…, site) with its n, in table order; every row of a unit must share n."""
    if (table.groupby(keys, sort=False, dropna=False)[n_column].nunique(dropna=False) > 1).any():
        raise ValueError(f"Rows of one group and site differ in {n_column!r}; cannot decide suppression.")
    return table.drop_duplicates(keys)[[*keys, n_column]]


def suppress(
    table: pd.DataFrame,
    threshold: int,
    *,
    value_columns: Sequence[str],
    n_column: str = "valid_n",
    group_columns: Sequence[str] = ("item",),
    site_column: str = "site",
) -> pd.DataFrame:
    """A copy of `table` with `suppressed` (bool) and `suppression` ("", "primary", "secondary") columns and the
    `value_columns` of suppressed rows set to NA.

    The decision is taken per (group_columns…, site) unit from `n_column` (all rows of a unit, e.g. every category
    of one item at one site, are suppressed together): a site row with 1 ≤ n < threshold is primary-suppressed;
    n == 0 means no data (values already NA), not suppressed; then `decide` adds secondary suppression within
    each group. Rows of the overall site are never suppressed. Integer value columns become nullable Int64, so
    the dtypes do not depend on whether anything was suppressed. n columns stay visible.
    """
    groups, keys = list(group_columns), [*group_columns, site_column]
    units = _unit_ns(table, keys, n_column)
    reasons: dict[tuple, str] = {}
    for group, rows in units.groupby(groups, sort=False, dropna=False):
        is_total = rows[site_column] == ALL_SITES
        pairs = list(zip(rows.loc[~is_total, site_column], rows.loc[~is_total, n_column].astype(int), strict=True))
        group = group if isinstance(group, tuple) else (group,)
        for site, reason in decide(pairs, threshold, has_total=bool(is_total.any())).items():
            reasons[(*group, site)] = reason
    out = table.copy()
    unit_keys = pd.Series(list(zip(*(out[k] for k in keys), strict=True)), index=out.index, dtype="object")
    reason = unit_keys.map(lambda k: reasons.get(k, "")).astype("str")
    out["suppressed"] = (reason != "").astype("bool")
    out["suppression"] = reason
    for column in value_columns:
        if pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Int64")
        out[column] = out[column].mask(out["suppressed"])
    return out


def suppression_summary(table: pd.DataFrame, group_columns: Sequence[str] = ("item",)) -> pd.DataFrame:
    """The suppressed (group…, site) units of a suppressed table with their reason, one row each, in table order
    (for the methods note)."""
    columns = [*group_columns, "site", "suppression"]
    return table.loc[table["suppressed"], columns].drop_duplicates().reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------------------
# suppression that holds against the reader model


@dataclass(frozen=True)
class Publication:
    """How one item is published. chart: "distribution", "mentions" or None; table: in an item table (top share
    and n); top: codes of the top share; values: numeric code values when a mean is shown; instrument: for caps."""

    instrument: str = ""
    chart: str | None = None
    table: bool = False
    top: tuple[str, ...] = ()
    values: Mapping[str, float] | None = None

    @property
    def published(self) -> bool:
        return self.chart is not None or self.table


def decide_until_clean(
    units: Sequence[tuple[str, int]], threshold: int, leaks: Callable[[Mapping[str, str]], bool] | None
) -> dict[str, str]:
    """`decide`, then keep adding the visible site with the smallest n > 0 (ties in site order) as secondary while
    `leaks(reasons)` says something hidden is still derivable, until clean or no site is left."""
    reasons = decide(units, threshold)
    while leaks is not None and reasons and leaks(reasons):
        visible = [(n, position, site) for position, (site, n) in enumerate(units) if site not in reasons and n > 0]
        if not visible:
            break
        reasons[min(visible)[2]] = SECONDARY
    return reasons


def _site_rows(table: pd.DataFrame, item: str) -> pd.DataFrame:
    return table[table["item"].astype(str) == item]


def _counts_by_site(rows: pd.DataFrame, key: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for site, part in rows.groupby(rows["site"].astype(str), sort=False):
        out[site] = {str(k): int(v) for k, v in zip(part[key], part["count"].fillna(0), strict=True)}
    return out


def _ns(rows: pd.DataFrame, n_column: str) -> dict[str, int]:
    first = rows.drop_duplicates("site")
    return {str(s): int(n) for s, n in zip(first["site"], first[n_column].fillna(0), strict=True)}


def _reason(site: str, n: int, reasons: Mapping[str, str]) -> str:
    return reasons.get(site) or ("" if n > 0 else "no_answers")


def _table_group(item: str, pub: Publication, counts: dict, ns: dict, caps: Mapping[str, int | None],
                 reasons: Mapping[str, str], rules, codes: Sequence[str]) -> audit.Group:
    """The reader's view of a Schaubild item (full distribution) or an item-table row (top vs rest)."""
    if pub.chart == "distribution":
        categories, top, values = tuple(codes), tuple(c for c in pub.top if c in codes), pub.values
        kind, counts_of = audit.DISTRIBUTION, (lambda site: counts.get(site, {}))
    else:
        categories, top, values, kind = (audit.TOP_CODE, audit.REST_CODE), (), None, audit.TOP

        def counts_of(site):
            k = sum(v for c, v in counts.get(site, {}).items() if c in pub.top)
            return {audit.TOP_CODE: k, audit.REST_CODE: ns.get(site, 0) - k}
    sites = tuple(
        audit.reader_view(site, _reason(site, n, reasons), n, counts_of(site), caps.get(site), rules)
        for site, n in ns.items() if site != ALL_SITES
    )
    return audit.Group(item, kind, categories, counts_of(ALL_SITES), ns.get(ALL_SITES, 0), sites, top, values)


def _mention_group(item: str, rows: pd.DataFrame, caps, reasons, rules) -> audit.Group:
    counts, mentions = _counts_by_site(rows, "option"), _ns(rows, "mentions")
    options = tuple(dict.fromkeys(rows["option"].astype(str)))
    sites = tuple(
        audit.reader_view(site, _reason(site, n, reasons), n, counts.get(site, {}), caps.get(site), rules)
        for site, n in mentions.items() if site != ALL_SITES
    )
    return audit.Group(item, audit.MENTIONS, options, counts.get(ALL_SITES, {}), mentions.get(ALL_SITES, 0), sites)


def _leaks(make_group: Callable[[Mapping[str, str]], audit.Group], rules) -> Callable[[Mapping[str, str]], bool]:
    return lambda reasons: bool(audit.derivable(make_group(reasons), rules))


def _caps(responses: pd.DataFrame | None, instrument: str, rules) -> dict[str, int | None]:
    if responses is None or responses.empty:
        return {}
    part = responses[responses["instrument"].astype(str) == instrument]
    return {str(s): audit.returned_cap(int(n), rules) for s, n in zip(part["site"], part["n"], strict=True)}


def _apply(table: pd.DataFrame, reasons: Mapping[tuple[str, str], str], value_columns: Sequence[str]) -> pd.DataFrame:
    """`table` with `suppressed`/`suppression` from {(item, site): reason} and hidden value columns NA."""
    out = table.copy()
    keys = zip(out["item"].astype(str), out["site"].astype(str), strict=True)
    reason = pd.Series([reasons.get(k, "") for k in keys], index=out.index, dtype="str")
    out["suppressed"] = (reason != "").astype("bool")
    out["suppression"] = reason
    for column in value_columns:
        if pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Int64")
        out[column] = out[column].mask(out["suppressed"])
    return out


def _units(ns: Mapping[str, int], site_order: Sequence[str]) -> list[tuple[str, int]]:
    order = {s: i for i, s in enumerate(site_order)}
    sites = sorted((s for s in ns if s != ALL_SITES), key=lambda s: order.get(s, len(order)))
    return [(s, ns[s]) for s in sites]


def item_reasons(distributions: pd.DataFrame, summaries: pd.DataFrame, publications: Mapping[str, Publication],
                 responses: pd.DataFrame | None, rules, site_order: Sequence[str]) -> dict[tuple[str, str], str]:
    """{(item, site): reason} for `distributions` and `summaries` together: one decision per item."""
    out: dict[tuple[str, str], str] = {}
    items = dict.fromkeys([*summaries["item"].astype(str), *distributions["item"].astype(str)])
    for item in items:
        dist, summ = _site_rows(distributions, item), _site_rows(summaries, item)
        ns = _ns(summ if len(summ) else dist, "valid_n")
        counts = _counts_by_site(dist, "code") if len(dist) else _top_from_summaries(summ, ns)
        pub = publications.get(item, Publication())
        if len(dist) == 0:  # no distribution (count scales): only an item table can show it, as top share and n
            pub = Publication(pub.instrument, None, pub.table, (audit.TOP_CODE,))
        caps = _caps(responses, pub.instrument, rules)
        codes = [str(c) for c in dict.fromkeys(dist.sort_values("order")["code"])] if len(dist) else []
        make = (lambda r, pub=pub, counts=counts, ns=ns, caps=caps, codes=codes, item=item:
                _table_group(item, pub, counts, ns, caps, r, rules, codes))
        leaks = _leaks(make, rules) if pub.published else None
        for site, reason in decide_until_clean(_units(ns, site_order), rules.threshold, leaks).items():
            out[(item, site)] = reason
    return out


def _top_from_summaries(summ: pd.DataFrame, ns: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Top counts of an item without a distribution (count scales): top share × n, as the reader computes it."""
    out = {}
    for site, top in zip(summ["site"].astype(str), summ["top2"], strict=True):
        out[site] = {audit.TOP_CODE: 0 if pd.isna(top) else round(float(top) * ns.get(site, 0) / 100)}
    return out


def mention_reasons(mentions: pd.DataFrame, publications: Mapping[str, Publication], responses: pd.DataFrame | None,
                    rules, site_order: Sequence[str]) -> dict[tuple[str, str], str]:
    """{(item, site): reason} for `mentions`: n = respondents decides, the reader sees option counts and mentions."""
    out: dict[tuple[str, str], str] = {}
    for item in dict.fromkeys(mentions["item"].astype(str)):
        rows = _site_rows(mentions, item)
        pub = publications.get(item, Publication())
        caps = _caps(responses, pub.instrument, rules)
        make = lambda r, rows=rows, caps=caps, item=item: _mention_group(item, rows, caps, r, rules)  # noqa: E731
        leaks = _leaks(make, rules) if pub.published else None
        for site, reason in decide_until_clean(_units(_ns(rows, "respondents"), site_order), rules.threshold,
                                               leaks).items():
            out[(item, site)] = reason
    return out


def suppress_published(
    tables: Mapping[str, pd.DataFrame],
    publications: Mapping[str, Publication],
    rules,
    *,
    value_columns: Mapping[str, Sequence[str]],
    site_order: Sequence[str] = (),
) -> dict[str, pd.DataFrame]:
    """`distributions`, `summaries` and `mentions` of `tables` with suppression that holds against the reader
    model (`thinka.audit`); `responses` in `tables` gives the caps the reader knows. Same schema as `suppress`."""
    empty = pd.DataFrame(columns=["item", "site"])
    dist, summ = tables.get("distributions", empty), tables.get("summaries", empty)
    responses = tables.get("responses")
    reasons = item_reasons(dist, summ, publications, responses, rules, site_order)
    out = {name: _apply(tables[name], reasons, value_columns[name]) for name in ("distributions", "summaries")
           if name in tables}
    if "mentions" in tables:
        ment = tables["mentions"]
        out["mentions"] = _apply(ment, mention_reasons(ment, publications, responses, rules, site_order),
                                 value_columns["mentions"])
    return out
