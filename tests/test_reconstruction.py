"""The reconstructed 2013–2014 raw files: deterministic, and their totals reproduce the 2015 report.

The marginal checks use plain pandas on purpose (no thinka reader), so they test the shipped bytes, not thinka.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from thinka.codebook import load_codebook

RAW = Path(__file__).resolve().parent.parent / "data" / "raw" / "2013-2014"
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "reconstruct_2013_2014.py"
FILES = ("experteninterviews.csv", "einzelfallfragebogen.csv", "expertenfragebogen.csv", "projektstatistik.csv")
STEERING_GROUP_SITES = {f"S{i:02d}" for i in range(1, 10)}
ALL_SITES = {f"S{i:02d}" for i in range(1, 12)}

# Published marginals (valid answers per code 1..k), written out by hand from reference/feasible_counts.yaml.
EXPERT_VECTORS = {
    "anerkennung": [15, 20, 8, 2, 1],
    "potential_einzelfall": [12, 21, 9, 1, 0],
    "potential_netzwerk": [16, 21, 5, 2, 0],
    "froh_standort": [21, 15, 6, 2, 0],
    "feste_groesse": [12, 18, 10, 3, 1],
    "intensivierung": [13, 16, 10, 4, 1],
    "bekanntheit": [18, 14, 9, 3, 0],
    "verbesserung_infrastruktur": [3, 13, 12, 11, 5],
    "ansprechpartner": [17, 13, 8, 5, 2],
    "lage_sozialraum": [14, 16, 9, 4, 2],
    "aktivierung": [2, 28, 11, 3, 1, 0],
    "netzwerkarbeit": [10, 25, 7, 3, 0, 0],
    "kooperationsaufbau": [14, 20, 6, 2, 1, 0],
    "integration_sozial": [11, 15, 12, 3, 1, 0],
    "integration_beruflich": [0, 22, 16, 0, 4, 0],
    "sozialraumentwicklung": [7, 19, 13, 2, 0, 0],
    "steuerungsgruppe_nuetzlich": [14, 19, 7, 2, 1],
    "steuerungsgruppe_konstruktiv": [14, 21, 8, 2, 1],
    "steuerungsgruppe_buerger": [15, 18, 7, 3, 1],
    "steuerungsgruppe_stadtentwicklung": [12, 18, 9, 4, 1],
    "zusammenarbeit_sachlich": [19, 19, 1, 0, 0],
    "zusammenarbeit_zuverlaessig": [22, 21, 2, 1, 0],
    "zusammenarbeit_augenhoehe": [21, 20, 4, 1, 0],
    "zusammenarbeit_partnerschaftlich": [20, 20, 4, 2, 0],
    "zusammenarbeit_entlastend": [14, 13, 13, 6, 0],
    "zusammenarbeit_gewinnbringend": [15, 15, 11, 5, 0],
}
# N printed under each Schaubild of the expert questionnaire.
CHART_N = {
    "anerkennung": 46, "potential_einzelfall": 43, "potential_netzwerk": 44, "froh_standort": 44,
    "feste_groesse": 44, "intensivierung": 44, "bekanntheit": 44, "verbesserung_infrastruktur": 44,
    "ansprechpartner": 45, "lage_sozialraum": 45, "aktivierung": 45, "netzwerkarbeit": 45,
    "kooperationsaufbau": 43, "integration_sozial": 42, "integration_beruflich": 42,
    "sozialraumentwicklung": 41, "steuerungsgruppe_nuetzlich": 43,
}
AUFMERKSAM = {"behoerde": 34, "bekannte": 33, "oeffentlichkeit": 24, "traeger": 14, "veranstaltung": 12,
              "wohnung": 8, "sonstiges": 5, "internet": 4}
PROBLEM = {"behoerden": 27, "arbeitssuche": 24, "schulden": 22, "antraege": 20, "wohnen": 12, "gesundheit": 9,
           "familie": 8, "sonstiges": 8, "sprache": 6, "kontakte": 5}


def read(name: str, sep: str, encoding: str = "utf-8") -> pd.DataFrame:
    """Every cell as text; blanks stay ''. Missing codes are the caller's business."""
    return pd.read_csv(RAW / name, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)


def valid_codes(series: pd.Series, missing: tuple[str, ...] = ("", "9")) -> pd.Series:
    return series[~series.isin(missing)].astype(int)


def vector(series: pd.Series, k: int) -> list[int]:
    counts = valid_codes(series).value_counts()
    return [int(counts.get(code, 0)) for code in range(1, k + 1)]


@pytest.fixture(scope="module")
def experts() -> pd.DataFrame:
    return read("expertenfragebogen.csv", ";")


@pytest.fixture(scope="module")
def clients() -> pd.DataFrame:
    return read("einzelfallfragebogen.csv", ";", "utf-8-sig")


@pytest.fixture(scope="module")
def stats() -> pd.DataFrame:
    return read("projektstatistik.csv", ";")


