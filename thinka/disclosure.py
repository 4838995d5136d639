"""Disclosure control of per-site aggregates: primary suppression below a threshold, plus secondary suppression.

A site row whose values rest on 1 … threshold-1 answers is suppressed (primary). Because every table also has the
overall row (`site == thinka.ALL_SITES`, never suppressed), a single suppressed site could be recovered as "all
minus the other sites"; so, within each group (e.g. one item), further sites are suppressed (secondary) until
either at least two sites with together at least `threshold` answers are hidden, or no site is left to hide.

Not suppressed, by design:
- projektstatistik: administrative counts the sites report about their own work (persons, consultations,
  network contacts), not answers of respondents;
- interview tables and responses: the interviews are qualitative material published as quotations, and the
  number of returned questionnaires per site is a field-work fact, not an answer.

Residual risk, documented for the methods note: if every other site of a group has no answers at all, nothing is
left to hide and the overall row equals the suppressed site's values.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from thinka import ALL_SITES

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
