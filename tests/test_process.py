"""thinka.process: raw → processed Parquet + manifest, cache, stale removal, purity, determinism."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import thinka
from thinka.errors import ThinkaError
from thinka.io import sha256_file
from thinka.process import MANIFEST, process_phase
from thinka.validate import ValidationError


def _raw_hashes(paths):
    return {p.relative_to(paths.raw).as_posix(): sha256_file(p) for p in sorted(paths.raw.rglob("*")) if p.is_file()}


@pytest.fixture
def stand_in(monkeypatch):
    """Replace aggregate.build_tables by a small stand-in whose output the test controls."""
    state = {"stems": ["responses", "extra"], "calls": 0}

    def build_tables(records, config, codebook):
        state["calls"] += 1
        n = pd.DataFrame({"instrument": sorted(records), "n": [len(records[k]) for k in sorted(records)]})
        return {stem: n for stem in state["stems"]}

    monkeypatch.setattr("thinka.aggregate.build_tables", build_tables)
    # Other engineers edit thinka's source while tests run; pin the source hash so the cache test is stable.
    monkeypatch.setattr("thinka.process.source_hash", lambda *a, **k: "pinned")
    return state


def test_shipped_data_end_to_end(phase_copy):
    before = _raw_hashes(phase_copy)
    result = process_phase(phase_copy)
    assert not result.cached
    assert _raw_hashes(phase_copy) == before  # raw files byte-identical
    out = phase_copy.processed
    for iid in ("experteninterviews", "einzelfallfragebogen", "expertenfragebogen", "projektstatistik"):
        assert (out / f"records_{iid}.parquet").is_file()
    for table in ("distributions", "summaries", "mentions", "responses"):
        assert f"{table}.parquet" in result.outputs
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["phase"] == "2013-2014" and manifest["thinka_version"] == thinka.__version__
    assert manifest["disclosure_threshold"] == 5
    assert set(manifest["inputs"]) >= {"phase.yaml", "codebook.yaml", "published_figures.yaml", "einzelfallfragebogen.csv"}
    assert any(k.startswith("texte/") for k in manifest["inputs"])
    assert manifest["inputs"]["codebook.yaml"] == sha256_file(phase_copy.codebook)
    assert manifest["outputs"] == {name: sha256_file(out / name) for name in result.outputs}
    records = pd.read_parquet(out / "records_expertenfragebogen.parquet")
    assert records["anerkennung"].cat.ordered
    assert list(records["anerkennung"].cat.categories)[0] == "stimme voll und ganz zu"
    assert len(records) == result.row_counts["expertenfragebogen"]


def test_second_run_is_cached_and_force_rebuilds_identical_bytes(synthetic_phase, stand_in):
    first = process_phase(synthetic_phase)
    manifest_bytes = first.manifest.read_bytes()
    outputs = {n: p.read_bytes() for n, p in first.outputs.items()}
    assert stand_in["calls"] == 1
    second = process_phase(synthetic_phase)
    assert second.cached and stand_in["calls"] == 1
    assert sorted(second.outputs) == sorted(first.outputs)
    forced = process_phase(synthetic_phase, force=True)
    assert not forced.cached and stand_in["calls"] == 2
    assert forced.manifest.read_bytes() == manifest_bytes
    assert {n: p.read_bytes() for n, p in forced.outputs.items()} == outputs


def test_manifest_is_sorted_json_without_timestamps(synthetic_phase, stand_in):
    text = process_phase(synthetic_phase).manifest.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert not any(k in text for k in ("time", "date\"", "created"))
    assert sorted(data["outputs"]) == sorted(
        ["extra.parquet", "responses.parquet"] + [f"records_{i}.parquet" for i in data["rows"]]
    )


@pytest.mark.parametrize("change", ["input", "source", "output"])
def test_changes_invalidate_the_cache(synthetic_phase, stand_in, monkeypatch, change):
    process_phase(synthetic_phase)
    if change == "input":
        path = synthetic_phase.raw / "projektstatistik.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8")
    elif change == "source":
        monkeypatch.setattr("thinka.process.source_hash", lambda *a, **k: "changed")
    else:
        (synthetic_phase.processed / "responses.parquet").write_bytes(b"tampered")
    assert not process_phase(synthetic_phase).cached
    assert stand_in["calls"] == 2


def test_missing_output_invalidates_the_cache(synthetic_phase, stand_in):
    process_phase(synthetic_phase)
    (synthetic_phase.processed / "records_projektstatistik.parquet").unlink()
    result = process_phase(synthetic_phase)
    assert not result.cached and (synthetic_phase.processed / "records_projektstatistik.parquet").is_file()


def test_stale_tables_are_removed(synthetic_phase, stand_in):
    process_phase(synthetic_phase)
    assert (synthetic_phase.processed / "extra.parquet").is_file()
    (synthetic_phase.processed / "notes.txt").write_text("not ours to delete", encoding="utf-8")
    stand_in["stems"] = ["responses"]
    result = process_phase(synthetic_phase, force=True)
    assert result.removed == ["extra.parquet"]
    assert not (synthetic_phase.processed / "extra.parquet").exists()
    assert (synthetic_phase.processed / "notes.txt").is_file()
    assert "extra.parquet" not in json.loads(result.manifest.read_text(encoding="utf-8"))["outputs"]


def test_invalid_data_raise_validation_error_and_write_nothing(synthetic_phase, stand_in):
    path = synthetic_phase.raw / "expertenfragebogen.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "standort"] = "S11"
    df.to_csv(path, index=False)
    before = _raw_hashes(synthetic_phase)
    with pytest.raises(ValidationError) as exc:
        process_phase(synthetic_phase)
    assert isinstance(exc.value, ThinkaError)
    v = exc.value.report.violations[0]
    assert (v.file, v.row, v.column, v.value) == ("expertenfragebogen.csv", 2, "standort", "S11")
    assert "expertenfragebogen.csv:2: column 'standort': value 'S11'" in str(exc.value)
    assert not synthetic_phase.processed.exists()
    assert stand_in["calls"] == 0
    assert _raw_hashes(synthetic_phase) == before


def test_bad_table_name_from_build_tables_is_rejected(synthetic_phase, stand_in):
    stand_in["stems"] = ["../escape"]
    with pytest.raises(ThinkaError, match="not a usable file stem"):
        process_phase(synthetic_phase)


def test_two_copies_give_identical_outputs(synthetic_phase, stand_in, tmp_path_factory):
    import shutil

    from thinka.paths import PhasePaths

    other_root = tmp_path_factory.mktemp("other")
    shutil.copytree(synthetic_phase.raw, other_root / "data" / "raw" / synthetic_phase.phase)
    shutil.copy2(synthetic_phase.settings, other_root / synthetic_phase.settings.name)
    other = PhasePaths(other_root, synthetic_phase.phase)
    a, b = process_phase(synthetic_phase), process_phase(other)
    assert a.manifest.read_bytes() == b.manifest.read_bytes()


# The interview columns and scales of the shipped codebook under other (English) names: thinka finds them by role.
OTHER_NAMES = {"interview_id": "conversation", "segment": "part", "partnertyp": "partner_kind", "datum": "held_on",
               "dauer_min": "minutes", "thema": "topic", "aussage": "quote"}
OTHER_SCALES = {"partnertyp": "interviewee_kinds", "interviewthema": "topics"}


def _rename_interview_columns(paths, instrument="experteninterviews"):
    import yaml

    from thinka.codebook import load_phase

    codebook = yaml.safe_load(paths.codebook.read_text(encoding="utf-8"))
    codebook["scales"] = {OTHER_SCALES.get(k, k): v for k, v in codebook["scales"].items()}
    spec = codebook["instruments"][instrument]
    for column in spec["columns"]:
        column["name"] = OTHER_NAMES.get(column["name"], column["name"])
        if "scale" in column:
            column["scale"] = OTHER_SCALES.get(column["scale"], column["scale"])
    spec["key"] = [OTHER_NAMES.get(k, k) for k in spec["key"]]
    spec["constant_within"] = {OTHER_NAMES[k]: [OTHER_NAMES.get(c, c) for c in v]
                               for k, v in spec["constant_within"].items()}
    paths.codebook.write_text(yaml.safe_dump(codebook, allow_unicode=True, sort_keys=False), encoding="utf-8")
    file = paths.raw / load_phase(paths.config).instruments[instrument].file
    raw = pd.read_csv(file, dtype=str, keep_default_na=False)
    assert set(OTHER_NAMES) <= set(raw.columns)
    raw.rename(columns=OTHER_NAMES).to_csv(file, index=False, encoding="utf-8")


def test_interview_columns_under_other_names_process_and_aggregate_the_same(phase_copy, tmp_path_factory):
    from conftest import copy_phase_project

    from thinka.codebook import load_codebook, load_phase
    from thinka.facts import compute_facts

    other = copy_phase_project(tmp_path_factory.mktemp("other_names"))
    _rename_interview_columns(other)
    a, b = process_phase(phase_copy), process_phase(other)
    records = pd.read_parquet(b.outputs["records_experteninterviews.parquet"])
    assert {"conversation", "quote", "partner_kind_label"} <= set(records.columns)  # raw names kept at the boundary
    assert "partnertyp" not in records.columns
    tables = {}
    for result, paths in ((a, phase_copy), (b, other)):
        tables[paths] = {name: pd.read_parquet(result.outputs[f"{name}.parquet"])
                         for name in ("interviews", "interview_segments", "interview_themes", "interview_partners",
                                      "responses")}
    for name, want in tables[phase_copy].items():
        pd.testing.assert_frame_equal(tables[other][name], want, obj=name)
    assert len(tables[other]["interviews"]) == 17 and tables[other]["interview_segments"]["statement"].notna().all()
    facts = {}
    for paths in (phase_copy, other):
        config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
        book = compute_facts(tables[paths], config, codebook)
        facts[paths] = {k: book[k].value for k in book if k.startswith("interviews.")}
    assert facts[other] == facts[phase_copy]
    assert facts[other]["interviews.partner.kommunal"] == 11 and facts[other]["interviews.duration_mean"] > 0
