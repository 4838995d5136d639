"""Check raw instrument files against phase.yaml and codebook.yaml, collecting every violation.

Nothing here stops at the first problem: a user fixing a file wants the whole list at once. Checks run per column,
vectorised; only offending rows become `Violation`s, so a clean 10,000-row file costs a few array operations.

Rules (the `rule` text of a Violation starts with these words):

- file: ``file outside the phase folder`` (also through a symbolic link), ``file missing``, ``unreadable file``
  (with the row and column of the damage where `thinka.io` names one: a cut-off row, an unclosed quote, a NUL
  byte, an over-long cell, an unaccepted separator), ``no data rows``
- columns: ``missing required column`` (codebook.required_columns), ``unknown column``
- blanks: ``empty id`` (id columns), ``blank where required`` (site, date, quarter, integer and code columns;
  only text columns and items may be blank)
- ``unknown site`` / ``site not allowed for instrument`` (phase.yaml: e.g. expert questionnaires only from sites
  with a steering group)
- ``malformed date`` / ``impossible date`` / ``date outside field period``
- ``malformed quarter`` / ``quarter outside phase period``
- ``not a whole number`` / ``out of range`` (integer columns, count items: ``count out of range``)
- ``code outside scale`` (code columns, ordinal/grade/nominal items), ``mention not 0/1`` (multiple-response options)
- ``duplicate key`` (names the first row with the same key), ``differs within`` (constant_within),
  ``missing combination`` (complete: e.g. a site × quarter without a row)

Row numbers are those of `thinka.io.read_table` (header = row 1); `row=None` means the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from thinka.codebook import Codebook, PhaseConfig, Scale, check_consistency, load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.io import RawTable, TableError, is_within, read_table
from thinka.paths import PhasePaths
from thinka.violations import Violation

_INT = r"[+-]?\d+"
_DATE = r"\d{4}-\d{2}-\d{2}"
_QUARTER = r"\d{4}-Q[1-4]"
_REQUIRED_TYPES = ("id", "site", "date", "quarter", "integer", "code")


@dataclass(frozen=True)
class FileInfo:
    path: Path
    format: str
    encoding: str | None
    separator: str | None


@dataclass
class ValidationReport:
    phase: str
    violations: list[Violation] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)  # instrument -> data rows read
    files: dict[str, FileInfo] = field(default_factory=dict)  # instrument -> how its file was read
    tables: dict[str, RawTable] = field(default_factory=dict, repr=False)  # instrument -> the table as read
    mappings: dict[str, object] = field(default_factory=dict, repr=False)  # instrument -> mapping.MappingResult

    @property
    def ok(self) -> bool:
        return not self.violations


class ValidationError(ThinkaError):
    """Raised by `process_phase` when the raw files break the data contract; carries the full report.

    Exit code 1 (problems found in the data), like `thinka validate`; 2 stays for unusable input or configuration."""

    exit_code = 1

    def __init__(self, report: ValidationReport, limit: int | None = 50):
        self.report = report
        text = format_violations(report, limit=limit)
        super().__init__(text)


# ----------------------------------------------------------------------------------------------------------------
# Helpers: turn a boolean mask over a column into violations


def _emit(out: list, file: str, series: pd.Series, bad: pd.Series, rule: str, allowed: str, hint: str | None = None) -> None:
    for row, value in series[bad].items():
        out.append(Violation(file, int(row), str(series.name), str(value), rule, allowed, hint))


def _int_check(out, file, s: pd.Series, present: pd.Series, lo, hi, rule_range: str, extra_ok=None) -> None:
    """Whole numbers within [lo, hi]; `extra_ok` marks values accepted anyway (missing codes)."""
    ok_extra = extra_ok if extra_ok is not None else pd.Series(False, index=s.index)
    candidates = present & ~ok_extra
    is_int = s.str.fullmatch(_INT)
    _emit(out, file, s, candidates & ~is_int, "not a whole number", _range_text(lo, hi))
    nums = pd.to_numeric(s.where(candidates & is_int), errors="coerce")
    outside = pd.Series(False, index=s.index)
    if lo is not None:
        outside |= nums < lo
    if hi is not None:
        outside |= nums > hi
    _emit(out, file, s, candidates & is_int & outside.fillna(False), rule_range, _range_text(lo, hi))


def _range_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"whole numbers {lo}–{hi}"
    if lo is not None:
        return f"whole numbers ≥ {lo}"
    if hi is not None:
        return f"whole numbers ≤ {hi}"
    return "whole numbers"


def _codes(codes) -> list[str]:
    return [str(c) for c in codes]


# ----------------------------------------------------------------------------------------------------------------
# Column checks


def _check_columns(raw: RawTable, instrument_id: str, codebook: Codebook, out: list) -> list[str]:
    """Missing and unknown columns; returns the required columns present in the file."""
    required = codebook.required_columns(instrument_id)
    present = list(raw.frame.columns)
    for col in required:
        if col not in present:
            out.append(Violation(raw.name, raw.header_row, col, None, "missing required column",
                                 f"the columns of '{instrument_id}' in codebook.yaml",
                                 f"add the column to the header row (row {raw.header_row})"))
    for col in present:
        if col not in required:
            out.append(Violation(raw.name, raw.header_row, col, None, "unknown column",
                                 ", ".join(required), "rename it to a codebook column or delete it"))
    return [c for c in required if c in present]


def _check_structural(raw, instrument_id, config: PhaseConfig, codebook: Codebook, out: list) -> None:
    spec = codebook.instruments[instrument_id]
    inst = config.instruments[instrument_id]
    frame, file = raw.frame, raw.name
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        s = frame[col.name]
        present = s != ""
        if col.type == "id":
            _emit(out, file, s, ~present, "empty id", "a non-empty identifier")
        elif col.type in _REQUIRED_TYPES:
            _emit(out, file, s, ~present, "blank where required", f"a {col.type} value")
        if col.type == "site":
            _check_site(out, file, s, present, instrument_id, config)
        elif col.type == "date":
            _check_date(out, file, s, present, inst.field_start, inst.field_end)
        elif col.type == "quarter":
            _check_quarter(out, file, s, present, config)
        elif col.type == "integer":
            _int_check(out, file, s, present, col.min, col.max, "out of range")
        elif col.type == "code":
            scale = codebook.scales[col.scale]
            allowed = _codes(scale.codes) + _codes(scale.missing_codes)
            _emit(out, file, s, present & ~s.isin(allowed), "code outside scale", scale.describe_allowed())


def _check_site(out, file, s, present, instrument_id, config: PhaseConfig) -> None:
    known = s.isin(list(config.site_codes))
    _emit(out, file, s, present & ~known, "unknown site", ", ".join(config.site_codes),
          "site codes are listed in phase.yaml")
    allowed = config.allowed_sites(instrument_id)
    not_allowed = present & known & ~s.isin(list(allowed))
    if not_allowed.any():
        hint = ("only sites with a steering group return this instrument"
                if config.instruments[instrument_id].sites == "steering_group" else None)
        _emit(out, file, s, not_allowed, f"site not allowed for instrument '{instrument_id}'", ", ".join(allowed), hint)


def _check_date(out, file, s, present, start, end) -> None:
    well_formed = s.str.fullmatch(_DATE)
    _emit(out, file, s, present & ~well_formed, "malformed date", "YYYY-MM-DD, e.g. 2014-03-31")
    parsed = pd.to_datetime(s.where(present & well_formed), format="%Y-%m-%d", errors="coerce")
    impossible = present & well_formed & parsed.isna()
    _emit(out, file, s, impossible, "impossible date", "a calendar date in YYYY-MM-DD")
    outside = (parsed < pd.Timestamp(start)) | (parsed > pd.Timestamp(end))
    _emit(out, file, s, outside.fillna(False) & ~impossible, "date outside field period",
          f"{start.isoformat()} to {end.isoformat()}")


def _check_quarter(out, file, s, present, config: PhaseConfig) -> None:
    well_formed = s.str.fullmatch(_QUARTER)
    _emit(out, file, s, present & ~well_formed, "malformed quarter", "YYYY-Qn, e.g. 2014-Q1")
    quarters = list(config.quarters)
    _emit(out, file, s, present & well_formed & ~s.isin(quarters), "quarter outside phase period",
          f"{quarters[0]} to {quarters[-1]}")


def _check_items(raw, instrument_id, codebook: Codebook, out: list) -> None:
    frame, file = raw.frame, raw.name
    for item in codebook.items_of(instrument_id):
        scale = codebook.scales[item.scale]
        for colname in item.columns:
            if colname in frame.columns:
                _check_item_column(out, file, frame[colname], scale)


def _check_item_column(out, file, s: pd.Series, scale: Scale) -> None:
    present = s != ""
    missing = s.isin(_codes(scale.missing_codes))
    if scale.kind == "count":
        _int_check(out, file, s, present, scale.min, scale.max, "count out of range", extra_ok=missing)
    elif scale.kind == "mention":
        ok = s.isin(["0", "1"]) | missing
        _emit(out, file, s, present & ~ok, "mention not 0/1", scale.describe_allowed())
    else:
        ok = s.isin(_codes(scale.codes)) | missing
        _emit(out, file, s, present & ~ok, "code outside scale", scale.describe_allowed())


# ----------------------------------------------------------------------------------------------------------------
# Row-set checks: keys, constant_within, complete


def _check_key(raw, key: tuple[str, ...], out: list) -> None:
    frame = raw.frame
    if not key or any(k not in frame.columns for k in key):
        return
    keys = frame[list(key)]
    usable = (keys != "").all(axis=1)  # blank key parts are reported as blanks already
    keys = keys[usable]
    dup = keys.duplicated(keep=False)
    if not dup.any():
        return
    first_row = keys[dup].rename_axis("row").reset_index().groupby(list(key), sort=False)["row"].transform("min")
    first_row.index = keys[dup].index
    for row, vals in keys[dup].iterrows():
        first = int(first_row[row])
        if first == row:
            continue
        out.append(Violation(raw.name, int(row), ", ".join(key), " / ".join(vals.astype(str)),
                             f"duplicate key (same as row {first})", f"one row per {', '.join(key)}",
                             "remove or renumber one of the two rows"))


def _check_constant_within(raw, constant_within: dict[str, tuple[str, ...]], out: list) -> None:
    """Rows of one group (e.g. one interview) must agree; rows that differ from the group's majority are reported."""
    frame = raw.frame
    for group_col, cols in constant_within.items():
        if group_col not in frame.columns:
            continue
        rows = frame[frame[group_col] != ""].rename_axis("row").reset_index()
        for col in cols:
            if col not in frame.columns:
                continue
            # Reference = the most frequent value of the group (ties: the earliest row), so that one wrong row is
            # reported once rather than every right row being reported against it.
            rows["_n"] = rows.groupby([group_col, col], sort=False)[col].transform("size")
            ref = rows.sort_values(["_n", "row"], ascending=[False, True]).groupby(group_col, sort=False).first()
            ref_value = rows[group_col].map(ref[col])
            ref_row = rows[group_col].map(ref["row"])
            for i in rows.index[rows[col] != ref_value]:
                gid = rows.at[i, group_col]
                out.append(Violation(
                    raw.name, int(rows.at[i, "row"]), col, rows.at[i, col],
                    f"differs within {group_col} '{gid}' (row {int(ref_row[i])} has '{ref_value[i]}')",
                    f"the same {col} in every row of one {group_col}",
                ))


