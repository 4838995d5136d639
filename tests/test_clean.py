"""thinka.clean: typed records, checked against hand-written pandas on a small hand-made frame."""

from __future__ import annotations

import pandas as pd
import pytest

from thinka.clean import clean_instrument
from thinka.codebook import load_codebook, load_phase
from thinka.validate import validate_phase


@pytest.fixture
def config_codebook(phase_copy):
    return load_phase(phase_copy.config), load_codebook(phase_copy.codebook)


def _raw(codebook, instrument, rows: list[dict]) -> pd.DataFrame:
    """A validated-looking raw frame: every required column, blanks where a row does not say otherwise."""
    cols = codebook.required_columns(instrument)
    data = {c: [str(r.get(c, "")) for r in rows] for c in cols}
    return pd.DataFrame(data, index=pd.Index(range(2, 2 + len(rows)), name="row"), dtype="str")


def test_einzelfall_items_become_label_categoricals_int8_and_int64(config_codebook):
    config, codebook = config_codebook
    raw = _raw(codebook, "einzelfallfragebogen", [
        {"fragebogen_id": "E1", "standort": "S03", "erhebungsdatum": "2014-05-02", "geschlecht": "1", "nutzung": "4",
         "besuche": "12", "aufmerksam_internet": "1", "problem_schulden": "0", "empathie": "2", "weiterempfehlung": "9"},
        {"fragebogen_id": "E2", "standort": "S11", "erhebungsdatum": "2013-07-01", "geschlecht": "9", "nutzung": "",
         "besuche": "-9", "aufmerksam_internet": "9", "problem_schulden": "", "empathie": "5", "weiterempfehlung": "2"},
    ])
    out = clean_instrument(raw, "einzelfallfragebogen", config, codebook)

    assert list(out.index) == [0, 1]
    assert list(out.columns) == list(codebook.required_columns("einzelfallfragebogen"))

    expected_site = pd.Series(pd.Categorical(["S03", "S11"], categories=[f"S{i:02d}" for i in range(1, 12)]), name="standort")
    pd.testing.assert_series_equal(out["standort"], expected_site)
    assert not out["standort"].cat.ordered

    expected_date = pd.Series(pd.to_datetime(["2014-05-02", "2013-07-01"]).astype("datetime64[ns]"), name="erhebungsdatum")
    pd.testing.assert_series_equal(out["erhebungsdatum"], expected_date)

    nutzung = pd.Series(pd.Categorical(["häufig", None], categories=["einmal", "gelegentlich", "mehrfach", "häufig"],
                                       ordered=True), name="nutzung")
    pd.testing.assert_series_equal(out["nutzung"], nutzung)

    geschlecht = pd.Series(pd.Categorical(["weiblich", None], categories=["weiblich", "männlich"], ordered=False),
                           name="geschlecht")
    pd.testing.assert_series_equal(out["geschlecht"], geschlecht)

    assert out["weiterempfehlung"].isna().tolist() == [True, False]  # missing code 9 → NA
    assert out["empathie"].tolist() == ["stimme eher zu", "stimme überhaupt nicht zu"]
    assert out["empathie"].cat.ordered

    pd.testing.assert_series_equal(out["besuche"], pd.Series(pd.array([12, None], dtype="Int64"), name="besuche"))
    pd.testing.assert_series_equal(out["aufmerksam_internet"],
                                   pd.Series(pd.array([1, None], dtype="Int8"), name="aufmerksam_internet"))
    pd.testing.assert_series_equal(out["problem_schulden"],
                                   pd.Series(pd.array([0, None], dtype="Int8"), name="problem_schulden"))
    assert out["fragebogen_id"].tolist() == ["E1", "E2"]


