"""Facts: half-up rounding, German formats, and every key kind on a small hand-made set of tidy tables."""

from __future__ import annotations

import pandas as pd
import pytest

from thinka.codebook import load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.facts import (
    Fact,
    UnknownFactError,
    compute_facts,
    format_fact,
    format_number,
    format_percent,
    is_valid_key,
    labels_sum,
    round_half_up,
)

# ------------------------------------------------------------------------------------------------ rounding


@pytest.mark.parametrize(
    ("x", "nd", "expected"),
    [
        (76.5, 0, 77),
        (2.25, 1, 2.3),
        (2.35, 1, 2.4),  # binary 2.35 is 2.34999..., the reader sees 2.35
        (0.5, 0, 1),
        (1.5, 0, 2),
        (2.5, 0, 3),  # banker's rounding would give 2
        (-2.5, 0, -3),
        (14.499999999999998, 0, 15),  # 0.145 * 100: float noise of a half
        (81.818, 0, 82),
        (76.49, 0, 76),
        (2.675, 2, 2.68),
    ],
)
def test_round_half_up(x, nd, expected):
    got = round_half_up(x, nd)
    assert got == expected
    assert isinstance(got, int) == (nd == 0)


def test_round_half_up_rejects_missing():
    with pytest.raises(ValueError):
        round_half_up(None)


# ------------------------------------------------------------------------------------------------ formatting


def test_format_number_and_percent():
    assert format_number(1457) == "1.457"
    assert format_number(9417.4) == "9.417"
    assert format_number(1234567.25, 1) == "1.234.567,3"
    assert format_number(2.25, 1) == "2,3"
    assert format_number(None) == "."
    assert format_percent(81.818) == "82\u00a0%"
    assert format_percent(36.36, 1) == "36,4\u00a0%"
    assert format_percent(float("nan")) == "."


@pytest.mark.parametrize(
    ("fact", "text"),
    [
        (Fact("a", 76.5, "percent"), "77"),
        (Fact("a", 2.25, "mean"), "2,3"),
        (Fact("a", 2.2, "mean"), "2,2"),
        (Fact("a", 6.4633, "decimal"), "6,5"),
        (Fact("a", 1457, "count"), "1.457"),
        (Fact("a", 51.67, "count"), "52"),
        (Fact("a", "Schulden", "text"), "Schulden"),
        (Fact("a", None, "percent"), "."),
        (Fact("a", None, "text"), "."),
    ],
)
def test_format_fact(fact, text):
    assert format_fact(fact) == text


def test_fact_kind_is_checked():
    with pytest.raises(ValueError, match="kind"):
        Fact("a", 1, "percentage")


def test_key_grammar():
    assert is_valid_key("item.anerkennung.share.1+2+3")
    assert is_valid_key("stats.beratungen.2014-Q4")
    assert not is_valid_key("item.anerkennung.share.1")  # a share needs at least two codes
    assert not is_valid_key("schaubild.x.n")
    assert not is_valid_key("Schaubild 3")


# ------------------------------------------------------------------------------------------------ fixture


@pytest.fixture(scope="module")
def config(repo_root):
    return load_phase(repo_root / "data" / "raw" / "2013-2014" / "phase.yaml")


@pytest.fixture(scope="module")
def codebook(repo_root):
    return load_codebook(repo_root / "data" / "raw" / "2013-2014" / "codebook.yaml")


def _dist(item, instrument, site, counts, suppressed=False):
    """Distribution and summary rows of one item at one site from its count vector (codes 1..k)."""
    n = sum(counts)
    rows = []
    for i, c in enumerate(counts, start=1):
        rows.append(
            {"item": item, "instrument": instrument, "site": site, "code": str(i), "label": f"L{i}", "order": i,
             "count": pd.NA if suppressed else c, "valid_n": pd.NA if suppressed else n,
             "pct": float("nan") if suppressed else 100.0 * c / n, "suppressed": suppressed,
             "suppression": "primary" if suppressed else None}
        )
    return rows


