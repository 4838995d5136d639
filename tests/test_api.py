"""thinka.api: processed tables, per-unit restriction, fingerprint and chart frames (on hand-made tidy tables)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SUPPRESSED_SITE, copy_phase_project

import thinka
from thinka import ALL_SITES, api
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths

PHASE = "2013-2014"


def write_processed(paths: PhasePaths, tables: dict[str, pd.DataFrame]) -> None:
    """Processed Parquet tables + a manifest with input hashes, as thinka.process writes them."""
    paths.processed.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_parquet(paths.processed / f"{name}.parquet", index=False)
    inputs = {p.relative_to(paths.raw).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in sorted(paths.raw.rglob("*")) if p.is_file()}
    manifest = {"phase": paths.phase, "thinka_version": thinka.__version__, "inputs": inputs, "outputs": {}}
    (paths.processed / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture
def processed_copy(repo_root: Path, tmp_path: Path, tables, monkeypatch) -> PhasePaths:
    """A tmp project with the phase's config files and hand-made processed tables (no data files, so
    processing is switched off: load_tables reads the hand-made tables as they are)."""
    monkeypatch.setattr(api, "_process", lambda paths: None)
    paths = copy_phase_project(tmp_path, files=("phase.yaml", "codebook.yaml"))
    write_processed(paths, tables)
    return paths


# ----------------------------------------------------------------------------------------------------------------
# load_tables / staleness


def test_load_tables_reads_processed_tables_after_delegating(processed_copy, monkeypatch, tables):
    calls = []
    monkeypatch.setattr(api, "_process", lambda paths: calls.append(paths))
    got = api.load_tables(PHASE, root=processed_copy.root)
    assert calls == [processed_copy]  # process_phase decides whether anything is stale
    assert set(got) == set(tables)
    assert len(got["distributions"]) == len(tables["distributions"])


def test_load_tables_without_any_tables_is_an_error(tmp_path, repo_root, monkeypatch):
    copy_phase_project(tmp_path, files=("phase.yaml",))
    monkeypatch.setattr(api, "_process", lambda paths: None)
    with pytest.raises(ThinkaError, match="No tables"):
        api.load_tables(PHASE, root=tmp_path)


def test_load_tables_processes_a_fresh_copy(phase_copy):
    if not (phase_copy.raw / "expertenfragebogen.csv").is_file():
        pytest.skip("raw data not shipped yet")
    got = api.load_tables(PHASE, root=phase_copy.root)
    assert (phase_copy.processed / "manifest.json").is_file()
    assert {"distributions", "summaries", "mentions", "running_statistics"} <= set(got)


# ----------------------------------------------------------------------------------------------------------------
# load_unit


def test_load_unit_restricts_to_site_and_all(processed_copy):
    unit = api.load_unit(PHASE, "verwaltung", "S01", root=processed_copy.root)
    assert unit.site_name == "Standort 01 (Platzhalter)"
    dist = unit.tables["distributions"]
    assert set(dist["site"]) == {"S01", ALL_SITES}
    items = {i.id for i in unit.codebook.items_of_dimension("verwaltung")}
    assert set(dist["item"]) <= items and "integration_sozial" in set(dist["item"])
    assert "froh_standort" not in set(unit.tables["summaries"]["item"])  # a sozialraum item
    # Projektstatistik and interviews belong to other dimensions.
    assert "running_statistics" not in unit.tables and "interviews" not in unit.tables


def test_load_unit_site_page_shows_only_its_own_running_statistics(processed_copy):
    unit = api.load_unit(PHASE, "individual", "S02", root=processed_copy.root)
    assert set(unit.tables["running_statistics"]["site"]) == {"S02"}
    assert set(unit.tables["mentions"]["site"]) == {"S02", ALL_SITES}
    overall = api.load_unit(PHASE, "individual", ALL_SITES, root=processed_copy.root)
    assert set(overall.tables["running_statistics"]["site"]) == {*overall.config.site_codes, ALL_SITES}


def test_load_unit_interviews_of_the_site(processed_copy):
    unit = api.load_unit(PHASE, "sozialraum", "S01", root=processed_copy.root)
    assert set(unit.tables["interview_segments"]["site"]) == {"S01"}
    assert set(unit.tables["interview_themes"]["site"]) == {"S01"}


def test_interview_frames_in_the_order_of_the_role_scales(cfg, tables, unit):
    config, codebook = cfg
    u = unit("sozialraum", ALL_SITES)
    themes = codebook.role_scale("experteninterviews", "theme")
    partners = codebook.role_scale("experteninterviews", "partner")
    seg = tables["interview_segments"]
    rank = {str(c): i for i, c in enumerate(themes.codes)}
    expected = seg.assign(_r=seg["theme"].map(rank)).sort_values(["_r", "interview", "segment"]).drop(columns="_r")
    got = api.interview_statements(u)
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))
    assert got["theme"].map(rank).is_monotonic_increasing and len(got) == len(seg)
    assert api.interview_partners(u)["partner"].tolist() == [str(c) for c in partners.codes]
    th = api.interview_themes(u)
    assert list(th.columns) == ["theme", "theme_label", "order", "segments", "interviews"]
    assert th["order"].is_monotonic_increasing


@pytest.mark.parametrize(("dimension", "site", "allowed"), [
    ("soziales", "all", "sozialraum, individual, verwaltung"),
    ("sozialraum", "S99", "S01"),
])
def test_load_unit_rejects_unknown_dimension_or_site(processed_copy, dimension, site, allowed):
    with pytest.raises(ThinkaError) as err:
        api.load_unit(PHASE, dimension, site, root=processed_copy.root)
    assert allowed in str(err.value) and repr(dimension if dimension == "soziales" else site) in str(err.value)


# ----------------------------------------------------------------------------------------------------------------
# Fingerprint


def test_fingerprint_is_stable_and_sees_table_and_config_changes(processed_copy):
    unit = api.load_unit(PHASE, "verwaltung", "S01", root=processed_copy.root)
    again = api.load_unit(PHASE, "verwaltung", "S01", root=processed_copy.root)
    fp = api.unit_fingerprint(unit)
    assert len(fp) == 64 and fp == api.unit_fingerprint(again)
    assert fp != api.unit_fingerprint(api.load_unit(PHASE, "verwaltung", "S02", root=processed_copy.root))
    changed = unit.tables["distributions"].copy()
    changed.loc[0, "pct"] = 12.5
    assert api.unit_fingerprint(api.Unit(**{**unit.__dict__, "tables": {**unit.tables, "distributions": changed}})) != fp
    (processed_copy.texts).mkdir()
    (processed_copy.texts / "b.md").write_text("Text", encoding="utf-8")
    assert api.unit_fingerprint(unit) != fp


def test_fingerprint_ignores_other_sites(processed_copy, tables):
    before = api.unit_fingerprint(api.load_unit(PHASE, "verwaltung", "S01", root=processed_copy.root))
    changed = dict(tables)
    d = tables["distributions"].copy()
    d.loc[(d["site"] == "S05") & (d["item"] == "netzwerkarbeit"), "count"] += 1
    changed["distributions"] = d
    write_processed(processed_copy, changed)
    after = api.unit_fingerprint(api.load_unit(PHASE, "verwaltung", "S01", root=processed_copy.root))
    assert before == after


# ----------------------------------------------------------------------------------------------------------------
# chart_data


def test_chart_data_stacked_matches_hand_computation(tables, unit):
    u = unit("verwaltung", "S01")
    df = api.chart_data(u, 17)
    assert list(df.columns[:12]) == api.CHART_COLUMNS[:12]
    assert list(dict.fromkeys(df["series"])) == ["soziale Integration", "berufliche Integration"]
    assert list(dict.fromkeys(df["site"])) == ["S01", ALL_SITES]
    d = tables["distributions"]
    src = d[(d["item"] == "integration_beruflich") & (d["site"] == ALL_SITES)]
    got = df[(df["item"] == "integration_beruflich") & (df["site"] == ALL_SITES)]
    assert got["pct"].tolist() == pytest.approx((100 * src["count"] / src["count"].sum()).tolist())
    assert got["category"].tolist() == ["sehr gut", "gut", "befriedigend", "ausreichend", "mangelhaft", "ungenügend"]
    codes = np.arange(1, 7)
    assert got["mean"].iloc[0] == pytest.approx(float((codes * src["count"]).sum() / src["count"].sum()))


def test_chart_data_suppressed_and_missing_sites(unit):
    sup = api.chart_data(unit("sozialraum", SUPPRESSED_SITE), 4)
    site_rows = sup[sup["site"] == SUPPRESSED_SITE]
    assert site_rows["suppressed"].all() and site_rows["pct"].isna().all()
    missing = api.chart_data(unit("sozialraum", "S10"), 4)  # no steering group
    rows = missing[missing["site"] == "S10"]
    assert len(rows) == 5 and not rows["suppressed"].any() and (rows["valid_n"] == 0).all()
    assert missing[missing["site"] == ALL_SITES]["pct"].sum() == pytest.approx(100)


def test_chart_data_mentions_sorted_by_count(unit):
    df = api.chart_data(unit("individual", "S01"), 14)
    overall = df[df["site"] == ALL_SITES]
    assert overall["count"].tolist() == sorted(overall["count"].tolist(), reverse=True)
    assert overall["pct"].sum() == pytest.approx(100)
    assert (overall["valid_n"] == overall["count"].sum()).all()
    # Each option's site row comes directly before its `all` row.
    assert df["site"].tolist()[:2] == ["S01", ALL_SITES] and df["category"].iloc[0] == df["category"].iloc[1]


def test_chart_data_rejects_schaubild_of_other_dimension(unit):
    with pytest.raises(ThinkaError, match="dimension"):
        api.chart_data(unit("verwaltung", ALL_SITES), 1)


def test_running_statistics_wide_in_quarter_order(unit):
    u = unit("individual", ALL_SITES)
    wide = api.running_statistics(u)
    assert wide["quarter"].tolist() == [*u.config.quarters, "total"]
    assert list(wide.columns) == ["quarter", "personen", "beratungen", "netzwerkkontakte"]
    assert wide["personen"].iloc[-1] == wide["personen"].iloc[:-1].sum()


def test_section_text_is_none_or_text(unit):
    text = api.section_text(unit("sozialraum", ALL_SITES), "erwartungen")
    assert text is None or isinstance(text, str)