@pytest.fixture(scope="module")
def interviews() -> pd.DataFrame:
    return read("experteninterviews.csv", ",")


def run_script(out: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True, text=True)


# ---------------------------------------------------------------------------------------------------------------
# Determinism and file format


def test_script_is_deterministic_and_matches_shipped_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run_script(a)
    run_script(b)
    for name in FILES:
        first = (a / name).read_bytes()
        assert first == (b / name).read_bytes(), f"{name} differs between two runs"
        assert first == (RAW / name).read_bytes(), f"shipped {name} is not what the script writes; rerun it"


def test_script_writes_only_into_out_dir(tmp_path: Path) -> None:
    run_script(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)  # no leftover temp files


@pytest.mark.parametrize(
    ("name", "bom", "sep"),
    [("einzelfallfragebogen.csv", True, ";"), ("expertenfragebogen.csv", False, ";"),
     ("experteninterviews.csv", False, ","), ("projektstatistik.csv", False, ";")],
)
def test_office_export_formats(name: str, bom: bool, sep: str) -> None:
    data = (RAW / name).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") is bom
    assert b"\r" not in data and data.endswith(b"\n")
    text = data.decode("utf-8-sig")
    assert sep in text.splitlines()[0] and ({",", ";"} - {sep}).pop() not in text.splitlines()[0]


def test_columns_match_the_codebook() -> None:
    codebook = load_codebook(RAW / "codebook.yaml")
    for name, sep, enc in (("experteninterviews.csv", ",", "utf-8"), ("einzelfallfragebogen.csv", ";", "utf-8-sig"),
                           ("expertenfragebogen.csv", ";", "utf-8"), ("projektstatistik.csv", ";", "utf-8")):
        assert tuple(read(name, sep, enc).columns) == codebook.required_columns(name.removesuffix(".csv"))


# ---------------------------------------------------------------------------------------------------------------
# Expertenfragebogen


def test_experts_rows_sites_and_dates(experts: pd.DataFrame) -> None:
    assert len(experts) == 46
    assert experts["fragebogen_id"].is_unique and experts["fragebogen_id"].str.fullmatch(r"EF-\d{3}").all()
    assert set(experts["standort"]) == STEERING_GROUP_SITES
    sizes = experts["standort"].value_counts()
    assert (sizes < 5).any() and sizes.max() >= 7  # uneven, some sites below the disclosure threshold
    dates = pd.to_datetime(experts["erhebungsdatum"], format="%Y-%m-%d")
    assert dates.between("2014-01-01", "2014-06-30").all()


@pytest.mark.parametrize("item", sorted(EXPERT_VECTORS))
def test_expert_item_vectors(experts: pd.DataFrame, item: str) -> None:
    expected = EXPERT_VECTORS[item]
    assert vector(experts[item], len(expected)) == expected
    assert len(valid_codes(experts[item])) == sum(expected)
    assert experts[item].isin([str(c) for c in range(1, len(expected) + 1)] + ["9", ""]).all()


@pytest.mark.parametrize("item", sorted(CHART_N))
def test_expert_valid_n_equals_printed_n(experts: pd.DataFrame, item: str) -> None:
    assert len(valid_codes(experts[item])) == CHART_N[item]


def test_expert_published_shares(experts: pd.DataFrame) -> None:
    def top2(item: str) -> float:
        v = valid_codes(experts[item])
        return 100 * v.isin([1, 2]).sum() / len(v)

    assert round(top2("steuerungsgruppe_konstruktiv")) == 76
    assert round(top2("steuerungsgruppe_stadtentwicklung")) == 68
    assert [round(top2(f"zusammenarbeit_{a}")) for a in
            ("sachlich", "zuverlaessig", "augenhoehe", "partnerschaftlich", "entlastend", "gewinnbringend")] == [97, 93, 89, 87, 59, 65]
    assert round(valid_codes(experts["integration_beruflich"]).mean(), 1) == 2.7
    assert round(valid_codes(experts["integration_sozial"]).mean(), 1) == 2.2
    assert round(valid_codes(experts["aktivierung"]).mean(), 1) == 2.4


def test_missing_answers_use_both_code_and_blank(experts: pd.DataFrame, clients: pd.DataFrame) -> None:
    cells = pd.concat([experts[list(EXPERT_VECTORS)].stack(), clients[["nutzung", "problem_geloest"]].stack()])
    assert (cells == "9").sum() > 0 and (cells == "").sum() > 0
    assert (clients["besuche"] == "-9").sum() + (clients["besuche"] == "").sum() == 3


def test_sites_differ(experts: pd.DataFrame) -> None:
    # A seeded site tendency: mean agreement over all items varies clearly between sites.
    codes = experts[list(EXPERT_VECTORS)].replace({"9": None, "": None}).astype(float)
    by_site = codes.mean(axis=1).groupby(experts["standort"]).mean()
    assert by_site.max() - by_site.min() > 0.4


# ---------------------------------------------------------------------------------------------------------------
# Einzelfallfragebogen