def _summary(item, instrument, site, valid_n, top2=None, bottom2=None, mean=None, suppressed=False):
    return {"item": item, "instrument": instrument, "site": site, "n_rows": valid_n, "valid_n": valid_n,
            "missing_n": 0, "top2": top2, "bottom2": bottom2, "mean": mean, "suppressed": suppressed,
            "suppression": "primary" if suppressed else None}


@pytest.fixture(scope="module")
def tables():
    ex, ein = "expertenfragebogen", "einzelfallfragebogen"
    dist = (
        _dist("anerkennung", ex, "all", [2, 3, 1, 1, 1])  # n=8: 25 / 37.5 / 12.5 / 12.5 / 12.5
        + _dist("anerkennung", ex, "S01", [1, 2, 2, 0, 0])
        + _dist("anerkennung", ex, "S03", [1, 1, 0, 0, 0], suppressed=True)
        + _dist("aktivierung", ex, "all", [1, 1, 2, 0, 0, 0])  # mean (1+2+3+3)/4 = 2.25
        + _dist("integration_sozial", ex, "all", [1, 1, 1, 1, 0, 0])
        + _dist("integration_beruflich", ex, "all", [0, 3, 2, 1, 0, 0])
        + _dist("weiterempfehlung", ein, "all", [7, 1])
    )
    summ = [
        _summary("anerkennung", ex, "all", 8, top2=62.5, bottom2=25.0),
        _summary("anerkennung", ex, "S01", 5, top2=60.0, bottom2=0.0),
        _summary("anerkennung", ex, "S03", pd.NA, suppressed=True),
        _summary("aktivierung", ex, "all", 4, top2=50.0, bottom2=0.0, mean=2.25),
        _summary("integration_sozial", ex, "all", 4, top2=50.0, bottom2=25.0, mean=2.5),
        _summary("integration_beruflich", ex, "all", 6, top2=50.0, bottom2=100 / 6, mean=16 / 6),
        _summary("weiterempfehlung", ein, "all", 8, top2=87.5),
        _summary("besuche", ein, "all", 3, mean=7.0),
    ]
    ment = []
    for option, label, order, count in [
        ("aufmerksam_behoerde", "Behörde", 1, 3),
        ("aufmerksam_bekannte", "Bekannte", 2, 5),
        ("aufmerksam_oeffentlichkeit", "Öffentlichkeit", 3, 3),
    ]:
        ment.append({"item": "aufmerksam", "site": "all", "option": option, "label": label, "order": order,
                     "count": count, "mentions": 11, "respondents": 8, "pct_mentions": 100 * count / 11,
                     "pct_respondents": 100 * count / 8, "suppressed": False, "suppression": None})
    stats = []
    for site, q, p, b in [("all", "2013-Q1", 4, 10), ("all", "2013-Q2", 6, 15), ("all", "2014-Q4", 9, 30),
                          ("all", "total", 10, 25), ("S01", "total", 3, 7)]:
        stats += [{"site": site, "quarter": q, "measure": "personen", "value": p},
                  {"site": site, "quarter": q, "measure": "beratungen", "value": b},
                  {"site": site, "quarter": q, "measure": "netzwerkkontakte", "value": 1000 + p}]
    interviews = pd.DataFrame(
        {"interview": ["I1", "I2", "I3"], "site": ["S01", "S01", "S02"],
         "partner": ["kommunal", "jobcenter", "kommunal"], "partner_label": ["K", "J", "K"],
         "date": pd.to_datetime(["2014-02-01"] * 3), "duration_min": [60, 45, 50], "segments": [3, 2, 4]}
    )
    responses = pd.DataFrame(
        {"instrument": ["expertenfragebogen", "expertenfragebogen", "einzelfallfragebogen"],
         "site": ["all", "S01", "all"], "n": [9, 5, 12]}
    )
    return {"distributions": pd.DataFrame(dist), "summaries": pd.DataFrame(summ), "mentions": pd.DataFrame(ment),
            "running_statistics": pd.DataFrame(stats), "interviews": interviews, "responses": responses}


@pytest.fixture(scope="module")
def facts(tables, config, codebook):
    return compute_facts(tables, config, codebook)


# ------------------------------------------------------------------------------------------------ keys


