"""The SYNTHETIC second Förderphase 2015–2016: deterministic files, the second wave's changes, the synthetic label.

The file checks use plain pandas (no thinka reader), so they test the shipped bytes; the pipeline checks run thinka
on a private copy of the phase.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_phase_project

from thinka import stitch
from thinka.codebook import load_codebook, load_phase

REPO = Path(__file__).resolve().parent.parent
PHASE = "2015-2016"
RAW = REPO / "data" / "raw" / PHASE
OLD = REPO / "data" / "raw" / "2013-2014"
SCRIPT = REPO / "scripts" / "make_phase_2015_2016.py"
FILES = ("experteninterviews.csv", "einzelfallfragebogen.csv", "expertenfragebogen.csv", "projektstatistik.csv")
STYLE = {"experteninterviews.csv": (",", "utf-8"), "einzelfallfragebogen.csv": (";", "utf-8-sig"),
         "expertenfragebogen.csv": (";", "utf-8"), "projektstatistik.csv": (";", "utf-8")}


def read(folder: Path, name: str) -> pd.DataFrame:
    """Every cell as text; blanks stay ''."""
    sep, encoding = STYLE[name]
    return pd.read_csv(folder / name, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)


def run_script(out: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def config():
    return load_phase(RAW / "phase.yaml")


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(RAW / "codebook.yaml")


# ---------------------------------------------------------------------------------------------------------------
# Determinism


def test_script_is_deterministic_and_matches_shipped_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run_script(a)
    run_script(b)
    assert sorted(p.name for p in a.iterdir()) == sorted(FILES)  # no leftover temporary files
    for name in FILES:
        first = (a / name).read_bytes()
        assert first == (b / name).read_bytes(), f"{name} differs between two runs"
        assert first == (RAW / name).read_bytes(), f"shipped {name} is not what the script writes; rerun it"
        assert b"\r" not in first and first.endswith(b"\n")


def test_columns_follow_the_codebook_and_the_2013_2014_export_styles(codebook) -> None:
    for name in FILES:
        assert tuple(read(RAW, name).columns) == codebook.required_columns(name.removesuffix(".csv"))
        old = (OLD / name).read_bytes()
        assert (RAW / name).read_bytes().startswith(b"\xef\xbb\xbf") is old.startswith(b"\xef\xbb\xbf"), name


# ---------------------------------------------------------------------------------------------------------------
# Synthetic, and labelled so


def test_phase_is_labelled_synthetic_and_has_no_printed_edition(config) -> None:
    assert config.synthetic and not config.reconstruction
    assert config.previous_phase == "2013-2014"
    assert "erfunden" in config.report["synthetic_note"] and "make_phase_2015_2016.py" in config.report["synthetic_note"]
    assert not (RAW / "published_figures.yaml").exists()
    assert load_phase(OLD / "phase.yaml").synthetic is False


def test_synthetic_note_on_title_page_and_in_methods_note(config) -> None:
    note = stitch.esc(config.report["synthetic_note"])
    page = stitch.title_page(config)
    assert 'class="hinweis synthetisch"' in page and note in page
    assert page.index(note) < page.index('class="berichtsdatum"')
    methods = stitch.methods_note(config, [], None, [])
    assert note in methods and "Ausgewertet wurden die Datensätze" not in methods
    old = stitch.title_page(load_phase(OLD / "phase.yaml"))
    assert "hinweis synthetisch" not in old and "hinweis rekonstruktion" in old


def test_interview_statements_are_marked_invented() -> None:
    interviews = read(RAW, "experteninterviews.csv")
    assert interviews["aussage"].str.endswith(" [synthetisch]").all() and interviews["aussage"].is_unique


# ---------------------------------------------------------------------------------------------------------------
# Sites and codebook of the second wave


def test_sites_s07_left_s12_joined_s10_has_a_steering_group(config) -> None:
    assert "S07" not in config.site_codes and "S12" in config.site_codes
    assert config.site("S10").steering_group and not config.site("S11").steering_group
    assert not config.site("S12").steering_group
    experts, clients, stats = (read(RAW, f) for f in ("expertenfragebogen.csv", "einzelfallfragebogen.csv",
                                                      "projektstatistik.csv"))
    assert set(experts["standort"]) == set(config.allowed_sites("expertenfragebogen")) and "S10" in set(experts["standort"])
    assert set(clients["standort"]) == set(stats["standort"]) == set(config.site_codes)
    assert sorted(set(stats["quartal"])) == list(config.quarters)


def test_bekanntheit_revised_with_earlier_wording(codebook) -> None:
    old = load_codebook(OLD / "codebook.yaml").items["bekanntheit"]
    item = codebook.items["bekanntheit"]
    assert item.earlier_wording == old.wording and item.wording != old.wording
    assert codebook.schaubild(7).items == ("bekanntheit",) and codebook.schaubild(7).caption == item.wording


def test_one_item_new_one_dropped_all_others_kept(codebook) -> None:
    old = load_codebook(OLD / "codebook.yaml")
    assert set(codebook.items) - set(old.items) == {"erreichbarkeit"}
    assert set(old.items) - set(codebook.items) == {"steuerungsgruppe_stadtentwicklung"}
    new = codebook.items["erreichbarkeit"]
    assert new.instrument == "einzelfallfragebogen" and new.scale == "likert5"
    tables = {t.title: t.items for t in codebook.item_tables}
    assert "erreichbarkeit" in tables["Zufriedenheit der Hilfesuchenden"]
    assert all("steuerungsgruppe_stadtentwicklung" not in items for items in tables.values())
    assert [s.number for s in codebook.schaubilder] == [s.number for s in old.schaubilder]
    assert "steuerungsgruppe_stadtentwicklung" not in read(RAW, "expertenfragebogen.csv").columns
    assert "erreichbarkeit" in read(RAW, "einzelfallfragebogen.csv").columns


# ---------------------------------------------------------------------------------------------------------------
# A realistic second wave


def test_returns_per_site_leave_a_few_sites_below_the_threshold(config) -> None:
    for name, total in (("einzelfallfragebogen.csv", (140, 160)), ("expertenfragebogen.csv", (45, 55))):
        sizes = read(RAW, name)["standort"].value_counts()
        assert total[0] <= sizes.sum() <= total[1], name
        below = int((sizes < config.disclosure_threshold).sum())
        assert 1 <= below <= 3 and below < len(sizes) / 2, (name, sizes.to_dict())
    old = read(OLD, "einzelfallfragebogen.csv")["standort"].value_counts()
    new = read(RAW, "einzelfallfragebogen.csv")["standort"].value_counts()
    shared = sorted(set(old.index) & set(new.index))
    assert any(new[s] > old[s] for s in shared) and any(new[s] < old[s] for s in shared)


def test_interviews_in_the_third_quarter_2015() -> None:
    interviews = read(RAW, "experteninterviews.csv")
    assert interviews["interview_id"].nunique() == 15 and 50 <= len(interviews) <= 60
    first = interviews.groupby("interview_id").first()
    assert first["datum"].between("2015-07-01", "2015-09-30").all()
    assert (interviews.groupby("interview_id")[["standort", "partnertyp", "datum", "dauer_min"]].nunique() == 1).all().all()


def test_running_statistics_continue_from_2014_and_the_new_site_starts_low() -> None:
    old, new = read(OLD, "projektstatistik.csv"), read(RAW, "projektstatistik.csv")
    for df in (old, new):
        df[["personen", "beratungen"]] = df[["personen", "beratungen"]].astype(int)
    assert (new["beratungen"] >= new["personen"]).all()
    end_2014 = old[old["quartal"] == "2014-Q4"]["personen"].sum()
    start_2015 = new[new["quartal"] == "2015-Q1"]["personen"].sum()
    assert 0.75 * end_2014 <= start_2015 <= 1.1 * end_2014
    s12 = new[new["standort"] == "S12"].set_index("quartal")["personen"]
    assert s12["2015-Q1"] == new[new["quartal"] == "2015-Q1"]["personen"].min() and s12["2015-Q1"] < s12["2016-Q4"]


def _wilson(x: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    p, d = x / n, 1 + z * z / n
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (p + z * z / (2 * n) - half) / d, (p + z * z / (2 * n) + half) / d


def newcombe(x_new: int, n_new: int, x_old: int, n_old: int) -> tuple[float, float, float]:
    """Difference of two proportions (new minus old) with Newcombe's hybrid-score 95 % interval (method 10)."""
    p2, p1 = x_new / n_new, x_old / n_old
    (l2, u2), (l1, u1) = _wilson(x_new, n_new), _wilson(x_old, n_old)
    d = p2 - p1
    return d, d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def top_share(df: pd.DataFrame, item: str, top: tuple[str, ...]) -> tuple[int, int]:
    valid = df[item][~df[item].isin(["", "9"])]
    return int(valid.isin(top).sum()), len(valid)


