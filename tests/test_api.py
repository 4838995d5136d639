"""thinka.api: processed tables, per-unit restriction, fingerprint and chart frames (on hand-made tidy tables)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_phase_project

import thinka
from thinka import ALL_SITES, api
from thinka.codebook import load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths

PHASE = "2013-2014"
SUPPRESSED_SITE = "S03"  # in the fixture every per-site value of S03 rests on 3 answers
THRESHOLD = 5


# ----------------------------------------------------------------------------------------------------------------
# Hand-made tidy tables in the schemas of docs/architecture.md (also used by test_plots.py)


def _sites_of(config, instrument: str) -> list[str]:
    return list(config.allowed_sites(instrument))


def _counts(rng: np.random.Generator, n_levels: int, site: str) -> np.ndarray:
    total = 3 if site == SUPPRESSED_SITE else int(rng.integers(5, 9))
    return rng.multinomial(total, np.linspace(1.0, 0.3, n_levels) / np.linspace(1.0, 0.3, n_levels).sum())


def _suppress(df: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    hit = (df["site"] != ALL_SITES) & (df["valid_n"] < THRESHOLD)
    df = df.copy()
    df["suppressed"] = hit
    df["suppression"] = pd.Series(np.where(hit, "primary", None), index=df.index, dtype="object")
    for col in values:
        df[col] = df[col].astype("float64").mask(hit)
    return df


def make_tables(config, codebook, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Small but complete tidy tables: per-site rows from random counts, `all` rows as their sums."""
    rng = np.random.default_rng(seed)
    dist, summ, ment = [], [], []
    for item in codebook.items.values():
        scale = codebook.scale_of(item.id)
        sites = _sites_of(config, item.instrument)
        if item.is_multiple_response:
            per_site = {s: rng.integers(0, 6, len(item.options)) for s in sites}
            for site, counts in [*per_site.items(), (ALL_SITES, sum(per_site.values()))]:
                total = int(counts.sum())
                for order, (opt, c) in enumerate(zip(item.options, counts), start=1):
                    ment.append({"item": item.id, "site": site, "option": opt.column, "label": opt.label,
                                 "order": order, "count": int(c), "mentions": total, "respondents": total // 2 + 1,
                                 "pct_mentions": 100 * c / total if total else np.nan,
                                 "pct_respondents": 100 * c / (total // 2 + 1)})
            continue
        if scale.kind == "count":
            continue
        per_site = {s: _counts(rng, len(scale.levels), s) for s in sites}
        for site, counts in [*per_site.items(), (ALL_SITES, sum(per_site.values()))]:
            n = int(counts.sum())
            for order, (lv, c) in enumerate(zip(scale.levels, counts), start=1):
                dist.append({"item": item.id, "instrument": item.instrument, "site": site, "code": str(lv.code),
                             "label": lv.label, "order": order, "count": int(c), "valid_n": n, "pct": 100 * c / n})
            codes = np.array([float(c) if isinstance(c, int) else np.nan for c in scale.codes])
            top = sum(c for lv, c in zip(scale.levels, counts) if lv.code in scale.top)
            bottom = sum(c for lv, c in zip(scale.levels, counts) if lv.code in scale.bottom)
            summ.append({"item": item.id, "instrument": item.instrument, "site": site, "n_rows": n + 1,
                         "valid_n": n, "missing_n": 1, "top2": 100 * top / n, "bottom2": 100 * bottom / n,
                         "mean": float((codes * counts).sum() / n) if scale.kind == "grade" else np.nan})
    tables = {
        "distributions": _suppress(pd.DataFrame(dist), ["count", "pct"]),
        "summaries": _suppress(pd.DataFrame(summ), ["top2", "bottom2", "mean"]),
        "mentions": _suppress(pd.DataFrame(ment).assign(valid_n=lambda d: d["mentions"]),
                              ["count", "pct_mentions", "pct_respondents"]).drop(columns="valid_n"),
    }
    tables.update(_projektstatistik(config, rng))
    tables.update(_interviews(config, codebook))
    tables["responses"] = pd.DataFrame(
        [{"instrument": i, "site": s, "n": 6} for i in config.instruments for s in _sites_of(config, i)]
        + [{"instrument": i, "site": ALL_SITES, "n": 6 * len(_sites_of(config, i))} for i in config.instruments]
    )
    return tables


def _projektstatistik(config, rng) -> dict[str, pd.DataFrame]:
    rows = []
    for site in config.site_codes:
        for q in config.quarters:
            for m in ("personen", "beratungen", "netzwerkkontakte"):
                rows.append({"site": site, "quarter": q, "measure": m, "value": int(rng.integers(5, 400))})
    df = pd.DataFrame(rows)
    by_site = df.groupby(["site", "measure"], as_index=False)["value"].sum().assign(quarter="total")
    by_q = df.groupby(["quarter", "measure"], as_index=False)["value"].sum().assign(site=ALL_SITES)
    overall = df.groupby("measure", as_index=False)["value"].sum().assign(site=ALL_SITES, quarter="total")
    out = pd.concat([df, by_site, by_q, overall], ignore_index=True)
    return {"running_statistics": out[["site", "quarter", "measure", "value"]]}


def _interviews(config, codebook) -> dict[str, pd.DataFrame]:
    partner = codebook.role_scale("experteninterviews", "partner")
    thema = codebook.role_scale("experteninterviews", "theme")
    interviews, segments = [], []
    for i, site in enumerate(config.site_codes[:4]):
        lv = partner.levels[i % len(partner.levels)]
        iid = f"I{i + 1:02d}"
        interviews.append({"interview": iid, "site": site, "partner": lv.code, "partner_label": lv.label,
                           "date": pd.Timestamp("2014-03-01"), "duration_min": 60, "segments": 2})
        for seg in (1, 2):
            th = thema.levels[(i + seg) % len(thema.levels)]
            segments.append({"interview": iid, "segment": seg, "site": site, "partner": lv.code,
                             "theme": th.code, "theme_label": th.label,
                             "statement": f"Aussage {iid}/{seg} <zitiert> [rekonstruiert]"})
    seg = pd.DataFrame(segments)
    order = {c: i for i, c in enumerate(thema.codes, start=1)}
    themes = []
    for site, part in [*seg.groupby("site"), (ALL_SITES, seg)]:
        for code, p in part.groupby("theme"):
            themes.append({"site": site, "theme": code, "theme_label": thema.label(code), "order": order[code],
                           "segments": len(p), "interviews": p["interview"].nunique()})
    iv = pd.DataFrame(interviews)
    partners = []
    for site, part in [*iv.groupby("site"), (ALL_SITES, iv)]:
        for order, lv in enumerate(partner.levels, start=1):
            partners.append({"site": site, "partner": lv.code, "label": lv.label, "order": order,
                             "interviews": int((part["partner"] == lv.code).sum())})
    return {"interviews": iv, "interview_segments": seg, "interview_themes": pd.DataFrame(themes),
            "interview_partners": pd.DataFrame(partners)}


@pytest.fixture(scope="module")
def cfg(repo_root: Path):
    raw = repo_root / "data" / "raw" / PHASE
    return load_phase(raw / "phase.yaml"), load_codebook(raw / "codebook.yaml")


@pytest.fixture(scope="module")
def tables(cfg):
    return make_tables(*cfg)


def make_unit(cfg, tables, dimension: str, site: str, root: Path) -> api.Unit:
    """A Unit built from in-memory tables, exactly as load_unit restricts them."""
    config, codebook = cfg
    restricted = api.restrict_tables(tables, config, codebook, dimension, site)
    name = api.ALL_SITES_LABEL if site == ALL_SITES else config.site(site).name
    return api.Unit(PHASE, dimension, site, name, PhasePaths(root, PHASE), config, codebook, restricted)


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


def test_interview_frames_in_the_order_of_the_role_scales(cfg, tables, tmp_path):
    config, codebook = cfg
    unit = make_unit(cfg, tables, "sozialraum", ALL_SITES, tmp_path)
    themes = codebook.role_scale("experteninterviews", "theme")
    partners = codebook.role_scale("experteninterviews", "partner")
    seg = tables["interview_segments"]
    rank = {str(c): i for i, c in enumerate(themes.codes)}
    expected = seg.assign(_r=seg["theme"].map(rank)).sort_values(["_r", "interview", "segment"]).drop(columns="_r")
    got = api.interview_statements(unit)
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))
    assert got["theme"].map(rank).is_monotonic_increasing and len(got) == len(seg)
    assert api.interview_partners(unit)["partner"].tolist() == [str(c) for c in partners.codes]
    th = api.interview_themes(unit)
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


def test_chart_data_stacked_matches_hand_computation(cfg, tables, tmp_path):
    unit = make_unit(cfg, tables, "verwaltung", "S01", tmp_path)
    df = api.chart_data(unit, 17)
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


def test_chart_data_suppressed_and_missing_sites(cfg, tables, tmp_path):
    sup = api.chart_data(make_unit(cfg, tables, "sozialraum", SUPPRESSED_SITE, tmp_path), 4)
    site_rows = sup[sup["site"] == SUPPRESSED_SITE]
    assert site_rows["suppressed"].all() and site_rows["pct"].isna().all()
    missing = api.chart_data(make_unit(cfg, tables, "sozialraum", "S10", tmp_path), 4)  # no steering group
    rows = missing[missing["site"] == "S10"]
    assert len(rows) == 5 and not rows["suppressed"].any() and (rows["valid_n"] == 0).all()
    assert missing[missing["site"] == ALL_SITES]["pct"].sum() == pytest.approx(100)


def test_chart_data_mentions_sorted_by_count(cfg, tables, tmp_path):
    df = api.chart_data(make_unit(cfg, tables, "individual", "S01", tmp_path), 14)
    overall = df[df["site"] == ALL_SITES]
    assert overall["count"].tolist() == sorted(overall["count"].tolist(), reverse=True)
    assert overall["pct"].sum() == pytest.approx(100)
    assert (overall["valid_n"] == overall["count"].sum()).all()
    # Each option's site row comes directly before its `all` row.
    assert df["site"].tolist()[:2] == ["S01", ALL_SITES] and df["category"].iloc[0] == df["category"].iloc[1]


def test_chart_data_rejects_schaubild_of_other_dimension(cfg, tables, tmp_path):
    with pytest.raises(ThinkaError, match="dimension"):
        api.chart_data(make_unit(cfg, tables, "verwaltung", ALL_SITES, tmp_path), 1)


def test_running_statistics_wide_in_quarter_order(cfg, tables, tmp_path):
    unit = make_unit(cfg, tables, "individual", ALL_SITES, tmp_path)
    wide = api.running_statistics(unit)
    assert wide["quarter"].tolist() == [*unit.config.quarters, "total"]
    assert list(wide.columns) == ["quarter", "personen", "beratungen", "netzwerkkontakte"]
    assert wide["personen"].iloc[-1] == wide["personen"].iloc[:-1].sum()


def test_section_text_is_none_or_text(cfg, tables, tmp_path):
    text = api.section_text(make_unit(cfg, tables, "sozialraum", ALL_SITES, tmp_path), "erwartungen")
    assert text is None or isinstance(text, str)
