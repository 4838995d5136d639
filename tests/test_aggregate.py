"""Aggregates against hand-written pandas computations on a small, seeded, non-ThINKA phase; plus the shipped data."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from thinka import ALL_SITES
from thinka.aggregate import (
    SCHEMAS,
    build_tables,
    distributions,
    interview_tables,
    mentions,
    responses,
    running_statistics,
    summaries,
)
from thinka.codebook import load_codebook, load_phase

SITES = ("A", "B", "C", "D")  # D: no rows in `umfrage`; not a steering-group site, so not allowed in `panel`
QUARTERS = ("2013-Q1", "2013-Q2", "2013-Q3", "2013-Q4")

PHASE_YAML = """
phase: "test"
period: {start: 2013-01-01, end: 2013-12-31}
programme: {short: "T"}
report: {title: "Test", date: 2014-01-31}
disclosure: {threshold: 3}
sites:
  - {code: "A", name: "Ort A", steering_group: true}
  - {code: "B", name: "Ort B", steering_group: true}
  - {code: "C", name: "Ort C", steering_group: true}
  - {code: "D", name: "Ort D", steering_group: false}
instruments:
  gespraeche: {file: g.csv, dimension: dim, method: m, field_period: {start: 2013-01-01, end: 2013-12-31}}
  umfrage: {file: u.csv, dimension: dim, method: m, field_period: {start: 2013-01-01, end: 2013-12-31}}
  panel: {file: p.csv, dimension: dim, method: m, sites: steering_group, field_period: {start: 2013-01-01, end: 2013-12-31}}
  statistik: {file: s.csv, dimension: dim, method: m, field_period: {start: 2013-01-01, end: 2013-12-31}}
"""

CODEBOOK_YAML = """
dimensions: [{id: dim, label: "Dim", notebook: "dim.ipynb"}]
scales:
  agree:
    kind: ordinal
    levels: [{code: 1, label: "ja"}, {code: 2, label: "eher ja"}, {code: 3, label: "eher nein"}, {code: 4, label: "nein"}]
    missing: [{code: 9, label: "k. A."}]
    top: [1, 2]
    bottom: [4]
  note:
    kind: grade
    levels: [{code: 1, label: "gut"}, {code: 2, label: "mittel"}, {code: 3, label: "schlecht"}]
    top: [1]
    bottom: [3]
  farbe:
    kind: nominal
    levels: [{code: r, label: "rot"}, {code: g, label: "grün"}, {code: b, label: "blau"}]
  anzahl: {kind: count, min: 1, max: 50}
  flag:
    kind: mention
    levels: [{code: 0, label: "nicht genannt"}, {code: 1, label: "genannt"}]
  partner:
    kind: nominal
    levels: [{code: amt, label: "Ämter"}, {code: verein, label: "Vereine"}, {code: firma, label: "Firmen"}]
  thema:
    kind: nominal
    levels: [{code: t1, label: "Thema eins"}, {code: t2, label: "Thema zwei"}, {code: t3, label: "Thema drei"}]
instruments:
  gespraeche:
    label: "Gespräche"
    key: [gespraech, abschnitt]
    constant_within: {gespraech: [ort, art, tag, minuten]}
    columns:
      - {name: gespraech, type: id, role: interview}
      - {name: abschnitt, type: integer, min: 1, max: 50, role: segment}
      - {name: ort, type: site}
      - {name: art, type: code, scale: partner, role: partner}
      - {name: tag, type: date, role: date}
      - {name: minuten, type: integer, min: 10, max: 200, role: duration}
      - {name: stichwort, type: code, scale: thema, role: theme}
      - {name: zitat, type: text, role: statement}
  umfrage:
    label: "Umfrage"
    key: [fb]
    columns: [{name: fb, type: id}, {name: ort, type: site}]
  panel:
    label: "Panel"
    key: [fb]
    columns: [{name: fb, type: id}, {name: ort, type: site}]
  statistik:
    label: "Statistik"
    key: [ort, quartal]
    columns:
      - {name: ort, type: site}
      - {name: quartal, type: quarter}
      - {name: faelle, type: integer, min: 0, max: 1000}
      - {name: termine, type: integer, min: 0, max: 1000}