def test_clients_rows_sites_and_dates(clients: pd.DataFrame) -> None:
    assert len(clients) == 125
    assert clients["fragebogen_id"].is_unique and clients["fragebogen_id"].str.fullmatch(r"EZ-\d{3}").all()
    assert set(clients["standort"]) == ALL_SITES
    assert clients["standort"].value_counts().nunique() > 5
    dates = pd.to_datetime(clients["erhebungsdatum"], format="%Y-%m-%d")
    assert dates.between("2013-07-01", "2014-12-31").all()


def test_client_vectors(clients: pd.DataFrame) -> None:
    assert vector(clients["geschlecht"], 2) == [91, 34]
    assert vector(clients["nutzung"], 4) == [31, 37, 30, 24]
    assert vector(clients["weiterempfehlung"], 2) == [123, 2]
    empathie, loesung = vector(clients["empathie"], 5), vector(clients["individuelle_loesung"], 5)
    assert sum(empathie) == sum(loesung) == 125
    assert empathie[0] + empathie[1] == 120 and loesung[0] + loesung[1] == 119
    ja, teilweise, nein = vector(clients["problem_geloest"], 3)
    assert ja > teilweise + nein and 118 <= ja + teilweise + nein < 125


def test_visits_consistent_with_nutzung(clients: pd.DataFrame) -> None:
    answered = clients[~clients["besuche"].isin(["", "-9"])]
    assert len(answered) == 122
    visits, nutzung = answered["besuche"].astype(int), answered["nutzung"].astype(int)
    assert visits.sum() == 854 and visits.mean() == 7.0
    ranges = {1: (1, 1), 2: (2, 4), 3: (5, 10), 4: (11, 200)}
    for code, (lo, hi) in ranges.items():
        assert visits[nutzung == code].between(lo, hi).all(), code


@pytest.mark.parametrize(("prefix", "expected", "total"), [("aufmerksam", AUFMERKSAM, 134), ("problem", PROBLEM, 141)])
def test_mentions(clients: pd.DataFrame, prefix: str, expected: dict[str, int], total: int) -> None:
    block = clients[[f"{prefix}_{o}" for o in expected]]
    blank_rows = (block == "").all(axis=1)
    assert ((block == "").any(axis=1) == blank_rows).all()  # non-response is a blank row, never partial
    answered = block[~blank_rows].astype(int)
    assert {c.removeprefix(f"{prefix}_"): int(answered[c].sum()) for c in answered} == expected
    assert int(answered.to_numpy().sum()) == total
    per_person = answered.sum(axis=1)
    assert per_person.min() >= 1 and len(answered) >= 118


# ---------------------------------------------------------------------------------------------------------------
# Projektstatistik


def test_projektstatistik(stats: pd.DataFrame) -> None:
    assert len(stats) == 88 and not stats.duplicated(["standort", "quartal"]).any()
    assert set(stats["standort"]) == ALL_SITES
    assert sorted(set(stats["quartal"])) == [f"{y}-Q{q}" for y in (2013, 2014) for q in range(1, 5)]
    values = stats[["personen", "beratungen", "netzwerkkontakte"]].astype(int)
    assert values.sum().to_dict() == {"personen": 1457, "beratungen": 9417, "netzwerkkontakte": 4345}
    assert (values["beratungen"] >= values["personen"]).all()
    per_quarter = values.groupby(stats["quartal"]).sum()["personen"]
    assert per_quarter.iloc[0] < per_quarter.iloc[1:].min()  # start-up quarter
    assert per_quarter.iloc[4:].sum() > per_quarter.iloc[:4].sum()  # rising trend
    per_site = values.groupby(stats["standort"]).sum()["personen"]
    assert per_site.max() > 2 * per_site.min()


# ---------------------------------------------------------------------------------------------------------------
# Experteninterviews


def test_interviews(interviews: pd.DataFrame) -> None:
    per_iv = interviews.groupby("interview_id")
    assert interviews["interview_id"].nunique() == 17
    assert (per_iv[["standort", "partnertyp", "datum", "dauer_min"]].nunique() == 1).all().all()
    first = per_iv.first()
    assert first["partnertyp"].value_counts().to_dict() == {"kommunal": 11, "jobcenter": 3, "wohnungsunternehmen": 3}
    assert first["datum"].min() == "2014-01-13" and first["datum"].max() == "2014-06-27"
    minutes = first["dauer_min"].astype(int)
    assert minutes.between(40, 85).all() and abs(minutes.mean() - 60) <= 2
    assert per_iv.size().between(2, 5).all()
    assert (per_iv["segment"].apply(lambda s: list(s.astype(int)) == list(range(1, len(s) + 1)))).all()
    assert interviews["thema"].value_counts().min() >= 2 and interviews["thema"].nunique() == 10
    assert not interviews.duplicated(["interview_id", "thema"]).any()
    assert interviews["aussage"].str.endswith(" [rekonstruiert]").all() and interviews["aussage"].is_unique
    assert first["standort"].value_counts().max() <= 3
