"""The comparison of two Förderphasen: the change rule, the comparison tables, facts, texts and pages.

The two phases come from `conftest.make_two_phase_project`: 2015-2016 is 2013-2014 with known edits (S07 left,
S12 joined with S07's client questionnaires, S10 gained a steering group with S07's steering-group answers,
`bekanntheit` revised and moved up, `intensivierung` moved down, `erreichbarkeit` new,
`steuerungsgruppe_stadtentwicklung` dropped, every other answer unchanged).
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from thinka import ALL_SITES, api, change, comparison, comparison_plots, facts, publish_csv, texts
from thinka.codebook import load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.process import process_phase

from conftest import make_two_phase_project

Z95 = 1.959963984540054


# ----------------------------------------------------------------------------------------------------------------
# The change rule against hand-computed intervals


def _wilson_by_hand(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return 100 * (centre - half), 100 * (centre + half)


@pytest.mark.parametrize("k, n", [(35, 46), (0, 12), (5, 5), (81, 263)])
def test_wilson_matches_the_formula(k, n):
    interval = change.wilson(k, n)
    low, high = _wilson_by_hand(k, n)
    assert interval.low == pytest.approx(low, abs=1e-9)
    assert interval.high == pytest.approx(high, abs=1e-9)


def test_newcombe_matches_the_published_examples():
    # Newcombe (1998), Statistics in Medicine 17, table II, method 10: 56/70 - 48/80 and 9/10 - 3/10.
    first = change.share_change(56, 70, 48, 80)
    assert (round(first.interval.low / 100, 4), round(first.interval.high / 100, 4)) == (0.0524, 0.3339)
    assert first.diff == pytest.approx(20.0)
    assert first.verdict == change.UP
    second = change.share_change(9, 10, 3, 10)
    assert (round(second.interval.low / 100, 4), round(second.interval.high / 100, 4)) == (0.1705, 0.8090)


def test_newcombe_by_hand_from_two_wilson_intervals():
    k1, n1, k2, n2 = 30, 44, 32, 44
    l1, u1 = (x / 100 for x in _wilson_by_hand(k1, n1))
    l2, u2 = (x / 100 for x in _wilson_by_hand(k2, n2))
    p1, p2 = k1 / n1, k2 / n2
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    result = change.share_change(k1, n1, k2, n2)
    assert (result.interval.low, result.interval.high) == pytest.approx((100 * low, 100 * high), abs=1e-9)
    assert result.verdict == change.NONE  # two answers of 44 are noise


def test_the_verdict_follows_the_sign_of_the_whole_interval():
    assert change.verdict(change.Interval(0.1, 9)) == change.UP
    assert change.verdict(change.Interval(-9, -0.1)) == change.DOWN
    assert change.verdict(change.Interval(-0.1, 9)) == change.NONE
    assert change.share_change(10, 44, 30, 44).verdict == change.DOWN


def test_welch_interval_by_hand():
    from scipy.stats import t

    a, b = [3, 5, 8, 2, 9, 4, 7], [1, 2, 2, 3, 1, 2]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    va = sum((x - ma) ** 2 for x in a) / (len(a) - 1)
    vb = sum((x - mb) ** 2 for x in b) / (len(b) - 1)
    se2a, se2b = va / len(a), vb / len(b)
    df = (se2a + se2b) ** 2 / (se2a ** 2 / (len(a) - 1) + se2b ** 2 / (len(b) - 1))
    half = t.ppf(0.975, df) * math.sqrt(se2a + se2b)
    result = change.mean_change(ma, va, len(a), mb, vb, len(b))
    assert result.diff == pytest.approx(ma - mb)
    assert (result.interval.low, result.interval.high) == pytest.approx((ma - mb - half, ma - mb + half))
    assert result.verdict == change.UP


def test_the_rule_refuses_impossible_input():
    with pytest.raises(ValueError, match="0 <= k <= n"):
        change.wilson(6, 5)
    with pytest.raises(ValueError, match="confidence level"):
        change.share_change(1, 5, 2, 5, level=1.2)
    with pytest.raises(ValueError, match="at least 2 values"):
        change.mean_change(1.0, 0.0, 1, 2.0, 1.0, 5)


# ----------------------------------------------------------------------------------------------------------------
# The comparison tables against hand-written pandas


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """Processed once per module: the tests below only read it."""
    first, second = make_two_phase_project(tmp_path_factory.mktemp("two-phases"))
    process_phase(second)
    tables = api.load_tables(second.phase, root=second.root)
    return first, second, tables


def _raw(paths, instrument: str) -> pd.DataFrame:
    path = paths.raw / f"{instrument}.csv"
    return pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _top_share(frame: pd.DataFrame, column: str, site: str | None = None) -> tuple[int, int]:
    part = frame if site is None else frame[frame["standort"] == site]
    valid = part[column].isin(["1", "2", "3", "4", "5"])
    return int(part.loc[valid, column].isin(["1", "2"]).sum()), int(valid.sum())


def test_overall_change_matches_hand_written_pandas(compared):
    first, second, tables = compared
    changes = tables["comparison_changes"].set_index(["item", "option", "site"])
    for item, verdict in (("bekanntheit", "up"), ("intensivierung", "down"), ("froh_standort", "none")):
        k_prev, n_prev = _top_share(_raw(first, "expertenfragebogen"), item)
        k_now, n_now = _top_share(_raw(second, "expertenfragebogen"), item)
        row = changes.loc[(item, "", ALL_SITES)]
        assert (row["n_previous"], row["n_current"]) == (n_prev, n_now)
        assert row["value_previous"] == pytest.approx(100 * k_prev / n_prev)
        assert row["value_current"] == pytest.approx(100 * k_now / n_now)
        expected = change.share_change(k_now, n_now, k_prev, n_prev)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((expected.interval.low, expected.interval.high))
        assert row["verdict"] == verdict, item


def test_items_are_matched_by_id_new_dropped_and_revised(compared):
    _, _, tables = compared
    items = tables["comparison_items"].set_index("item")
    assert items.loc["erreichbarkeit", "status"] == "new"
    assert items.loc["steuerungsgruppe_stadtentwicklung", "status"] == "dropped"
    assert items.loc["bekanntheit", "status"] == "both"
    assert bool(items.loc["bekanntheit", "revised"])
    assert items.loc["bekanntheit", "earlier_wording"] == "Das ThINKA-Projekt ist im Sozialraum bekannt."
    assert not items.loc["froh_standort", "revised"]
    compared_items = set(tables["comparison_changes"]["item"])
    assert "erreichbarkeit" not in compared_items and "steuerungsgruppe_stadtentwicklung" not in compared_items
    assert "bekanntheit" in compared_items


def test_sites_that_left_joined_or_gained_a_steering_group(compared):
    _, _, tables = compared
    sites = tables["comparison_sites"].set_index("site")
    assert not sites.loc["S07", "in_current"] and sites.loc["S07", "in_previous"]
    assert sites.loc["S12", "in_current"] and not sites.loc["S12", "in_previous"]
    assert sites.loc["S10", "steering_current"] and not sites.loc["S10", "steering_previous"]
    changes = tables["comparison_changes"]
    assert set(changes.loc[changes["site"] == "S07", "reason"]) == {"site_left"}
    assert set(changes.loc[changes["site"] == "S12", "reason"]) == {"site_new"}
    steering = changes[(changes["site"] == "S10") & (changes["item"] == "anerkennung")]
    assert steering["reason"].tolist() == ["not_applicable_previous"]


def test_a_site_value_hidden_in_either_phase_is_never_compared(compared):
    first, second, tables = compared
    values = tables["comparison_values"]
    changes = tables["comparison_changes"]
    shown = values.set_index(["phase", "item", "option", "site"])["shown"]
    compared_rows = changes[changes["reason"] == ""]
    assert len(compared_rows) > 50
    for row in compared_rows.itertuples():
        assert shown[(first.phase, row.item, row.option, row.site)]
        assert shown[(second.phase, row.item, row.option, row.site)]
    hidden = changes[changes["reason"] != ""]
    assert hidden[["diff", "ci_low", "ci_high", "value_previous", "value_current"]].isna().all().all()
    # the values come from the published tables of each phase: the same hidden (item, site) pairs
    own = pd.read_parquet(second.processed / "summaries.parquet")
    secret = own[own["suppressed"]][["item", "site"]].itertuples(index=False)
    cur = values[values["phase"] == second.phase].set_index(["item", "site"])
    for item, site in secret:
        if (item, site) in cur.index:
            assert not cur.loc[[(item, site)], "shown"].any(), (item, site)


def test_site_change_matches_hand_written_pandas(compared):
    first, second, tables = compared
    changes = tables["comparison_changes"]
    row = changes[(changes["item"] == "nutzung") & (changes["site"] == "S10")].iloc[0]
    assert row["reason"] == ""

    def share(paths):
        raw = _raw(paths, "einzelfallfragebogen")
        raw = raw[raw["standort"] == "S10"]
        valid = raw["nutzung"].isin(["1", "2", "3", "4"])
        return 100 * raw.loc[valid, "nutzung"].isin(["1", "2"]).sum() / valid.sum()

    assert row["value_previous"] == pytest.approx(share(first))
    assert row["value_current"] == pytest.approx(share(second))


def test_running_statistics_continue_across_the_phase_edge(compared):
    first, second, tables = compared
    series = tables["comparison_series"]
    overall = series[(series["site"] == ALL_SITES) & (series["measure"] == "personen")]
    assert overall["quarter"].tolist() == [f"{y}-Q{q}" for y in range(2013, 2017) for q in range(1, 5)]
    assert set(overall.loc[overall["quarter"] < "2015", "phase"]) == {first.phase}
    assert set(overall.loc[overall["quarter"] >= "2015", "phase"]) == {second.phase}
    raw = {p.phase: _raw(p, "projektstatistik") for p in (first, second)}
    expected = [int(pd.to_numeric(raw[r.phase].loc[raw[r.phase]["quartal"] == r.quarter, "personen"]).sum())
                for r in overall.itertuples()]
    assert overall["value"].astype(int).tolist() == expected
    s12 = series[series["site"] == "S12"]
    assert set(s12["phase"]) == {second.phase}  # a new site's series starts with its phase


def test_comparison_needs_an_existing_previous_phase(two_phases):
    _, second = two_phases
    text = second.config.read_text(encoding="utf-8").replace("previous_phase: 2013-2014", "previous_phase: 2011-2012")
    second.config.write_text(text, encoding="utf-8")
    with pytest.raises(ThinkaError, match="2011-2012.*rule: the previous Förderphase must be a phase folder"):
        process_phase(second)


def test_a_phase_is_not_compared_with_itself(two_phases):
    _, second = two_phases
    text = second.config.read_text(encoding="utf-8").replace("previous_phase: 2013-2014", "previous_phase: 2015-2016")
    second.config.write_text(text, encoding="utf-8")
    with pytest.raises(ThinkaError, match="cannot be compared with itself"):
        load_phase(second.config)


def test_the_dimension_id_comparison_is_reserved(phase_copy):
    text = phase_copy.codebook.read_text(encoding="utf-8").replace("{id: individual,", "{id: comparison,")
    phase_copy.codebook.write_text(text, encoding="utf-8")
    with pytest.raises(ThinkaError, match="reserved"):
        load_codebook(phase_copy.codebook)


# ----------------------------------------------------------------------------------------------------------------
# Facts and texts


def _facts(second, tables):
    return facts.compute_facts(tables, load_phase(second.config), load_codebook(second.codebook))


def test_change_facts(compared):
    _, second, tables = compared
    book = _facts(second, tables)
    row = tables["comparison_changes"].set_index(["item", "option", "site"]).loc[("bekanntheit", "", ALL_SITES)]
    assert book["change.bekanntheit.verdict"].value == "gestiegen"
    assert book["change.intensivierung.verdict"].value == "gesunken"
    assert book["change.froh_standort.verdict"].value == "keine gesicherte Veränderung"
    assert book["change.bekanntheit.diff"].value == pytest.approx(abs(row["diff"]))
    assert facts.format_fact(book["change.intensivierung.diff"]) == facts.format_number(
        abs(book["change.intensivierung.current"].value - book["change.intensivierung.previous"].value))
    with pytest.raises(KeyError, match="not compared"):
        book["change.erreichbarkeit.diff"]


def test_check_texts_flags_a_rise_the_rule_does_not_support(compared):
    _, second, tables = compared
    book = _facts(second, tables)
    text = (
        "Die Bekanntheit ist um {{27|change.bekanntheit.diff}} Prozentpunkte gestiegen.\n\n"
        "Die Zufriedenheit mit dem Vorhaben ist um {{0|change.froh_standort.diff}} Prozentpunkte gestiegen.\n\n"
        "Der Wunsch nach mehr Zusammenarbeit hat um {{30|change.intensivierung.diff}} Prozentpunkte zugenommen.\n\n"
        "Bei der Zufriedenheit gibt es {{keine gesicherte Veränderung|change.froh_standort.verdict}}.\n"
    )
    issues = [i for i in texts.check_text("vergleich.md", text, book) if i.problem == "unsupported change"]
    assert [(i.line, i.written, i.key) for i in issues] == [
        (3, "gestiegen", "change.froh_standort.verdict"),
        (5, "zugenommen", "change.intensivierung.verdict"),
    ]
    assert "keine gesicherte Veränderung" in texts.format_text_issues(issues)


def test_keys_only_check_knows_change_keys(two_phases):
    _, second = two_phases
    keys = facts.FactKeys(load_phase(second.config), load_codebook(second.codebook))
    assert "change.bekanntheit.verdict" in keys
    assert "change.aufmerksam.diff" not in keys  # multiple response: compared per option in the tables only


# ----------------------------------------------------------------------------------------------------------------
# Pages and chart data


def test_overall_comparison_page(compared):
    _, second, _ = compared
    unit = api.load_comparison(second.phase, ALL_SITES, second.root)
    page = comparison_plots.render_comparison(unit)
    assert "Veränderungen gegenüber der Förderphase 2013–2014" in page
    assert 'id="vergleich-sozialraum"' in page and 'id="vergleich-verwaltung"' in page
    assert "In der Förderphase 2013–2014 lautete die Aussage: „Das ThINKA-Projekt ist im Sozialraum bekannt.“" in page
    assert "Die Kontaktstelle ist gut erreichbar." in page  # listed as new
    assert "Nicht mehr dabei: Standort 07 (Platzhalter)" in page and "Neu hinzugekommen: Standort 12" in page
    assert page.count("<td class=\"zahl\">gestiegen</td>") == 1 and page.count("<td class=\"zahl\">gesunken</td>") == 1
    assert re.search(r"alt=\"Punktdiagramm[^\"]+\"", page)
    label = unit.codebook.instruments[unit.codebook.instrument_of_kind("running_statistics")].label
    assert f"<h2>{label} über beide Förderphasen</h2>" in page and f"Daten: {label} der Standorte" in page
    assert f"Liniendiagramm „{label}“ je Quartal" in page and "<th>Quartal</th>" in page


def test_site_pages_compare_only_what_both_phases_show(compared):
    _, second, _ = compared
    new = comparison_plots.render_comparison(api.load_comparison(second.phase, "S12", second.root))
    assert "neu hinzugekommen" in new and "<table class=\"itemtabelle\"" not in new
    gained = comparison_plots.render_comparison(api.load_comparison(second.phase, "S10", second.root))
    assert "keine Steuerungsgruppe, ein Vorwert fehlt" in gained
    assert "anerkannt" not in gained  # no steering-group item compared at S10
    small = comparison_plots.render_comparison(api.load_comparison(second.phase, "S02", second.root))
    assert "zu wenige Antworten" in small
    for page in (gained, small):
        cells = re.findall(r'<td class="zahl">([^<]*)</td>', page)
        assert "." not in cells  # no row of marks: hidden values are left out, with one notice


def test_comparison_csv_has_both_phases_and_blank_hidden_values(compared):
    first, second, tables = compared
    config = load_phase(second.config)
    label = lambda s: s  # noqa: E731
    frame = publish_csv.comparison_csv(tables["comparison_values"], tables["comparison_items"], "sozialraum",
                                       config.disclosure, label)
    assert set(frame["phase"]) == {first.phase, second.phase}
    assert list(frame.columns) == publish_csv.COMPARISON_CSV_COLUMNS
    hidden = frame[frame["reason"].isin(["primary", "secondary"])]
    assert len(hidden) and hidden[["value", "ci_low", "ci_high", "n"]].isna().all().all()
    assert set(hidden["mark"]) == {"."}
    left = frame[(frame["site"] == "S07") & (frame["phase"] == second.phase)]
    assert set(left["reason"]) == {comparison.NOT_IN_PHASE} and set(left["mark"]) == {"x"}