def test_grade_scale_is_ordered_with_all_six_levels(config_codebook):
    config, codebook = config_codebook
    raw = _raw(codebook, "expertenfragebogen", [
        {"fragebogen_id": "X1", "standort": "S01", "erhebungsdatum": "2014-03-03", "netzwerkarbeit": "6"},
    ])
    out = clean_instrument(raw, "expertenfragebogen", config, codebook)
    assert list(out["netzwerkarbeit"].cat.categories) == ["sehr gut", "gut", "befriedigend", "ausreichend",
                                                           "mangelhaft", "ungenügend"]
    assert out["netzwerkarbeit"].cat.ordered and out.loc[0, "netzwerkarbeit"] == "ungenügend"
    assert out["anerkennung"].isna().all()  # blank item → NA


def test_interview_code_columns_get_code_categoricals_and_label_columns(config_codebook):
    config, codebook = config_codebook
    raw = _raw(codebook, "experteninterviews", [
        {"interview_id": "I1", "segment": "1", "standort": "S02", "partnertyp": "jobcenter", "datum": "2014-02-03",
         "dauer_min": "45", "thema": "steuerungsgruppe", "aussage": "Gut."},
        {"interview_id": "I1", "segment": "2", "standort": "S02", "partnertyp": "jobcenter", "datum": "2014-02-03",
         "dauer_min": "45", "thema": "erwartungen", "aussage": ""},
    ])
    out = clean_instrument(raw, "experteninterviews", config, codebook)
    assert list(out.columns) == ["interview_id", "segment", "standort", "partnertyp", "partnertyp_label", "datum",
                                 "dauer_min", "thema", "thema_label", "aussage"]
    scale = codebook.scales["partnertyp"]
    expected = pd.Series(pd.Categorical(["jobcenter", "jobcenter"], categories=[str(c) for c in scale.codes]),
                         name="partnertyp")
    pd.testing.assert_series_equal(out["partnertyp"], expected)
    assert out["partnertyp_label"].tolist() == ["Jobcenter", "Jobcenter"]
    assert out["thema_label"].tolist() == ["Steuerungsgruppe", "Erwartungen und Bedenken"]
    assert list(out["thema"].cat.categories)[0] == "erwartungen"
    pd.testing.assert_series_equal(out["segment"], pd.Series(pd.array([1, 2], dtype="Int64"), name="segment"))
    pd.testing.assert_series_equal(out["dauer_min"], pd.Series(pd.array([45, 45], dtype="Int64"), name="dauer_min"))
    assert out["aussage"].tolist()[0] == "Gut." and pd.isna(out["aussage"].tolist()[1])


def test_quarters_are_ordered_categoricals_of_the_phase_quarters(config_codebook):
    config, codebook = config_codebook
    raw = _raw(codebook, "projektstatistik", [
        {"standort": "S05", "quartal": "2014-Q4", "personen": "3", "beratungen": "10", "netzwerkkontakte": "0"},
        {"standort": "S05", "quartal": "2013-Q1", "personen": "0", "beratungen": "0", "netzwerkkontakte": "7"},
    ])
    out = clean_instrument(raw, "projektstatistik", config, codebook)
    assert list(out["quartal"].cat.categories) == list(config.quarters)
    assert out["quartal"].cat.ordered and out.loc[1, "quartal"] < out.loc[0, "quartal"]
    assert out["personen"].dtype == "Int64" and out["personen"].tolist() == [3, 0]


def test_cleaning_the_validated_synthetic_phase_matches_a_hand_computed_count(synthetic_phase):
    config, codebook = load_phase(synthetic_phase.config), load_codebook(synthetic_phase.codebook)
    report = validate_phase(synthetic_phase)
    assert report.ok
    raw = report.tables["expertenfragebogen"].frame
    out = clean_instrument(raw, "expertenfragebogen", config, codebook)
    # Hand-written: count of code "1" among valid answers equals the count of its label after cleaning.
    expected = int((raw["anerkennung"] == "1").sum())
    assert int((out["anerkennung"] == "stimme voll und ganz zu").sum()) == expected
    expected_na = int(raw["anerkennung"].isin(["", "9"]).sum())
    assert int(out["anerkennung"].isna().sum()) == expected_na
    assert len(out) == len(raw)