items:
  - {id: q_farbe, instrument: umfrage, dimension: dim, scale: farbe, wording: "Farbe?"}
  - {id: q_agree, instrument: umfrage, dimension: dim, scale: agree, wording: "Zustimmung?"}
  - {id: q_panel, instrument: panel, dimension: dim, scale: agree, wording: "Panel-Zustimmung?"}
  - {id: q_note, instrument: umfrage, dimension: dim, scale: note, wording: "Note?"}
  - {id: q_anzahl, instrument: umfrage, dimension: dim, scale: anzahl, wording: "Wie oft?"}
  - id: q_wege
    instrument: umfrage
    dimension: dim
    scale: flag
    wording: "Wege?"
    options: [{column: w_a, label: "Weg a"}, {column: w_b, label: "Weg b"}, {column: w_c, label: "Weg c"}]
  - {id: q_leer, instrument: umfrage, dimension: dim, scale: agree, wording: "Nie beantwortet"}
"""


# ----------------------------------------------------------------------------------------------------------------
# fixtures: config + codebook from YAML, cleaned-schema frames by hand


@pytest.fixture
def phase(tmp_path: Path):
    (tmp_path / "phase.yaml").write_text(textwrap.dedent(PHASE_YAML), encoding="utf-8")
    (tmp_path / "codebook.yaml").write_text(textwrap.dedent(CODEBOOK_YAML), encoding="utf-8")
    return load_phase(tmp_path / "phase.yaml"), load_codebook(tmp_path / "codebook.yaml")


def _labels(rng, scale, n: int, na_share: float = 0.2, ordered: bool = True) -> pd.Series:
    values = [scale.labels[i] for i in rng.integers(0, len(scale.labels), n)]
    values = [None if rng.random() < na_share else v for v in values]
    return pd.Series(pd.Categorical(values, categories=list(scale.labels), ordered=ordered))


def _sites(values, sites=SITES) -> pd.Series:
    return pd.Series(pd.Categorical(values, categories=list(sites)))


def make_records(config, codebook, seed: int = 1) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 40
    sc = codebook.scales
    umfrage = pd.DataFrame({
        "fb": pd.Series([f"U{i:03d}" for i in range(n)], dtype="str"),
        "ort": _sites(rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])),
        "q_farbe": _labels(rng, sc["farbe"], n, ordered=False),
        "q_agree": _labels(rng, sc["agree"], n),
        "q_note": _labels(rng, sc["note"], n),
        "q_anzahl": pd.array([None if rng.random() < 0.2 else int(v) for v in rng.integers(1, 30, n)], dtype="Int64"),
        "q_leer": pd.Series(pd.Categorical([None] * n, categories=list(sc["agree"].labels), ordered=True)),
    })
    for col in ("w_a", "w_b", "w_c"):
        umfrage[col] = pd.array([None if rng.random() < 0.1 else int(v) for v in rng.integers(0, 2, n)], dtype="Int8")
    m = 15
    panel = pd.DataFrame({
        "fb": pd.Series([f"P{i:03d}" for i in range(m)], dtype="str"),
        "ort": _sites(rng.choice(["A", "B", "C"], m)),
        "q_panel": _labels(rng, sc["agree"], m),
    })
    statistik = pd.DataFrame([(s, q) for s in SITES for q in QUARTERS], columns=["ort", "quartal"])
    statistik["ort"] = _sites(statistik["ort"])
    statistik["quartal"] = pd.Categorical(statistik["quartal"], categories=list(QUARTERS), ordered=True)
    statistik["faelle"] = pd.array(rng.integers(0, 100, len(statistik)), dtype="Int64")
    statistik["termine"] = pd.array(rng.integers(0, 300, len(statistik)), dtype="Int64")
    return {"umfrage": umfrage, "panel": panel, "statistik": statistik, "gespraeche": make_interviews(sc, rng)}


def make_interviews(sc, rng) -> pd.DataFrame:
    """Six interviews (none at site C) with 1–4 coded segments each."""
    interviews = [("I1", "A", "amt"), ("I2", "A", "verein"), ("I3", "B", "amt"), ("I4", "D", "amt"),
                  ("I5", "B", "firma"), ("I0", "A", "amt")]
    rows = []
    for k, (iid, site, ptype) in enumerate(interviews):
        for seg in range(1, int(rng.integers(1, 5)) + 1):
            theme = sc["thema"].codes[int(rng.integers(0, 2))]  # t3 never coded: must still be listed
            rows.append({"gespraech": iid, "abschnitt": seg, "ort": site, "art": ptype,
                         "tag": pd.Timestamp(2013, 3, 1 + k), "minuten": 40 + k, "stichwort": theme,
                         "zitat": f"Aussage {iid}-{seg}"})
    df = pd.DataFrame(rows)
    labels = {c: {str(lv.code): lv.label for lv in sc[s].levels} for c, s in (("stichwort", "thema"), ("art", "partner"))}
    # the cleaned schema (thinka.clean): the configured column names, codes as categoricals plus <col>_label
    return pd.DataFrame({
        "gespraech": df["gespraech"].astype("str"),
        "abschnitt": df["abschnitt"].astype("Int64"),
        "ort": _sites(df["ort"]),
        "art": pd.Categorical(df["art"], categories=[str(c) for c in sc["partner"].codes]),
        "art_label": df["art"].map(labels["art"]).astype("str"),
        "tag": df["tag"].astype("datetime64[ns]"),
        "minuten": df["minuten"].astype("Int64"),
        "stichwort": pd.Categorical(df["stichwort"], categories=[str(c) for c in sc["thema"].codes]),
        "stichwort_label": df["stichwort"].map(labels["stichwort"]).astype("str"),
        "zitat": df["zitat"].astype("str"),
    })


@pytest.fixture
def records(phase):
    return make_records(*phase)


def at_site(df: pd.DataFrame, site: str, column: str = "ort") -> pd.DataFrame:
    return df if site == ALL_SITES else df[df[column].astype(str) == site]


def assert_values(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same rows in the same order, values equal (floats approximately, NA matching NA)."""
    got = actual[list(expected.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_dtype=False, rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# distributions


def expected_distribution(df, item, scale, sites):
    rows = []
    for site in (ALL_SITES, *sites):
        answers = at_site(df, site)[item].dropna().astype(str)
        for order, level in enumerate(scale.levels, start=1):
            count = int((answers == level.label).sum())
            rows.append({"site": site, "code": str(level.code), "label": level.label, "order": order,
                         "count": count, "valid_n": len(answers),
                         "pct": 100 * count / len(answers) if len(answers) else np.nan})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("item", ["q_farbe", "q_agree", "q_note", "q_leer"])
def test_distributions_match_pandas(phase, records, item):
    config, codebook = phase
    got = distributions(records["umfrage"], [item], codebook, config.allowed_sites("umfrage"), site_column="ort")
    assert (got["item"] == item).all() and (got["instrument"] == "umfrage").all()
    assert_values(got, expected_distribution(records["umfrage"], item, codebook.scale_of(item), SITES))


def test_distributions_dtypes_and_edge_cases(phase, records):
    config, codebook = phase
    got = distributions(records["umfrage"], ["q_agree", "q_leer"], codebook, SITES, site_column="ort")
    assert got.dtypes.astype(str).to_dict() == {c: ("str" if t == "str" else t) for c, t in SCHEMAS["distributions"].items()}
    assert got["site"].drop_duplicates().tolist() == [ALL_SITES, *SITES]  # overall first, then phase order
    d = got[got["site"] == "D"]  # a site without questionnaires: every level, count 0, valid_n 0, pct NA
    assert len(d) == 8 and (d["count"] == 0).all() and (d["valid_n"] == 0).all() and d["pct"].isna().all()
    empty = got[got["item"] == "q_leer"]  # an item nobody answered
    assert (empty["valid_n"] == 0).all() and empty["pct"].isna().all()


def test_steering_group_instrument_covers_only_its_sites(phase, records):
    config, codebook = phase
    tables = build_tables(records, config, codebook, threshold=1)
    panel = tables["distributions"][tables["distributions"]["item"] == "q_panel"]
    assert panel["site"].drop_duplicates().tolist() == [ALL_SITES, "A", "B", "C"]
    assert_values(panel, expected_distribution(records["panel"], "q_panel", codebook.scale_of("q_panel"), ("A", "B", "C")))


# ----------------------------------------------------------------------------------------------------------------
# summaries


def expected_summary(df, item, scale, sites):
    rows = []
    for site in (ALL_SITES, *sites):
        values = at_site(df, site)[item]
        valid = values.dropna()
        if scale.kind == "count":
            top2 = bottom2 = np.nan
            mean = valid.astype(float).mean() if len(valid) else np.nan
        else:
            code_of = {lv.label: lv.code for lv in scale.levels}
            codes = valid.astype(str).map(code_of)
            share = lambda which: 100 * codes.isin(which).sum() / len(codes) if which and len(codes) else np.nan  # noqa: E731
            top2, bottom2 = share(scale.top), share(scale.bottom)
            mean = codes.astype(float).mean() if scale.kind == "grade" and len(codes) else np.nan
        rows.append({"site": site, "n_rows": len(values), "valid_n": len(valid), "missing_n": len(values) - len(valid),
                     "top2": top2, "bottom2": bottom2, "mean": mean})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("item", ["q_farbe", "q_agree", "q_note", "q_anzahl", "q_leer"])
def test_summaries_match_pandas(phase, records, item):
    config, codebook = phase
    got = summaries(records["umfrage"], [item], codebook, SITES, site_column="ort")
    assert_values(got, expected_summary(records["umfrage"], item, codebook.scale_of(item), SITES))


def test_grade_and_count_means_by_hand(phase):
    config, codebook = phase
    df = pd.DataFrame({
        "ort": _sites(["A", "A", "A", "B", "B"]),
        "q_note": pd.Categorical(["gut", "mittel", "mittel", "schlecht", None], categories=["gut", "mittel", "schlecht"], ordered=True),
        "q_anzahl": pd.array([2, 3, None, 10, 1], dtype="Int64"),
    })
    got = summaries(df, ["q_note", "q_anzahl"], codebook, SITES, site_column="ort").set_index(["item", "site"])
    assert got.loc[("q_note", ALL_SITES), "mean"] == pytest.approx((1 + 2 + 2 + 3) / 4)
    assert got.loc[("q_note", "A"), "mean"] == pytest.approx(5 / 3)
    assert got.loc[("q_note", "B"), ["n_rows", "valid_n", "missing_n"]].tolist() == [2, 1, 1]
    assert got.loc[("q_note", "A"), "top2"] == pytest.approx(100 / 3)
    assert got.loc[("q_anzahl", ALL_SITES), "mean"] == pytest.approx(16 / 4)
    assert math.isnan(got.loc[("q_anzahl", ALL_SITES), "top2"])
    assert math.isnan(got.loc[("q_note", "C"), "mean"])


def test_codes_instead_of_labels_are_rejected(phase, records):
    config, codebook = phase
    df = records["umfrage"].assign(q_agree=pd.Series(["1", "2"] * 20, dtype="str"))
    with pytest.raises(ValueError, match="not labels"):
        summaries(df, ["q_agree"], codebook, SITES, site_column="ort")


def test_unknown_site_is_rejected(phase, records):
    config, codebook = phase
    with pytest.raises(ValueError, match="outside the allowed sites"):
        distributions(records["panel"], ["q_panel"], codebook, ("A", "B"), site_column="ort")


# ----------------------------------------------------------------------------------------------------------------
# mentions


def test_mentions_match_pandas(phase, records):
    config, codebook = phase
    df = records["umfrage"]
    got = mentions(df, ["q_wege"], codebook, SITES, site_column="ort")
    rows = []
    for site in (ALL_SITES, *SITES):
        block = at_site(df, site)[["w_a", "w_b", "w_c"]].fillna(0).astype(int)
        total, respondents = int(block.to_numpy().sum()), int((block.sum(axis=1) > 0).sum())
        for order, (col, label) in enumerate([("w_a", "Weg a"), ("w_b", "Weg b"), ("w_c", "Weg c")], start=1):
            count = int(block[col].sum())
            rows.append({"item": "q_wege", "site": site, "option": col, "label": label, "order": order, "count": count,
                         "mentions": total, "respondents": respondents,
                         "pct_mentions": 100 * count / total if total else np.nan,
                         "pct_respondents": 100 * count / respondents if respondents else np.nan})
    assert_values(got, pd.DataFrame(rows))
    assert got.loc[got["site"] == ALL_SITES, "mentions"].iloc[0] > got.loc[got["site"] == ALL_SITES, "respondents"].iloc[0]


# ----------------------------------------------------------------------------------------------------------------
# running statistics, interviews, responses


def test_running_statistics_match_pandas(phase, records):
    config, codebook = phase
    df = records["statistik"]
    got = running_statistics(df, config.quarters, SITES, ["faelle", "termine"], site_column="ort",
                             quarter_column="quartal")
    long = df.melt(id_vars=["ort", "quartal"], value_vars=["faelle", "termine"], var_name="measure")
    long = long.astype({"ort": "str", "quartal": "str"})
    rows = []
    for site in (ALL_SITES, *SITES):
        for quarter in (*QUARTERS, "total"):
            for measure in ("faelle", "termine"):
                sel = at_site(long, site)
                sel = sel[sel["measure"] == measure]
                sel = sel if quarter == "total" else sel[sel["quartal"] == quarter]
                rows.append({"site": site, "quarter": quarter, "measure": measure, "value": int(sel["value"].sum())})
    assert_values(got, pd.DataFrame(rows))


def test_running_statistics_missing_value_propagates_to_totals(phase, records):
    config, codebook = phase
    df = records["statistik"].copy()
    df.loc[(df["ort"] == "B") & (df["quartal"] == "2013-Q2"), "faelle"] = pd.NA
    got = running_statistics(df, config.quarters, SITES, ["faelle"], site_column="ort", quarter_column="quartal")
    got = got.set_index(["site", "quarter"])
    for key in [("B", "2013-Q2"), ("B", "total"), (ALL_SITES, "2013-Q2"), (ALL_SITES, "total")]:
        assert got.loc[key, "value"] is pd.NA
    assert got.loc[("A", "total"), "value"] is not pd.NA


ROLES = {"interview": "gespraech", "segment": "abschnitt", "partner": "art", "date": "tag", "duration": "minuten",
         "theme": "stichwort", "statement": "zitat"}


def test_codebook_roles_name_the_interview_columns(phase):
    config, codebook = phase
    assert codebook.instruments["gespraeche"].kind == "interviews"  # inferred from the roles
    assert codebook.instruments["gespraeche"].roles == ROLES
    assert codebook.role_scale("gespraeche", "theme").id == "thema"
    assert codebook.instruments["umfrage"].roles == {}


def test_interview_tables_match_pandas(phase, records):
    config, codebook = phase
    df = records["gespraeche"]
    got = interview_tables(df, SITES, roles=ROLES, partner_scale=codebook.scales["partner"],
                           theme_scale=codebook.scales["thema"], site_column="ort")
    rank = {s: i for i, s in enumerate(SITES)}
    # interview_segments: the statements under thinka's names, site order, then interview and segment
    seg = df.assign(_r=df["ort"].astype(str).map(rank)).sort_values(["_r", "gespraech", "abschnitt"], kind="stable")
    expected_segments = pd.DataFrame({
        "interview": seg["gespraech"], "segment": seg["abschnitt"], "site": seg["ort"].astype(str),
        "partner": seg["art"].astype(str), "theme": seg["stichwort"].astype(str),
        "theme_label": seg["stichwort_label"], "statement": seg["zitat"],
    })
    assert list(got["interview_segments"].columns) == list(SCHEMAS["interview_segments"])
    assert_values(got["interview_segments"], expected_segments)
    # interviews: one row each, site order then id, descriptors and segment count by groupby
    per = seg.groupby("gespraech", sort=False)
    expected_interviews = pd.DataFrame({
        "interview": list(per.groups), "site": per["ort"].first().astype(str).tolist(),
        "partner": per["art"].first().astype(str).tolist(), "partner_label": per["art_label"].first().tolist(),
        "date": per["tag"].first().tolist(), "duration_min": per["minuten"].first().tolist(),
        "segments": per.size().tolist(),
    })
    assert list(got["interviews"].columns) == list(SCHEMAS["interviews"])
    assert_values(got["interviews"], expected_interviews)
    assert got["interviews"]["interview"].tolist() == ["I0", "I1", "I2", "I3", "I5", "I4"]
    # themes: every theme per site, overall first
    th = got["interview_themes"]
    assert len(th) == 5 * 3 and th["site"].iloc[0] == ALL_SITES
    for site in (ALL_SITES, *SITES):
        at = at_site(df, site)
        for order, code in enumerate(("t1", "t2", "t3"), start=1):
            row = th[(th["site"] == site) & (th["theme"] == code)].iloc[0]
            hit = at[at["stichwort"].astype(str) == code]
            assert (row["segments"], row["interviews"], row["order"]) == (len(hit), hit["gespraech"].nunique(), order)
            assert row["theme_label"] == codebook.scales["thema"].label(code)
    pa = got["interview_partners"].set_index(["site", "partner"])
    first = df.drop_duplicates("gespraech")
    for site in (ALL_SITES, *SITES):
        for code in ("amt", "verein", "firma"):
            assert pa.loc[(site, code), "interviews"] == (at_site(first, site)["art"].astype(str) == code).sum()
    assert pa.loc[(ALL_SITES, "amt"), "interviews"] == 4 and pa.loc[("C", "amt"), "interviews"] == 0
    assert pa.loc[(ALL_SITES, "firma"), "label"] == "Firmen"


def test_interview_tables_need_every_role(phase, records):
    config, codebook = phase
    roles = {k: v for k, v in ROLES.items() if k != "statement"}
    with pytest.raises(ValueError, match=r"no column given for \['statement'\]"):
        interview_tables(records["gespraeche"], SITES, roles=roles, partner_scale=codebook.scales["partner"],
                         theme_scale=codebook.scales["thema"], site_column="ort")
    with pytest.raises(ValueError, match="lack the columns"):
        interview_tables(records["gespraeche"].drop(columns="zitat"), SITES, roles=ROLES,
                         partner_scale=codebook.scales["partner"], theme_scale=codebook.scales["thema"],
                         site_column="ort")


def test_build_tables_finds_interview_columns_by_role_not_name(phase, records, tmp_path):
    """The same interviews under other column names give the same tables: build_tables reads the roles."""
    config, codebook = phase
    renamed = {"gespraech": "conversation", "abschnitt": "part", "art": "partner_kind", "tag": "held_on",
               "minuten": "length", "stichwort": "topic", "zitat": "quote", "ort": "place"}
    data = yaml.safe_load(textwrap.dedent(CODEBOOK_YAML))
    spec = data["instruments"]["gespraeche"]
    for column in spec["columns"]:
        column["name"] = renamed[column["name"]]
    spec["key"] = [renamed[k] for k in spec["key"]]
    spec["constant_within"] = {renamed[k]: [renamed[c] for c in v] for k, v in spec["constant_within"].items()}
    other = tmp_path / "other"
    other.mkdir()
    (other / "codebook.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    other_codebook = load_codebook(other / "codebook.yaml")
    assert other_codebook.instruments["gespraeche"].roles["statement"] == "quote"
    cols = {**renamed, **{f"{k}_label": f"{v}_label" for k, v in renamed.items()}}
    other_records = {**records, "gespraeche": records["gespraeche"].rename(columns=cols)}
    assert "quote" in other_records["gespraeche"].columns
    want, got = build_tables(records, config, codebook), build_tables(other_records, config, other_codebook)
    for name in ("interviews", "interview_segments", "interview_themes", "interview_partners", "responses"):
        pd.testing.assert_frame_equal(got[name], want[name])
    assert len(got["interview_segments"]) == len(records["gespraeche"])


def test_responses_count_rows_or_distinct_units(phase, records):
    config, codebook = phase
    got = build_tables(records, config, codebook)["responses"].set_index(["instrument", "site"])["n"]
    umfrage = records["umfrage"]
    for site in (ALL_SITES, *SITES):
        assert got[("umfrage", site)] == len(at_site(umfrage, site))
    assert got[("gespraeche", ALL_SITES)] == 6 and got[("gespraeche", "A")] == 3
    assert ("panel", "D") not in got.index
    direct = responses(umfrage, "umfrage", SITES, site_column="ort")
    assert direct["n"].tolist() == [got[("umfrage", s)] for s in (ALL_SITES, *SITES)]


# ----------------------------------------------------------------------------------------------------------------
# build_tables


def test_build_tables_order_and_disclosure(phase, records):
    config, codebook = phase
    tables = build_tables(records, config, codebook, threshold=7)
    assert set(tables) == {"distributions", "summaries", "mentions", "running_statistics", "interviews",
                           "interview_segments", "interview_themes", "interview_partners", "responses"}
    # codebook item order; count items in summaries only, mention sets in mentions only
    assert tables["distributions"]["item"].drop_duplicates().tolist() == ["q_farbe", "q_agree", "q_panel", "q_note", "q_leer"]
    assert tables["summaries"]["item"].drop_duplicates().tolist() == ["q_farbe", "q_agree", "q_panel", "q_note", "q_anzahl", "q_leer"]
    assert tables["mentions"]["item"].drop_duplicates().tolist() == ["q_wege"]
    for name in ("distributions", "summaries", "mentions"):
        t = tables[name]
        n = "respondents" if name == "mentions" else "valid_n"
        small = (t["site"] != ALL_SITES) & t[n].between(1, 6)
        assert small.any(), name  # the seeded fixture has sites below the threshold (C: 6 rows)
        assert (t.loc[small, "suppression"] == "primary").all()
        assert not t.loc[t["site"] == ALL_SITES, "suppressed"].any()
        assert (t["suppressed"] == (t["suppression"] != "")).all()
    d = tables["distributions"]
    assert d.loc[d["suppressed"], ["count", "pct"]].isna().all().all()
    default = build_tables(records, config, codebook)["summaries"]  # threshold 3 from phase.yaml
    assert (default["suppression"] == "primary").tolist() == ((default["site"] != ALL_SITES) & default["valid_n"].between(1, 2)).tolist()
    unsuppressed = build_tables(records, config, codebook, threshold=1)["distributions"]
    assert not unsuppressed["suppressed"].any()
    assert unsuppressed["count"].tolist() == [int(v) for v in unsuppressed["count"]]


def test_missing_instrument_is_reported(phase, records):
    config, codebook = phase
    del records["panel"]
    with pytest.raises(ValueError, match="panel"):
        build_tables(records, config, codebook)


# ----------------------------------------------------------------------------------------------------------------
# the shipped reconstruction: read → validate → clean → build_tables reproduces printed totals


def test_shipped_data_reproduce_printed_totals(repo_root):
    from thinka.clean import clean_instrument
    from thinka.io import read_table
    from thinka.paths import PhasePaths
    from thinka.validate import validate_phase

    paths = PhasePaths(repo_root, "2013-2014")
    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    assert validate_phase(paths, config, codebook).ok
    records = {iid: clean_instrument(read_table(paths.raw / inst.file).frame, iid, config, codebook)
               for iid, inst in config.instruments.items()}
    tables = build_tables(records, config, codebook)
    dist = tables["distributions"]
    froh = dist[(dist["item"] == "froh_standort") & (dist["site"] == ALL_SITES)]
    assert froh["valid_n"].iloc[0] == 44  # Schaubild 4: N = 44
    assert froh.loc[froh["code"].isin(["1", "2"]), "count"].sum() == 36  # 82 % agree
    m = tables["mentions"][tables["mentions"]["site"] == ALL_SITES].drop_duplicates("item").set_index("item")
    assert m.loc["aufmerksam", "mentions"] == 134 and m.loc["problem", "mentions"] == 141
    r = tables["responses"].set_index(["instrument", "site"])["n"]
    assert (r[("einzelfallfragebogen", ALL_SITES)], r[("expertenfragebogen", ALL_SITES)], r[("experteninterviews", ALL_SITES)]) == (125, 46, 17)
    ps = tables["running_statistics"].set_index(["site", "quarter", "measure"])["value"]
    assert (ps[(ALL_SITES, "total", "personen")], ps[(ALL_SITES, "total", "beratungen")]) == (1457, 9417)
    partners = tables["interview_partners"].set_index(["site", "partner"])["interviews"]
    assert [partners[(ALL_SITES, c)] for c in ("kommunal", "jobcenter", "wohnungsunternehmen")] == [11, 3, 3]