def test_single_coded_item_keys(facts):
    assert facts["item.anerkennung.n"] == Fact("item.anerkennung.n", 8, "count")
    assert facts["item.anerkennung.top2"].value == pytest.approx(62.5)
    assert format_fact(facts["item.anerkennung.top2"]) == "63"  # half up, not 62
    assert facts["item.anerkennung.bottom2"].value == pytest.approx(25.0)
    assert facts["item.anerkennung.pct.2"].value == pytest.approx(37.5)
    assert facts["item.anerkennung.pct.2"].kind == "percent"


def test_share_is_computed_from_counts(facts):
    # codes 3+4+5: 3 of 8 = 37.5 % -> "38"; the rounded labels 13 + 13 + 13 would add up to 39.
    fact = facts["item.anerkennung.share.3+4+5"]
    assert fact.value == pytest.approx(37.5)
    assert format_fact(fact) == "38"
    assert "item.anerkennung.share.3+4+5" in facts
    assert "item.anerkennung.share.3+4+5" not in list(facts)  # lazily computed, not enumerated


def test_labels_sum_is_rule_b(tables):
    assert labels_sum(tables, "anerkennung", ["3", "4", "5"]) == 39
    assert labels_sum(tables, "anerkennung", ["1", "2"]) == 25 + 38


def test_means(facts):
    assert facts["item.aktivierung.mean"] == Fact("item.aktivierung.mean", 2.25, "mean")
    assert format_fact(facts["item.aktivierung.mean"]) == "2,3"
    assert facts["item.besuche.mean"].value == 7.0
    assert format_fact(facts["item.besuche.mean"]) == "7,0"


def test_keys_that_do_not_apply_are_unknown(facts):
    with pytest.raises(KeyError):
        facts["item.anerkennung.mean"]  # likert items have no mean
    with pytest.raises(KeyError):
        facts["item.weiterempfehlung.bottom2"]  # ja/nein defines no bottom codes
    with pytest.raises(KeyError):
        facts["item.anerkennung.pct.7"]


def test_nominal_top(facts):
    assert facts["item.weiterempfehlung.top2"].value == pytest.approx(87.5)
    assert facts["item.weiterempfehlung.pct.1"].value == pytest.approx(87.5)


def test_multiple_response_keys(facts):
    assert facts["item.aufmerksam.mentions"].value == 11
    assert facts["item.aufmerksam.respondents"].value == 8
    assert facts["item.aufmerksam.pct.aufmerksam_behoerde"].value == pytest.approx(300 / 11)
    assert facts["item.aufmerksam.pct_resp.aufmerksam_behoerde"].value == pytest.approx(37.5)
    assert facts["item.aufmerksam.rank.1"] == Fact("item.aufmerksam.rank.1", "Bekannte", "text")
    # Tie (3 and 3): codebook order decides.
    assert facts["item.aufmerksam.rank.2"].value == "Behörde"
    assert facts["item.aufmerksam.rank.3"].value == "Öffentlichkeit"
    with pytest.raises(KeyError):
        facts["item.aufmerksam.rank.4"]


def test_schaubild_n(facts):
    assert facts["schaubild.1.n"].value == 8
    assert facts["schaubild.12.n"].value == 11  # mentions chart: the mentions
    assert facts["schaubild.17.n"].value == 6  # two series: the larger N


def test_instrument_interviews_stats_sites(facts):
    assert facts["instrument.expertenfragebogen.n"].value == 9
    assert facts["interviews.n"].value == 3
    assert facts["interviews.partner.kommunal"].value == 2
    assert facts["interviews.partner.wohnungsunternehmen"].value == 0
    assert facts["interviews.duration_mean"].value == pytest.approx(155 / 3)
    assert format_fact(facts["interviews.duration_mean"]) == "52"
    assert facts["stats.personen"].value == 10
    assert facts["stats.netzwerkkontakte"].value == 1010
    assert facts["stats.beratungen.2013-Q2"].value == 15
    assert facts["stats.beratungen_je_person"] == Fact("stats.beratungen_je_person", 2.5, "decimal")
    assert facts["sites.n"].value == 11
    assert facts["sites.steering_group"].value == 9