@pytest.mark.parametrize(
    ("file", "item", "top", "expected"),
    [
        ("expertenfragebogen.csv", "bekanntheit", ("1", "2"), "up"),
        ("expertenfragebogen.csv", "feste_groesse", ("1", "2"), "up"),
        ("expertenfragebogen.csv", "intensivierung", ("1", "2"), "down"),
        ("expertenfragebogen.csv", "froh_standort", ("1", "2"), "same"),
        ("einzelfallfragebogen.csv", "weiterempfehlung", ("1",), "same"),
        ("einzelfallfragebogen.csv", "empathie", ("1", "2"), "same"),
    ],
)
def test_intended_effects_against_2013_2014(file: str, item: str, top: tuple[str, ...], expected: str) -> None:
    d, lo, hi = newcombe(*top_share(read(RAW, file), item, top), *top_share(read(OLD, file), item, top))
    if expected == "same":
        assert lo < 0 < hi and abs(d) < 0.03, (d, lo, hi)
    else:
        assert (lo > 0 and d > 0.15) if expected == "up" else (hi < 0 and d < -0.15), (d, lo, hi)


# ---------------------------------------------------------------------------------------------------------------
# thinka on the phase


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    from thinka.process import process_phase

    root = tmp_path_factory.mktemp("phase2")
    copy_phase_project(root, "2013-2014")  # the previous phase: processing compares with it
    paths = copy_phase_project(root, PHASE)
    return paths, process_phase(paths)


def test_phase_validates_and_processes(processed) -> None:
    from thinka.validate import validate_phase

    paths, result = processed
    assert validate_phase(paths).ok
    assert result.row_counts == {"experteninterviews": 55, "einzelfallfragebogen": 150, "expertenfragebogen": 50,
                                 "projektstatistik": 88}
    for table in ("distributions", "summaries", "mentions", "responses"):
        assert f"{table}.parquet" in result.outputs


def test_texts_match_the_data(processed, config, codebook) -> None:
    from thinka import api
    from thinka.facts import compute_facts
    from thinka.texts import check_texts, format_text_issues

    paths, _ = processed
    facts = compute_facts(api.load_tables(PHASE, root=paths.root), config, codebook)
    issues = check_texts(paths.texts, facts)
    assert not issues, format_text_issues(issues)
    assert {p.name for p in paths.texts.glob("*.md")} == {p.name for p in (OLD / "texte").glob("*.md")}