def _check_complete(raw, instrument_id, complete: tuple[str, ...], config: PhaseConfig, codebook: Codebook, out) -> None:
    frame = raw.frame
    if not complete or any(c not in frame.columns for c in complete):
        return
    domains = []
    types = {c.name: c.type for c in codebook.instruments[instrument_id].columns}
    for col in complete:
        kind = types.get(col)
        if kind == "site":
            domains.append(list(config.allowed_sites(instrument_id)))
        elif kind == "quarter":
            domains.append(list(config.quarters))
        else:
            return  # completeness is defined only over sites and quarters
    expected = pd.MultiIndex.from_product(domains, names=list(complete))
    seen = pd.MultiIndex.from_frame(frame[list(complete)])
    for combo in expected[~expected.isin(seen)]:
        out.append(Violation(raw.name, None, ", ".join(complete), " / ".join(combo), "missing combination",
                             f"one row for every {' × '.join(complete)}", "add the missing row"))


# ----------------------------------------------------------------------------------------------------------------
# Public API


def validate_instrument(raw: RawTable, instrument_id: str, config: PhaseConfig, codebook: Codebook) -> list[Violation]:
    """Every violation of the data contract in one instrument file (empty list = valid)."""
    spec = codebook.instruments[instrument_id]
    out: list[Violation] = []
    if len(raw.frame) == 0:
        out.append(Violation(raw.name, None, None, None, "no data rows", "at least one row below the header"))
    _check_columns(raw, instrument_id, codebook, out)
    _check_structural(raw, instrument_id, config, codebook, out)
    _check_items(raw, instrument_id, codebook, out)
    _check_key(raw, spec.key, out)
    _check_constant_within(raw, spec.constant_within, out)
    _check_complete(raw, instrument_id, spec.complete, config, codebook, out)
    return sorted(out, key=lambda v: (v.row is not None, v.row or 0))


