"""Disclosure control: primary and secondary suppression (base rule, and until the reader model derives nothing),
checked on hand-made and random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thinka import ALL_SITES, audit
from thinka.disclosure import (
    Publication,
    decide,
    decide_until_clean,
    suppress,
    suppress_published,
    suppression_summary,
)

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


# ----------------------------------------------------------------------------------------------------------------
# suppression that holds against the reader model (thinka.audit)

RULES = audit.Rules(threshold=THRESHOLD, protect_zeros=True, exact_n=False)
VALUES = {"distributions": ("count", "pct"), "summaries": ("top2", "bottom2", "mean"),
          "mentions": ("count", "pct_mentions", "pct_respondents")}


def test_decide_until_clean_adds_smallest_sites_while_leaking():
    units = [("A", 3), ("B", 8), ("C", 6), ("D", 6), ("E", 20)]
    calls = []

    def leaks(reasons):
        calls.append(dict(reasons))
        return len(reasons) < 4

    got = decide_until_clean(units, THRESHOLD, leaks)
    # base rule: A + C (smallest, first in site order); then D (6), then B (8) while the check still leaks
    assert got == {"A": "primary", "C": "secondary", "D": "secondary", "B": "secondary"}
    assert calls[0] == {"A": "primary", "C": "secondary"}
    assert decide_until_clean(units, THRESHOLD, None) == {"A": "primary", "C": "secondary"}
    assert decide_until_clean(units, THRESHOLD, lambda r: True) == {s: r for s, r in [
        ("A", "primary"), ("C", "secondary"), ("D", "secondary"), ("B", "secondary"), ("E", "secondary")]}


def item_tables(site_counts: dict[str, dict[str, int]], item: str = "x") -> dict[str, pd.DataFrame]:
    """distributions + summaries of one item (codes 1, 2) from per-site counts; the overall row is their sum."""
    codes = ["1", "2"]
    everything = {ALL_SITES: {c: sum(v[c] for v in site_counts.values()) for c in codes}, **site_counts}
    dist, summ = [], []
    for site, counts in everything.items():
        n = sum(counts.values())
        for order, code in enumerate(codes, start=1):
            dist.append({"item": item, "instrument": "q", "site": site, "code": code, "order": order,
                         "count": counts[code], "valid_n": n, "pct": 100 * counts[code] / n if n else np.nan})
        summ.append({"item": item, "instrument": "q", "site": site, "valid_n": n,
                     "top2": 100 * counts["1"] / n if n else np.nan, "bottom2": np.nan, "mean": np.nan})
    return {"distributions": pd.DataFrame(dist).astype({"count": "int64"}), "summaries": pd.DataFrame(summ)}


def reader_group(out: dict[str, pd.DataFrame], item: str = "x") -> audit.Group:
    """What a reader of the published chart sees of the suppressed tables."""
    dist = out["distributions"][out["distributions"]["item"] == item]
    total = dist[dist["site"] == ALL_SITES]
    sites = []
    for site, part in dist[dist["site"] != ALL_SITES].groupby("site", sort=False):
        reason = str(part["suppression"].iloc[0])
        n = int(part["valid_n"].iloc[0])
        counts = {} if reason else {str(c): int(v) for c, v in zip(part["code"], part["count"], strict=True)}
        sites.append(audit.reader_view(site, reason or ("" if n else "no_answers"), n, counts, None, RULES))
    return audit.Group(item, audit.DISTRIBUTION, ("1", "2"),
                       {str(c): int(v) for c, v in zip(total["code"], total["count"], strict=True)},
                       int(total["valid_n"].iloc[0]), tuple(sites))


def run_published(site_counts, rules=RULES, publication=Publication("q", chart="distribution")):
    return suppress_published(item_tables(site_counts), {"x": publication}, rules, value_columns=VALUES)


def test_homogeneous_hidden_answers_force_another_site():
    # Base rule: A (3, primary) + B (5, smallest visible). Both all 1s while the 2s sit at C and D: A and B are
    # 100 % derivable, so C (6) is added; then the hidden split is mixed.
    site_counts = {"A": {"1": 3, "2": 0}, "B": {"1": 5, "2": 0}, "C": {"1": 4, "2": 2}, "D": {"1": 10, "2": 10}}
    out = run_published(site_counts)
    assert reasons(out["distributions"]) == {"A": "primary", "B": "secondary", "C": "secondary"}
    assert reasons(out["summaries"]) == reasons(out["distributions"])  # one decision per item
    assert audit.derivable(reader_group(out), RULES) == []
    assert out["distributions"].loc[out["distributions"]["suppressed"], "count"].isna().all()
    # The old rule alone would have stopped at A + B:
    assert decide([("A", 3), ("B", 5), ("C", 6), ("D", 20)], THRESHOLD) == {"A": "primary", "B": "secondary"}


def test_unpublished_item_gets_the_base_rule_only():
    site_counts = {"A": {"1": 3, "2": 0}, "B": {"1": 5, "2": 0}, "C": {"1": 4, "2": 2}, "D": {"1": 10, "2": 10}}
    out = run_published(site_counts, publication=Publication("q"))
    assert reasons(out["distributions"]) == {"A": "primary", "B": "secondary"}


def test_zero_cells_drive_suppression_only_when_protected():
    # Hidden A (3) + B (5) hold 4 × 1 and 4 × 3 but no 2: zeros derivable, no share is pinned.
    codes3 = {"A": {"1": 2, "2": 0, "3": 1}, "B": {"1": 2, "2": 0, "3": 3}, "C": {"1": 2, "2": 3, "3": 1},
              "D": {"1": 5, "2": 5, "3": 5}}
    tables = three_code_tables(codes3)
    pub = {"x": Publication("q", chart="distribution")}
    protected = suppress_published(tables, pub, RULES, value_columns=VALUES)
    relaxed = suppress_published(tables, pub, audit.Rules(THRESHOLD, False, False), value_columns=VALUES)
    assert reasons(relaxed["distributions"]) == {"A": "primary", "B": "secondary"}
    assert reasons(protected["distributions"]) == {"A": "primary", "B": "secondary", "C": "secondary"}


def three_code_tables(site_counts: dict[str, dict[str, int]]) -> dict[str, pd.DataFrame]:
    codes = ["1", "2", "3"]
    everything = {ALL_SITES: {c: sum(v[c] for v in site_counts.values()) for c in codes}, **site_counts}
    dist, summ = [], []
    for site, counts in everything.items():
        n = sum(counts.values())
        for order, code in enumerate(codes, start=1):
            dist.append({"item": "x", "site": site, "code": code, "order": order, "count": counts[code],
                         "valid_n": n, "pct": 100 * counts[code] / n})
        summ.append({"item": "x", "site": site, "valid_n": n, "top2": np.nan, "bottom2": np.nan, "mean": np.nan})
    return {"distributions": pd.DataFrame(dist).astype({"count": "int64"}), "summaries": pd.DataFrame(summ)}


def test_overall_row_is_never_suppressed_and_schema_is_kept():
    site_counts = {"A": {"1": 3, "2": 1}, "B": {"1": 5, "2": 3}, "C": {"1": 6, "2": 6}}
    out = run_published(site_counts)
    for name, frame in out.items():
        assert {"suppressed", "suppression"} <= set(frame.columns)
        assert not frame.loc[frame["site"] == ALL_SITES, "suppressed"].any()
        assert set(frame["suppression"]) <= {"", "primary", "secondary"}
    assert str(out["distributions"]["count"].dtype) == "Int64"


def mention_table(site_counts: dict[str, tuple[int, dict[str, int]]]) -> pd.DataFrame:
    """mentions of item m: per site (respondents, {option: count})."""
    total_r = sum(r for r, _ in site_counts.values())
    total = {o: sum(c[o] for _, c in site_counts.values()) for o in ("a", "b")}
    rows = []
    for site, (resp, counts) in {ALL_SITES: (total_r, total), **site_counts}.items():
        mentions = sum(counts.values())
        for order, option in enumerate(("a", "b"), start=1):
            rows.append({"item": "m", "site": site, "option": option, "label": option, "order": order,
                         "count": counts[option], "mentions": mentions, "respondents": resp,
                         "pct_mentions": 100 * counts[option] / mentions, "pct_respondents": 100 * counts[option] / resp})
    return pd.DataFrame(rows).astype({"count": "int64"})


def test_mentions_are_decided_on_their_own():
    # A (3 respondents) hidden with B (5): nobody hidden chose b, so every hidden mention is an a (100 % of
    # mentions, and zeros for b) whether or not zeros are protected; hiding C (6) too spreads the b-mentions.
    table = mention_table({"A": (3, {"a": 3, "b": 0}), "B": (5, {"a": 5, "b": 0}), "C": (6, {"a": 0, "b": 6}),
                           "D": (20, {"a": 10, "b": 12})})
    pubs = {"m": Publication("q", chart="mentions")}
    out = suppress_published({"mentions": table}, pubs, RULES, value_columns=VALUES)["mentions"]
    assert reasons(out) == {"A": "primary", "B": "secondary", "C": "secondary"}
    relaxed = suppress_published({"mentions": table}, pubs, audit.Rules(THRESHOLD, False, False),
                                 value_columns=VALUES)["mentions"]
    assert reasons(relaxed) == {"A": "primary", "B": "secondary", "C": "secondary"}
    assert out.loc[out["suppressed"], ["count", "pct_mentions", "pct_respondents"]].isna().all().all()


def test_random_tables_are_clean_after_suppression():
    """Property: after suppress_published the reader derives nothing, unless every site with answers is hidden."""
    rng = np.random.default_rng(11)
    for rules in (RULES, audit.Rules(THRESHOLD, False, False)):
        for _ in range(150):
            k = int(rng.integers(2, 7))
            site_counts = {f"S{i}": {"1": int(a), "2": int(b)} for i, (a, b) in
                           enumerate(rng.integers(0, 7, size=(k, 2)))}
            out = run_published(site_counts, rules)
            hidden = set(reasons(out["distributions"]))
            with_data = {s for s, c in site_counts.items() if sum(c.values()) > 0}
            if hidden and hidden != with_data:
                assert audit.derivable(reader_group(out), rules) == [], site_counts
