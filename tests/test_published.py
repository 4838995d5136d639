"""Register of printed figures: loading/validation, qualifier semantics, comparison and its plain-text report."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import yaml

from thinka.codebook import load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.facts import compute_facts
from thinka.published import (
    STALE_NOTE,
    compare,
    format_comparison,
    load_register,
    qualifier_holds,
)

PHASE_DIR = ("data", "raw", "2013-2014")

# ------------------------------------------------------------------------------------------------ qualifiers


@pytest.mark.parametrize(
    ("qualifier", "value", "printed", "kind", "expected"),
    [
        ("exact", 81.82, 82, "percent", True),
        ("exact", 84.09, 83, "percent", False),
        ("exact", 82.5, 83, "percent", True),  # half up
        ("exact", 2.238, 2.2, "mean", True),
        ("exact", 2.25, 2.2, "mean", False),  # 2.25 -> 2.3
        ("exact", 7.0, 7, "mean", True),
        ("knapp", 76.74, 77, "percent", True),  # below and rounds to the print
        ("knapp", 36.36, 37, "percent", True),  # below, within 2.5 points
        ("knapp", 8.89, 10, "percent", True),
        ("knapp", 77.0, 77, "percent", False),  # not below
        ("knapp", 34.4, 37, "percent", False),  # too far below
        ("fraction", 65.91, 66.7, "percent", True),
        ("fraction", 63.0, 66.7, "percent", False),
        ("fraction", 69.3, 66.7, "percent", False),
        ("mehr_als", 52.38, 50, "percent", True),
        ("mehr_als", 50.0, 50, "percent", False),
        ("ueber", 63.41, 60, "percent", True),
        ("ueber", 59.9, 60, "percent", False),
        ("knapp_weniger_als", 9.52, 10, "percent", True),
        ("knapp_weniger_als", 10.0, 10, "percent", False),
        ("knapp_weniger_als", 7.4, 10, "percent", False),
        ("approx", 1457, 1500, "count", True),  # 2.9 % off
        ("approx", 9417, 9500, "count", True),
        ("approx", 1400, 1500, "count", False),  # 6.7 % off
    ],
)
def test_qualifier_semantics(qualifier, value, printed, kind, expected):
    assert qualifier_holds(qualifier, value, printed, kind) is expected


def test_unknown_qualifier_is_an_error():
    with pytest.raises(ValueError, match="qualifier"):
        qualifier_holds("ungefaehr", 1, 1)


# ------------------------------------------------------------------------------------------------ fixture


@pytest.fixture(scope="module")
def config(repo_root):
    return load_phase(repo_root.joinpath(*PHASE_DIR, "phase.yaml"))


@pytest.fixture(scope="module")
def codebook(repo_root):
    return load_codebook(repo_root.joinpath(*PHASE_DIR, "codebook.yaml"))


def _item_rows(item, counts):
    n = sum(counts)
    dist = [{"item": item, "instrument": "expertenfragebogen", "site": "all", "code": str(i), "label": f"L{i}",
             "order": i, "count": c, "valid_n": n, "pct": 100.0 * c / n, "suppressed": False, "suppression": None}
            for i, c in enumerate(counts, start=1)]
    top = 100.0 * sum(counts[:2]) / n
    summary = {"item": item, "instrument": "expertenfragebogen", "site": "all", "n_rows": n, "valid_n": n,
               "missing_n": 0, "top2": top, "bottom2": 100.0 * sum(counts[3:5]) / n,
               "mean": sum(i * c for i, c in enumerate(counts, 1)) / n if len(counts) == 6 else None,
               "suppressed": False, "suppression": None}
    return dist, summary


@pytest.fixture(scope="module")
def tables():
    # froh_standort: 36 of 44 agree = 81.8 %; kooperationsaufbau [14, 20, 6, 2, 1, 0] of 43:
    # top-2 34/43 = 79.1 % (rule A: 79), labels 33 + 47 = 80 (rule B).
    d1, s1 = _item_rows("froh_standort", [21, 15, 6, 2, 0])
    d2, s2 = _item_rows("kooperationsaufbau", [14, 20, 6, 2, 1, 0])
    return {"distributions": pd.DataFrame(d1 + d2), "summaries": pd.DataFrame([s1, s2])}


@pytest.fixture(scope="module")
def facts(tables, config, codebook):
    return compute_facts(tables, config, codebook)


def _write(tmp_path: Path, figures) -> Path:
    path = tmp_path / "published_figures.yaml"
    path.write_text(yaml.safe_dump({"figures": figures}, allow_unicode=True), encoding="utf-8")
    return path


def _entry(**kw):
    base = {"id": "S04_top2", "schaubild": 4, "fact": "item.froh_standort.top2", "printed": 82,
            "qualifier": "exact", "where": "Test"}
    base.update(kw)
    return base


# ------------------------------------------------------------------------------------------------ loading


def test_load_register_reads_entries(tmp_path):
    path = _write(tmp_path, [
        _entry(),
        _entry(id="S16", schaubild=16, fact="item.kooperationsaufbau.share.1+2", printed=80, rule="B",
               deviation={"reason": "r", "inconsistency": "I9"}, printed_text="80 Prozent"),
        _entry(id="p", schaubild=None, fact="stats.personen", printed=1457),
    ])
    reg = load_register(path)
    assert [f.id for f in reg] == ["S04_top2", "S16", "p"]
    assert reg[0].rule == "A" and reg[0].printed == 82.0 and reg[0].deviation is None
    assert reg[1].rule == "B" and reg[1].deviation.inconsistency == "I9"
    assert reg[2].schaubild is None


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"fact": "item.froh_standort.topp2"}, "fact"),  # not in the grammar
        ({"fact": "Schaubild 4"}, "fact"),
        ({"qualifier": "circa"}, "qualifier"),
        ({"rule": "C"}, "rule"),
        ({"printed": "82 %"}, "printed"),
        ({"schaubild": 0}, "schaubild"),
        ({"deviation": {"reason": "x"}}, "deviation"),
        ({"deviation": {"reason": "x", "inconsistency": "7"}}, "deviation.inconsistency"),
        ({"colour": "red"}, "colour"),
        ({"fact": "stats.personen", "rule": "B"}, "rule"),
    ],
)
def test_bad_entries_name_file_entry_and_key(tmp_path, change, key):
    path = _write(tmp_path, [_entry(**change)])
    with pytest.raises(ThinkaError) as info:
        load_register(path)
    msg = str(info.value)
    assert str(path) in msg and "'S04_top2'" in msg and f"{key!r}" in msg and "allowed" in msg


def test_missing_key_and_duplicates(tmp_path):
    entry = _entry()
    del entry["where"]
    with pytest.raises(ThinkaError, match="'where'"):
        load_register(_write(tmp_path, [entry]))
    with pytest.raises(ThinkaError, match="duplicate"):
        load_register(_write(tmp_path, [_entry(), _entry()]))
    (tmp_path / "x.yaml").write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ThinkaError, match="figures"):
        load_register(tmp_path / "x.yaml")


def test_fact_the_data_cannot_compute_names_the_entry(tmp_path, facts):
    reg = load_register(_write(tmp_path, [_entry(fact="item.froh_standrt.top2")]))
    with pytest.raises(ThinkaError) as info:
        compare(reg, facts)
    assert "'S04_top2'" in str(info.value) and "item.froh_standort.top2" in str(info.value)  # suggestion


# ------------------------------------------------------------------------------------------------ comparison


def _status(tmp_path, facts, tables, **kw):
    df = compare(load_register(_write(tmp_path, [_entry(**kw)])), facts, tables)
    return df.iloc[0]


def test_ok_registered_mismatch_and_stale(tmp_path, facts, tables):
    row = _status(tmp_path, facts, tables)
    assert row["status"] == "ok" and row["reproduced"] == pytest.approx(3600 / 44) and row["shown"] == "81,8\u00a0%"
    row = _status(tmp_path, facts, tables, printed=85)
    assert row["status"] == "MISMATCH"
    row = _status(tmp_path, facts, tables, printed=85, deviation={"reason": "base unclear", "inconsistency": "I7"})
    assert row["status"] == "deviation (registered)" and row["note"].startswith("I7")
    row = _status(tmp_path, facts, tables, deviation={"reason": "was wrong", "inconsistency": "I7"})
    assert row["status"] == "ok" and row["note"].startswith(STALE_NOTE)


def test_rule_b_uses_rounded_labels(tmp_path, facts, tables):
    kw = {"id": "S16", "schaubild": 16, "fact": "item.kooperationsaufbau.share.1+2", "printed": 80}
    assert _status(tmp_path, facts, tables, **kw)["status"] == "MISMATCH"  # rule A: 79.07 -> 79
    row = _status(tmp_path, facts, tables, rule="B", **kw)
    assert row["status"] == "ok" and row["reproduced"] == 80
    top2 = _status(tmp_path, facts, tables, rule="B", **{**kw, "fact": "item.kooperationsaufbau.top2"})
    assert top2["reproduced"] == 80
    with pytest.raises(ThinkaError, match="tables"):
        compare(load_register(_write(tmp_path, [_entry(rule="B", **kw)])), facts)


def test_format_comparison_groups_and_summarises(tmp_path, facts, tables):
    reg = load_register(_write(tmp_path, [
        _entry(id="sg", schaubild=None, fact="item.froh_standort.n", printed=44),
        _entry(id="S16", schaubild=16, fact="item.kooperationsaufbau.share.1+2", printed=80),
        _entry(),
        _entry(id="S04_dev", printed=85, deviation={"reason": "base unclear", "inconsistency": "I7"}),
    ]))
    text = format_comparison(compare(reg, facts, tables))
    lines = text.splitlines()
    assert lines[0].split(" | ")[0].strip() == "Schaubild" and "gedruckt" in lines[0] and "Status" in lines[0]
    pos4, pos16, pos_rest = text.index("Schaubild 4 "), text.index("Schaubild 16"), text.index("Weitere Kennzahlen")
    assert pos4 < pos16 < pos_rest
    assert "S04_dev: I7: base unclear" in text
    assert lines[-1] == "2 ok, 1 registered deviations, 1 mismatches"


# ------------------------------------------------------------------------------------------------ shipped register


def test_shipped_register_is_valid_and_covers_every_chart(repo_root):
    reg = load_register(repo_root.joinpath(*PHASE_DIR, "published_figures.yaml"))
    n_entries = {f.schaubild: f.printed for f in reg if f.fact == f"schaubild.{f.schaubild}.n"}
    assert sorted(n_entries) == list(range(1, 20))
    assert n_entries[12] == 134 and n_entries[14] == 141
    deviations = {f.id: f.deviation.inconsistency for f in reg if f.deviation}
    assert set(deviations.values()) == {"I7", "I8"}
    assert {f.fact for f in reg if f.rule == "B"} == {"item.kooperationsaufbau.share.1+2"}


_HAS_AGGREGATE = importlib.util.find_spec("thinka.aggregate") is not None


def _processed_tables(paths) -> dict[str, pd.DataFrame]:
    from thinka.process import process_phase

    process_phase(paths)
    return {f.stem: pd.read_parquet(f) for f in sorted(paths.processed.glob("*.parquet"))}


@pytest.fixture
def shipped_comparison(phase_copy):
    if not _HAS_AGGREGATE:
        pytest.skip("thinka.aggregate (build_tables) has not landed yet")
    tables = _processed_tables(phase_copy)
    facts = compute_facts(tables, load_phase(phase_copy.config), load_codebook(phase_copy.codebook))
    return phase_copy, facts, tables


def test_reconstruction_reproduces_the_print(shipped_comparison):
    paths, facts, tables = shipped_comparison
    df = compare(load_register(paths.published), facts, tables)
    assert not (df["status"] == "MISMATCH").any(), format_comparison(df)
    assert set(range(1, 20)) <= set(df["schaubild"].dropna().astype(int))
    assert set(df.loc[df["status"] == "deviation (registered)", "id"]) == {"S03_top2", "S03_top2_kurz", "S08_teils"}


def test_unregistered_deviation_is_a_mismatch(shipped_comparison):
    paths, facts, tables = shipped_comparison
    reg = load_register(paths.published)
    data = yaml.safe_load(paths.published.read_text(encoding="utf-8"))
    for entry in data["figures"]:
        if entry["id"] == "S05_top2":
            entry["printed"] += 3
    changed = paths.raw / "changed_figures.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    df = compare(load_register(changed), facts, tables).set_index("id")
    assert len(df) == len(reg)
    assert df.loc["S05_top2", "status"] == "MISMATCH"
    assert (df.drop(index="S05_top2")["status"] != "MISMATCH").all()