def _read_instrument(path: Path, iid: str, config: PhaseConfig, codebook: Codebook, report: ValidationReport) -> RawTable:
    """The instrument's table: its sheet of a thinka entry workbook, else the file as read_table reads it."""
    from thinka.entry_template import is_entry_template, read_entry_sheet

    if is_entry_template(path):
        raw, problems = read_entry_sheet(path, iid, config, codebook)
        report.violations.extend(problems)
        return raw
    return read_table(path)


def validate_phase(paths: PhasePaths, config: PhaseConfig | None = None, codebook: Codebook | None = None) -> ValidationReport:
    """Read and validate every instrument file of a phase. Config errors raise; data problems are collected."""
    config = config or load_phase(paths.config)
    codebook = codebook or load_codebook(paths.codebook)
    check_consistency(config, codebook)
    report = ValidationReport(config.phase)
    for iid, inst in config.instruments.items():
        path = paths.raw / inst.file
        if not is_within(path, paths.raw):
            # Checked on the resolved path: phase.yaml is checked for '..' when loaded, but a symlink can point out.
            report.violations.append(Violation(inst.file, None, None, str(path.resolve()),
                                               "file outside the phase folder", f"a file inside {paths.raw}",
                                               f"phase.yaml instruments.{iid}.file (or a symbolic link) points "
                                               "outside; copy the file into the phase folder"))
            continue
        if not path.is_file():
            report.violations.append(Violation(inst.file, None, None, None, "file missing",
                                               f"a CSV, XLSX or SPSS .sav file at {path}",
                                               f"phase.yaml names it under instruments.{iid}.file"))
            continue
        try:
            raw = _read_instrument(path, iid, config, codebook, report)
        except TableError as exc:
            report.violations.append(Violation(inst.file, exc.row, exc.column, exc.value,
                                               f"unreadable file: {exc.rule}: {exc.problem.rstrip('.')}",
                                               exc.allowed, exc.hint))
            continue
        except ThinkaError as exc:
            report.violations.append(Violation(inst.file, None, None, None, f"unreadable file: {exc.message}",
                                               "CSV, XLSX or SPSS .sav with one header row", exc.hint))
            continue
        report.files[iid] = FileInfo(path, raw.format, raw.encoding, raw.separator)
        if inst.mapping:
            raw = _map_export(raw, iid, inst.mapping, paths, codebook, report)
            found = validate_instrument(raw, iid, config, codebook)
            report.violations.extend(_on_export(found, report.mappings[iid]))
        else:
            report.violations.extend(validate_instrument(raw, iid, config, codebook))
        report.tables[iid] = raw
        report.row_counts[iid] = len(raw.frame)
    return report


