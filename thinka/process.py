"""Raw files → data/processed/<phase>/: validate, clean, aggregate, write Parquet atomically, then the manifest.

The manifest is written last: a folder with a manifest is complete. It records the phase, the thinka version, the
disclosure threshold, the SHA-256 of every input (instrument files, phase.yaml, codebook.yaml, and if present
published_figures.yaml and texte/**/*.md), of thinka's own source files, and of every output. It holds no timestamp,
so processing the same inputs twice gives the same bytes.

A second run is skipped (``cached=True``) when inputs, version and source hash match the manifest and every output
listed there still has its recorded hash; ``force=True`` always rebuilds. Parquet files in the output folder that
the run no longer produces are removed. data/raw is only ever read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import thinka
from thinka.clean import clean_instrument
from thinka.codebook import Codebook, PhaseConfig, check_consistency, load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.io import atomic_write_bytes, atomic_write_text, is_within, parquet_bytes, safe_join, sha256_file
from thinka.paths import PhasePaths
from thinka.validate import ValidationError, ValidationReport, validate_phase

MANIFEST = "manifest.json"
RECORDS_PREFIX = "records_"
_PACKAGE_DIR = Path(thinka.__file__).resolve().parent


@dataclass
class ProcessResult:
    phase: str
    cached: bool
    outputs: dict[str, Path]  # output file name -> path (Parquet files, without the manifest)
    manifest: Path
    row_counts: dict[str, int] = field(default_factory=dict)  # instrument -> records (empty when cached)
    removed: list[str] = field(default_factory=list)  # stale Parquet files deleted by this run
    report: ValidationReport | None = None


# ----------------------------------------------------------------------------------------------------------------
# Fingerprints


def input_files(paths: PhasePaths, config: PhaseConfig) -> dict[str, Path]:
    """Every input of the processed tables, keyed by its path relative to data/raw/<phase>/."""
    files = {"phase.yaml": paths.config, "codebook.yaml": paths.codebook}
    if paths.settings.is_file():
        files[paths.settings.name] = paths.settings  # the project's defaults under phase.yaml
    if paths.published.is_file():
        files[paths.published.name] = paths.published
    if paths.texts.is_dir():
        for p in sorted(paths.texts.rglob("*.md")):
            files[p.relative_to(paths.raw).as_posix()] = p
    for inst in config.instruments.values():
        files[inst.file] = paths.raw / inst.file
        if inst.mapping:  # a changed mapping changes the tables
            files[inst.mapping] = paths.raw / inst.mapping
    return files


def source_hash(package_dir: Path = _PACKAGE_DIR) -> str:
    """SHA-256 over thinka's Python source files (names and bytes), so that a code change invalidates the cache."""
    h = hashlib.sha256()
    for p in sorted(package_dir.rglob("*.py")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(package_dir).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _hash_inputs(files: dict[str, Path], folder: Path) -> dict[str, str | None]:
    # A missing instrument file, or one that resolves outside the phase folder (never opened), hashes to None;
    # validation reports both.
    return {name: (sha256_file(p) if p.is_file() and is_within(p, folder) else None) for name, p in sorted(files.items())}


def _read_manifest(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or damaged manifest: rebuild


def _is_current(manifest: dict | None, fingerprint: dict, out_dir: Path) -> bool:
    if not manifest or any(manifest.get(k) != v for k, v in fingerprint.items()):
        return False
    outputs = manifest.get("outputs") or {}
    return bool(outputs) and all(
        (out_dir / name).is_file() and sha256_file(out_dir / name) == digest for name, digest in outputs.items()
    )


# ----------------------------------------------------------------------------------------------------------------
# Stages


def clean_all(report: ValidationReport, config: PhaseConfig, codebook: Codebook) -> dict[str, pd.DataFrame]:
    """Cleaned records of every instrument of a valid report, keyed by instrument id."""
    return {iid: clean_instrument(report.tables[iid].frame, iid, config, codebook) for iid in config.instruments}


def _build_tables(records: dict[str, pd.DataFrame], config: PhaseConfig, codebook: Codebook) -> dict[str, pd.DataFrame]:
    from thinka import aggregate  # imported late: the aggregation stage is optional for validate-only use

    tables = aggregate.build_tables(records, config, codebook)
    for stem in tables:
        if not stem or "/" in stem or "\\" in stem or stem.startswith(".") or stem.startswith(RECORDS_PREFIX):
            raise ThinkaError(f"aggregate.build_tables returned a table named {stem!r}, which is not a usable file stem.")
    return tables


def _write_outputs(out_dir: Path, frames: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Write every frame as <name> atomically; returns name -> sha256 of the bytes written."""
    digests = {}
    for name, df in sorted(frames.items()):
        data = parquet_bytes(df)
        atomic_write_bytes(safe_join(out_dir, name), data, within=out_dir)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def _remove_stale(out_dir: Path, keep: set[str]) -> list[str]:
    removed = []
    for p in sorted(out_dir.glob("*.parquet")):
        if p.name not in keep:
            p.unlink()
            removed.append(p.name)
    return removed


def _guard_output(paths: PhasePaths) -> Path:
    out_dir = paths.processed.resolve()
    raw = paths.raw.resolve()
    if out_dir == raw or raw in out_dir.parents:
        raise ThinkaError(f"Output folder {out_dir} lies inside the raw data folder {raw}; thinka never writes there.")
    return out_dir


def previous_paths(paths: PhasePaths, config: PhaseConfig) -> PhasePaths | None:
    """The folders of the phase `config` is compared with, checked to exist; None without a previous phase."""
    if config.previous_phase is None:
        return None
    previous = PhasePaths(paths.root, config.previous_phase)
    if not previous.config.is_file():
        raise ThinkaError(
            f"{paths.config}: previous_phase: {config.previous_phase!r} has no {previous.config}; rule: the previous "
            "Förderphase must be a phase folder of this project.",
            hint="Name an existing folder under data/raw/ or remove `previous_phase` from phase.yaml.",
        )
    return previous


def _process_previous(paths: PhasePaths, config: PhaseConfig, force: bool, seen: tuple[str, ...]):
    """Process the previous phase first (its own chain included); returns (paths, result) or None."""
    previous = previous_paths(paths, config)
    if previous is None:
        return None
    if previous.phase in seen:
        raise ThinkaError(f"previous_phase forms a circle: {' -> '.join((*seen, previous.phase))}.",
                          hint="Each phase names an earlier one; the first phase names none.")
    return previous, process_phase(previous, force=force, _seen=seen)


def _comparison_tables(previous: PhasePaths, config: PhaseConfig, codebook: Codebook,
                       tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    from thinka.comparison import build_comparison

    prev_tables = {p.stem: pd.read_parquet(p) for p in sorted(previous.processed.glob("*.parquet"))
                   if not p.stem.startswith("comparison_")}
    return build_comparison(prev_tables, tables, load_phase(previous.config), config, load_codebook(previous.codebook),
                            codebook, config.comparison_level)


def process_phase(paths: PhasePaths, *, force: bool = False, _seen: tuple[str, ...] = ()) -> ProcessResult:
    """Validate, clean and aggregate a phase into data/processed/<phase>/ (skipped when nothing changed).

    A phase that names a `previous_phase` processes that phase first and adds the comparison tables
    (thinka.comparison); the previous phase's manifest enters this phase's fingerprint."""
    config = load_phase(paths.config)
    codebook = load_codebook(paths.codebook)
    check_consistency(config, codebook)
    out_dir = _guard_output(paths)
    manifest_path = out_dir / MANIFEST
    previous = _process_previous(paths, config, force, (*_seen, config.phase))
    fingerprint = {
        "phase": config.phase,
        "thinka_version": thinka.__version__,
        "disclosure_threshold": config.disclosure_threshold,
        "source_sha256": source_hash(),
        "inputs": _hash_inputs(input_files(paths, config), paths.raw),
    }
    if previous is not None:
        fingerprint["previous"] = {"phase": previous[0].phase, "manifest": sha256_file(previous[1].manifest),
                                   "level": config.comparison_level}
    old = _read_manifest(manifest_path)
    if not force and _is_current(old, fingerprint, out_dir):
        outputs = {name: out_dir / name for name in sorted(old["outputs"])}
        return ProcessResult(config.phase, True, outputs, manifest_path)

    report = validate_phase(paths, config, codebook)
    if not report.ok:
        raise ValidationError(report)
    records = clean_all(report, config, codebook)
    tables = _build_tables(records, config, codebook)
    frames = {f"{RECORDS_PREFIX}{iid}.parquet": df for iid, df in records.items()}
    if previous is not None:
        tables.update(_comparison_tables(previous[0], config, codebook, {**tables, **{
            f"{RECORDS_PREFIX}{iid}": df for iid, df in records.items()}}))
    frames.update({f"{stem}.parquet": df for stem, df in tables.items()})

    out_dir.mkdir(parents=True, exist_ok=True)
    digests = _write_outputs(out_dir, frames)
    removed = _remove_stale(out_dir, set(frames))
    manifest = {**fingerprint, "outputs": digests, "rows": {iid: len(df) for iid, df in sorted(records.items())}}
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                      within=out_dir)
    return ProcessResult(
        config.phase, False, {name: out_dir / name for name in sorted(frames)}, manifest_path,
        {iid: len(df) for iid, df in records.items()}, removed, report,
    )