def test_quarter_keys_relative_to_the_phase(facts):
    """first/last quarter follow the phase's period, so texts carried into a new Förderphase still bind."""
    assert facts["stats.personen.first_quarter"].value == facts["stats.personen.2013-Q1"].value == 4
    assert facts["stats.beratungen.last_quarter"].value == facts["stats.beratungen.2014-Q4"].value == 30
    with pytest.raises(UnknownFactError):
        facts["stats.personen.middle_quarter"]


def test_measures_and_ratios_come_from_the_codebook(tables, config, codebook):
    """No measure names in code: a codebook without the ratio has no such fact, one with another measure has it."""
    import dataclasses

    iid = codebook.instrument_of_kind("running_statistics")
    spec = codebook.instruments[iid]
    assert spec.measures == ("personen", "beratungen", "netzwerkkontakte")
    plain = dataclasses.replace(codebook, instruments={**codebook.instruments, iid: dataclasses.replace(spec, ratios={})})
    with pytest.raises(UnknownFactError):
        compute_facts(tables, config, plain)["stats.beratungen_je_person"]
    other = dataclasses.replace(spec, ratios={"kontakte_je_person": ("netzwerkkontakte", "personen")})
    book = compute_facts(tables, config, dataclasses.replace(codebook, instruments={**codebook.instruments, iid: other}))
    assert book["stats.kontakte_je_person"].value == pytest.approx(1010 / 10)


def test_partner_codes_come_from_the_role_column_of_the_interviews(tables, config, codebook):
    """No scale looked up by name: the partner codes are the scale of the column with `role: partner`."""
    import dataclasses

    iid = codebook.instrument_of_kind("interviews")
    spec = codebook.instruments[iid]
    old = spec.column_of_role("partner").scale
    kinds = dataclasses.replace(codebook.scales[old], id="interviewee_kinds")
    columns = tuple(dataclasses.replace(c, scale="interviewee_kinds") if c.role == "partner" else c for c in spec.columns)
    scales = {k: v for k, v in codebook.scales.items() if k != old} | {"interviewee_kinds": kinds}
    other = dataclasses.replace(codebook, scales=scales,
                                instruments={**codebook.instruments, iid: dataclasses.replace(spec, columns=columns)})
    book = compute_facts(tables, config, other)
    assert [k for k in book if k.startswith("interviews.partner.")] == [
        f"interviews.partner.{c}" for c in ("kommunal", "jobcenter", "wohnungsunternehmen")]
    assert book["interviews.partner.kommunal"].value == 2
    for key in ("interviews.partnertyp.kommunal", "interviews.dauer_mean", "interviews.partner.amt"):
        with pytest.raises(UnknownFactError):
            book[key]


def test_iteration_lists_concrete_keys(facts):
    keys = list(facts)
    assert "item.anerkennung.top2" in keys and "schaubild.17.n" in keys
    assert "item.anerkennung.mean" not in keys
    assert len(facts) == len(keys)


def test_site_facts_and_suppression(tables, config, codebook):
    s01 = compute_facts(tables, config, codebook, site="S01")
    assert s01["item.anerkennung.top2"].value == pytest.approx(60.0)
    assert s01["instrument.expertenfragebogen.n"].value == 5
    assert s01["interviews.n"].value == 2
    assert s01["stats.beratungen_je_person"].value == pytest.approx(7 / 3)
    assert s01["sites.n"].value == 1
    s03 = compute_facts(tables, config, codebook, site="S03")
    assert s03["item.anerkennung.top2"].value is None
    assert format_fact(s03["item.anerkennung.top2"]) == "."
    assert s03["item.anerkennung.share.1+2"].value is None
    assert s03["item.anerkennung.pct.1"].value is None


def test_unknown_site(tables, config, codebook):
    with pytest.raises(ThinkaError, match="S99"):
        compute_facts(tables, config, codebook, site="S99")


def test_unknown_key_suggests_close_keys(facts):
    with pytest.raises(KeyError) as info:
        facts["item.anerkenung.top2"]
    assert "item.anerkennung.top2" in str(info.value)
    with pytest.raises(ThinkaError):  # the same error is a ThinkaError for the CLI
        facts["schaubild.99.n"]