def _map_export(raw: RawTable, iid: str, relative: str, paths: PhasePaths, codebook: Codebook, report: ValidationReport) -> RawTable:
    """A survey-tool export mapped onto the codebook; mapping problems join the report's violations."""
    # Imported here: thinka.mapping builds on this module's Violation.
    from thinka.mapping import apply_mapping, load_mapping, resolve_mapping_path

    mapping_path = resolve_mapping_path(paths.raw, relative, iid)
    result = apply_mapping(raw, load_mapping(mapping_path, codebook, iid), codebook, iid)
    report.mappings[iid] = result
    report.violations.extend(result.violations)
    return result.table


def _on_export(found: list[Violation], result) -> list[Violation]:
    """Violations of the mapped table, named by export column; what the mapping reported is not repeated."""
    from thinka.mapping import rename_violation

    repeated = [v for v in found if v.rule == "missing required column" or (v.row, v.column) in result.flagged]
    return [rename_violation(v, result.display) for v in found if v not in repeated]


def format_violations(report: ValidationReport, limit: int | None = None) -> str:
    """One line per violation, then a count per file and a hint. `limit` caps the listed lines."""
    if report.ok:
        return f"Phase {report.phase}: all instrument files are valid."
    shown = report.violations if limit is None else report.violations[:limit]
    lines = [v.format() for v in shown]
    if len(shown) < len(report.violations):
        lines.append(f"… and {len(report.violations) - len(shown)} more.")
    per_file: dict[str, int] = {}
    for v in report.violations:
        per_file[v.file] = per_file.get(v.file, 0) + 1
    summary = ", ".join(f"{f}: {n}" for f, n in per_file.items())
    lines.append(f"{len(report.violations)} violation(s) in phase {report.phase} ({summary}).")
    lines.append("Hint: fix the rows listed above in the raw files (row 1 = header row; columns and codes are "
                 "described in codebook.yaml, sites and field periods in phase.yaml), then run `thinka validate` again.")
    return "\n".join(lines)
