"""The reader model and audit engine (thinka.audit) against hand-computed cases, the published-CSV audit and the
`thinka audit` command, and an end-to-end check that the shipped phase's published files leak nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_phase_project

from thinka import audit, cli
from thinka.audit import DISTRIBUTION, MENTIONS, TOP, Group, ItemInfo, Rules, SiteView, derivable, returned_cap
from thinka.publish_csv import (
    CHART_CSV_COLUMNS,
    RESPONSES_CSV_COLUMNS,
    TABLE_CSV_COLUMNS,
    read_published,
    write_csv,
)

RULES = Rules(threshold=5, protect_zeros=True, exact_n=False)
NO_ZEROS = Rules(threshold=5, protect_zeros=False, exact_n=False)


def pins(findings) -> set[tuple]:
    return {(f.site, f.what, f.category, f.value) for f in findings}


def homogeneous() -> Group:
    """39 answers, 38 in category 1; the shown site C has the only answer in 2: A and B are all 1s."""
    sites = (SiteView("A", "primary"), SiteView("B", "secondary"), SiteView("C", "", n=30, counts={"1": 29, "2": 1}))
    return Group("x", DISTRIBUTION, ("1", "2"), {"1": 38, "2": 1}, 39, sites)


def test_homogeneous_hidden_group_pins_100_percent():
    found = pins(derivable(homogeneous(), NO_ZEROS))
    assert found == {("A", "share", "1", 100.0), ("B", "share", "1", 100.0)}
    assert "all 9 hidden answers in category 1" in derivable(homogeneous(), NO_ZEROS)[0].how


def test_zero_cells_count_only_when_protected():
    zeros = {("A", "count", "2", 0.0), ("B", "count", "2", 0.0), ("A", "share", "2", 0.0), ("B", "share", "2", 0.0)}
    assert zeros <= pins(derivable(homogeneous(), RULES))
    assert not zeros & pins(derivable(homogeneous(), NO_ZEROS))


def test_single_hidden_site_is_pinned_and_n_counts_unless_exact_n_is_shown():
    sites = (SiteView("A", "primary"), SiteView("B", "", n=10, counts={"1": 6, "2": 4}),
             SiteView("C", "", n=10, counts={"1": 3, "2": 7}))
    group = Group("x", DISTRIBUTION, ("1", "2"), {"1": 11, "2": 12}, 23, sites)
    found = pins(derivable(group, RULES))
    assert {("A", "n", "", 3.0), ("A", "count", "1", 2.0), ("A", "count", "2", 1.0)} <= found
    shares = {c: v for s, w, c, v in found if (s, w) == ("A", "share")}
    assert shares == {"1": pytest.approx(200 / 3), "2": pytest.approx(100 / 3)}
    exact = pins(derivable(group, Rules(5, True, True)))
    assert ("A", "n", "", 3.0) not in exact and ("A", "count", "1", 2.0) in exact


def test_two_hidden_sites_with_a_mixed_split_reveal_nothing():
    # hidden: R = 9 answers, 5 in category 1 and 4 in 2; A has 1…4 answers, B 5…8: no cell is forced.
    sites = (SiteView("A", "primary"), SiteView("B", "secondary"), SiteView("C", "", n=20, counts={"1": 10, "2": 10}))
    group = Group("x", DISTRIBUTION, ("1", "2"), {"1": 15, "2": 14}, 29, sites)
    assert derivable(group, RULES) == []


def test_overall_row_alone_is_not_a_finding():
    # 100 % agreement overall: every hidden site is at 100 % whatever is suppressed.
    sites = (SiteView("A", "primary"), SiteView("B", "secondary"), SiteView("C", "", n=20, counts={"1": 20}))
    group = Group("x", DISTRIBUTION, ("1", "2"), {"1": 29, "2": 0}, 29, sites)
    assert derivable(group, RULES) == []


def test_n_pinned_by_the_published_returned_questionnaires():
    # A returned 3 questionnaires (published as "<5": at most 4), B returned 6; 10 hidden answers ⇒ A 4, B 6.
    def group(cap_a, cap_b):
        sites = (SiteView("A", "primary", cap=cap_a), SiteView("B", "secondary", cap=cap_b),
                 SiteView("C", "", n=20, counts={"1": 10, "2": 10}))
        return Group("x", DISTRIBUTION, ("1", "2"), {"1": 15, "2": 15}, 30, sites)

    assert returned_cap(3, RULES) == 4 and returned_cap(6, RULES) == 6 and returned_cap(3, Rules(5, True, True)) == 3
    found = pins(derivable(group(returned_cap(3, RULES), returned_cap(6, RULES)), NO_ZEROS))
    assert {("A", "n", "", 4.0), ("B", "n", "", 6.0)} <= found
    assert not any(what == "n" for _, what, _, _ in pins(derivable(group(None, None), NO_ZEROS)))


def test_grade_mean_of_the_only_hidden_site():
    values = {"1": 1.0, "2": 2.0, "3": 3.0}
    sites = (SiteView("A", "primary"), SiteView("B", "", n=6, counts={"1": 2, "2": 2, "3": 2}))
    group = Group("x", DISTRIBUTION, ("1", "2", "3"), {"1": 4, "2": 3, "3": 3}, 10, sites, values=values)
    # hidden: 2 × 1, 1 × 2, 1 × 3 ⇒ mean 7 / 4
    assert ("A", "mean", "", 1.75) in pins(derivable(group, NO_ZEROS))


def test_grade_mean_bounds_of_two_hidden_sites():
    values = {"1": 1.0, "2": 2.0}
    group = Group("x", DISTRIBUTION, ("1", "2"), {"1": 10, "2": 9}, 19,
                  (SiteView("A", "primary"), SiteView("B", "secondary")), values=values)
    bounds = audit.hidden_bounds(group, RULES)
    assert bounds["A"][("mean", "")] == (1.0, 2.0)
    assert bounds["B"][("n", "")] == (15, 18)


def test_item_table_publishes_only_the_top_share():
    sites = (SiteView("A", "primary"), SiteView("B", "secondary"),
             SiteView("C", "", n=20, counts={"top": 10, "rest": 10}))
    group = Group("x", TOP, ("top", "rest"), {"top": 19, "rest": 10}, 29, sites)
    assert pins(derivable(group, NO_ZEROS)) == {("A", "share", "top", 100.0), ("B", "share", "top", 100.0)}


def test_mentions_single_hidden_site_and_zero_options():
    sites = (SiteView("A", "primary"), SiteView("B", "", n=12, counts={"a": 5, "b": 7, "c": 0}))
    group = Group("m", MENTIONS, ("a", "b", "c"), {"a": 7, "b": 8, "c": 0}, 15, sites)
    found = pins(derivable(group, RULES))
    assert {("A", "count", "a", 2.0), ("A", "count", "b", 1.0), ("A", "n", "", 3.0)} <= found
    assert ("A", "count", "c", 0.0) not in found  # nobody overall chose c


def test_mentions_two_hidden_sites_hide_the_split():
    sites = (SiteView("A", "primary"), SiteView("B", "secondary"), SiteView("C", "", n=12, counts={"a": 5, "b": 7}))
    group = Group("m", MENTIONS, ("a", "b"), {"a": 9, "b": 14}, 23, sites)
    assert derivable(group, RULES) == []
    # option b has no hidden mention: a zero for both hidden sites
    group = Group("m", MENTIONS, ("a", "b"), {"a": 9, "b": 7}, 16, sites)
    assert {("A", "count", "b", 0.0), ("B", "count", "b", 0.0)} <= pins(derivable(group, RULES))
    assert {("A", "share", "a", 100.0), ("B", "share", "a", 100.0)} == pins(derivable(group, NO_ZEROS))


# ----------------------------------------------------------------------------------------------------------------
# the published files


def chart_rows(site: str, n: int | None, counts: dict[str, int] | None, reason: str) -> list[dict]:
    rows = []
    for order, code in enumerate(("1", "2"), start=1):
        count = None if counts is None else counts[code]
        rows.append({
            "schaubild": 1, "item": "x", "series": "=x", "site": site, "site_label": site, "category": f"c{code}",
            "code": code, "order": order, "pct": None if count is None else 100 * count / n, "count": count,
            "valid_n": n if counts is not None else None, "mean": None,
            "mark": "." if reason else "", "reason": reason,
        })
    return rows


def write_leaky_report(daten: Path) -> None:
    """A chart whose two hidden sites hold only answers in category 1 (derivable: 100 %)."""
    overall = chart_rows("all", 39, {"1": 38, "2": 1}, "")
    write_csv(daten / "schaubild_01.csv", pd.DataFrame(overall, columns=CHART_CSV_COLUMNS), daten)
    sites = {"S01": chart_rows("S01", None, None, "primary"), "S02": chart_rows("S02", None, None, "secondary"),
             "S03": chart_rows("S03", 30, {"1": 29, "2": 1}, "")}
    for site, rows in sites.items():
        write_csv(daten / "standorte" / site / "schaubild_01.csv", pd.DataFrame(rows + overall, columns=CHART_CSV_COLUMNS),
                  daten)
    write_csv(daten / "tabelle_a_1.csv", pd.DataFrame(columns=TABLE_CSV_COLUMNS), daten)
    write_csv(daten / "ruecklauf.csv", pd.DataFrame(columns=RESPONSES_CSV_COLUMNS), daten)


def test_audit_of_crafted_csvs_reports_the_leak(tmp_path):
    write_leaky_report(tmp_path)
    published = read_published(tmp_path)
    assert len(published["charts"]) == 8  # overall rows deduplicated across the site files
    found = audit.audit_published(published, {"x": ItemInfo("q")}, NO_ZEROS)
    assert pins(found) == {("S01", "share", "1", 100.0), ("S02", "share", "1", 100.0)}


def test_cli_audit_exit_codes(phase_copy, capsys):
    argv = ["audit", "--root", str(phase_copy.root), "--phase", phase_copy.phase]
    assert cli.main(argv) == 2
    assert "thinka build" in capsys.readouterr().err
    write_leaky_report(phase_copy.report / "daten")
    assert cli.main(argv) == 1
    out = capsys.readouterr()
    assert "S01\tx\tshare[1] = 100 %\tall 9 hidden answers in category 1" in out.out
    assert "derivable" in out.err


@pytest.fixture(scope="module")
def published_phase(tmp_path_factory, repo_root):
    """The shipped phase processed and its daten/ CSVs written (no notebooks: fast)."""
    import shutil

    from thinka.codebook import load_codebook, load_phase
    from thinka.paths import PhasePaths
    from thinka.process import process_phase
    from thinka.publish_csv import write_published_csvs

    root = tmp_path_factory.mktemp("published")
    paths = copy_phase_project(root)
    process_phase(paths)
    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    write_published_csvs(paths, paths.report, codebook, config)
    return paths, config, codebook


def test_shipped_phase_publishes_nothing_derivable(published_phase, capsys):
    paths, _, _ = published_phase
    assert cli.main(["audit", "--root", str(paths.root), "--phase", paths.phase]) == 0, capsys.readouterr().out
    assert "no hidden value is derivable" in capsys.readouterr().out


def test_shipped_phase_csvs_hide_values_and_n(published_phase):
    paths, config, codebook = published_phase
    daten = paths.report / "daten"
    published = read_published(daten)
    charts = published["charts"]
    assert list(pd.read_csv(daten / "schaubild_01.csv", sep=";").columns) == CHART_CSV_COLUMNS
    hidden = charts[charts["reason"].isin(["primary", "secondary"])]
    assert len(hidden) and hidden[["pct", "count", "valid_n", "mean"]].isna().all().all()
    assert set(hidden["mark"]) == {"."}
    shown = charts[charts["reason"].isna() & (charts["site"] != "all")]
    assert shown["valid_n"].notna().all() and shown["mark"].isna().all()
    assert set(charts.loc[charts["reason"] == "not_applicable", "mark"]) <= {"x"}
    tables = published["tables"]
    assert len(tables) and tables.loc[tables["reason"].isin(["primary", "secondary"]), ["top", "valid_n"]].isna().all().all()
    responses = published["responses"]
    small = responses[responses["reason"] == "primary"]
    assert len(small) and small["n"].isna().all()
    questionnaires = responses["instrument"].map(lambda i: codebook.instruments[i].kind == "questionnaire")
    shown_n = responses.loc[questionnaires & responses["reason"].isna(), "n"]
    assert ((shown_n == 0) | (shown_n >= config.disclosure.threshold)).all()


def test_shipped_phase_csv_numbers_stay_numbers(published_phase):
    import csv

    paths, _, _ = published_phase
    with open(paths.report / "daten" / "schaubild_01.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert rows and all(r["count"].isdigit() and r["valid_n"].isdigit() for r in rows if r["site"] == "all")
    float(rows[0]["pct"])


@pytest.mark.slow
def test_built_report_publishes_nothing_derivable(full_build, capsys):
    paths, result, _ = full_build
    assert result.ok, result.summary()
    assert cli.main(["audit", "--root", str(paths.root), "--phase", paths.phase]) == 0, capsys.readouterr().out


def test_chart_csv_blanks_hidden_values_and_n_unless_exact_n():
    from thinka.publish_csv import chart_csv

    frame = pd.DataFrame([
        {"schaubild": 1, "item": "x", "series": "x", "site": s, "site_label": s, "category": "c", "code": "1",
         "order": 1, "pct": 50.0, "count": 2.0, "valid_n": 4.0, "mean": 1.5, "suppressed": r in ("primary", "secondary"),
         "reason": r}
        for s, r in [("A", ""), ("B", "primary"), ("C", "secondary"), ("D", "no_answers"), ("E", "not_applicable")]
    ])
    out = chart_csv(frame, RULES)
    assert list(out.columns) == CHART_CSV_COLUMNS
    assert out["mark"].tolist() == ["", ".", ".", ".", "x"]
    assert out.loc[1:2, ["pct", "count", "valid_n", "mean"]].isna().all().all()
    assert out.loc[0, "count"] == 2 and str(out["count"].dtype) == "Int64"
    exact = chart_csv(frame, Rules(5, True, True))
    assert exact["valid_n"].tolist()[:3] == [4, 4, 4] and exact.loc[1:2, "pct"].isna().all()
