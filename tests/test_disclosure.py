"""Disclosure control: primary and secondary suppression, checked on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thinka import ALL_SITES
from thinka.disclosure import decide, suppress, suppression_summary

THRESHOLD = 5


def summary_table(ns: dict[str, int], item: str = "x") -> pd.DataFrame:
    """One row per site like `summaries`: the overall row first with the sum of the site ns."""
    sites = [ALL_SITES, *ns]
    valid = [sum(ns.values()), *ns.values()]
    return pd.DataFrame({
        "item": pd.Series([item] * len(sites), dtype="str"),
        "site": pd.Series(sites, dtype="str"),
        "valid_n": pd.Series(valid, dtype="int64"),
        "top2": pd.Series([50.0 + i for i in range(len(sites))], dtype="float64"),
    })


def reasons(out: pd.DataFrame) -> dict[str, str]:
    rows = out[out["suppressed"]]
    return dict(zip(rows["site"], rows["suppression"], strict=True))


def run(ns: dict[str, int], threshold: int = THRESHOLD) -> pd.DataFrame:
    return suppress(summary_table(ns), threshold, value_columns=["top2"])


def test_primary_and_secondary_when_one_site_suppressed():
    # A alone would be "all" minus B minus C: the smallest visible site (C, 7) is hidden too.
    assert reasons(run({"A": 3, "B": 10, "C": 7})) == {"A": "primary", "C": "secondary"}


def test_combined_n_rule_adds_sites_until_hidden_sites_reach_threshold():
    # A + B = 3 < 5 answers: their sum is still identifying; C and D tie at 10, C comes first in site order.
    assert reasons(run({"A": 1, "B": 2, "C": 10, "D": 10})) == {"A": "primary", "B": "primary", "C": "secondary"}


def test_two_primary_sites_with_enough_answers_need_no_secondary():
    assert reasons(run({"A": 2, "B": 3, "C": 10})) == {"A": "primary", "B": "primary"}


def test_secondary_repeats_while_still_recoverable():
    # A (1) alone -> add B (1); A + B = 2 < 5 -> add C (2); 4 < 5 -> add D (6).
    out = reasons(run({"A": 1, "B": 1, "C": 2, "D": 6, "E": 9}))
    assert out == {"A": "primary", "B": "primary", "C": "primary", "D": "secondary"}


def test_n_equal_threshold_is_not_suppressed():
    assert reasons(run({"A": 5, "B": 10})) == {}


def test_site_without_answers_is_neither_suppressed_nor_chosen_as_secondary():
    out = run({"A": 3, "B": 0, "C": 8})
    assert reasons(out) == {"A": "primary", "C": "secondary"}
    assert out.loc[out["site"] == "B", "top2"].notna().all()  # untouched: its NA comes from the aggregate


def test_nothing_left_to_hide_stops():
    assert reasons(run({"A": 3, "B": 0})) == {"A": "primary"}


def test_all_row_is_never_suppressed():
    out = run({"A": 3})
    total = out[out["site"] == ALL_SITES]
    assert not total["suppressed"].any()
    assert total["suppression"].tolist() == [""]
    assert total["top2"].tolist() == [50.0]


def test_suppressed_values_are_na_and_the_rest_unchanged():
    table = summary_table({"A": 3, "B": 10, "C": 7})
    out = suppress(table, THRESHOLD, value_columns=["top2"])
    hidden = out["suppressed"]
    assert out.loc[hidden, "top2"].isna().all()
    assert out.loc[~hidden, "top2"].tolist() == table.loc[~hidden.to_numpy(), "top2"].tolist()
    assert out["valid_n"].tolist() == table["valid_n"].tolist()  # n stays visible
    assert table["top2"].notna().all()  # the input is not modified
    assert "suppressed" not in table.columns


def distribution_table() -> pd.DataFrame:
    """Two items × (all, A, B, C) × 3 categories, like `distributions`."""
    rows = []
    ns = {"x": {"A": 2, "B": 9, "C": 6}, "y": {"A": 7, "B": 9, "C": 6}}
    for item, site_ns in ns.items():
        for site in [ALL_SITES, *site_ns]:
            n = sum(site_ns.values()) if site == ALL_SITES else site_ns[site]
            counts = [n // 3, n // 3, n - 2 * (n // 3)]
            for order, count in enumerate(counts, start=1):
                rows.append({"item": item, "site": site, "code": str(order), "order": order, "count": count,
                             "valid_n": n, "pct": 100 * count / n})
    return pd.DataFrame(rows).astype({"item": "str", "site": "str", "code": "str", "count": "int64"})


def test_all_category_rows_of_a_site_are_suppressed_together_and_groups_are_independent():
    out = suppress(distribution_table(), THRESHOLD, value_columns=["count", "pct"])
    x = out[out["item"] == "x"]
    assert x.groupby("site")["suppressed"].nunique().eq(1).all()
    assert reasons(x.drop_duplicates("site")) == {"A": "primary", "C": "secondary"}
    assert not out.loc[out["item"] == "y", "suppressed"].any()
    assert out.loc[out["suppressed"], ["count", "pct"]].isna().all().all()
    assert str(out["count"].dtype) == "Int64"


def test_integer_value_columns_become_nullable_even_without_suppression():
    out = suppress(summary_table({"A": 9}).assign(c=np.int64(1)), THRESHOLD, value_columns=["c"])
    assert str(out["c"].dtype) == "Int64"
    assert out["suppressed"].dtype == bool
    assert out.columns[-2:].tolist() == ["suppressed", "suppression"]


def test_other_n_and_group_columns():
    table = summary_table({"A": 3, "B": 10, "C": 7}).rename(columns={"item": "set", "valid_n": "respondents"})
    out = suppress(table, THRESHOLD, value_columns=["top2"], n_column="respondents", group_columns=["set"])
    assert reasons(out) == {"A": "primary", "C": "secondary"}


def test_no_secondary_without_an_overall_row():
    table = summary_table({"A": 3, "B": 10, "C": 7})
    out = suppress(table[table["site"] != ALL_SITES], THRESHOLD, value_columns=["top2"])
    assert reasons(out) == {"A": "primary"}


def test_inconsistent_n_within_a_unit_is_rejected():
    table = distribution_table()
    table.loc[1, "valid_n"] = 99
    with pytest.raises(ValueError, match="valid_n"):
        suppress(table, THRESHOLD, value_columns=["count"])


def test_suppression_summary_lists_each_unit_once():
    out = suppress(distribution_table(), THRESHOLD, value_columns=["count", "pct"])
    summary = suppression_summary(out)
    assert summary.to_dict("records") == [
        {"item": "x", "site": "A", "suppression": "primary"},
        {"item": "x", "site": "C", "suppression": "secondary"},
    ]


def test_random_tables_end_safe():
    """Property: afterwards no hidden set is recoverable, unless no visible site with answers is left."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        ns = [int(v) for v in rng.integers(0, 12, rng.integers(1, 8))]
        units = [(f"S{i}", n) for i, n in enumerate(ns)]
        got = decide(units, THRESHOLD)
        hidden = [n for site, n in units if site in got]
        visible = [n for site, n in units if site not in got and n > 0]
        assert {s for s, r in got.items() if r == "primary"} == {s for s, n in units if 0 < n < THRESHOLD}
        if hidden:
            assert (len(hidden) >= 2 and sum(hidden) >= THRESHOLD) or not visible
        assert all(n > 0 for site, n in units if got.get(site) == "secondary")
