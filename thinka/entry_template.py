"""XLSX entry templates: a workbook generated from the codebook for offices that key paper questionnaires.

`write_template` makes one sheet per instrument (one column per codebook column and item, in codebook order), with
drop-down validation listing each scale's codes and labels ("1 = stimme voll und ganz zu"), the allowed sites, date
and whole-number ranges; an instructions sheet, the site list, and two hidden sheets: the validation lists and
thinka's own metadata (format, phase, which sheet holds which instrument).

A filled-in copy is read back directly: name it as the instrument's file in phase.yaml (several instruments may
share one workbook). `read_entry_sheet` takes the instrument's sheet, turns "code = label" entries back into the code
(and reports a label that does not belong to its code), and leaves every other check to `thinka.validate`, so an
off-scale entry typed past Excel's validation is reported like in any other file: sheet, row, column, value, rule
and the allowed codes.
"""

from __future__ import annotations

import datetime as dt
import io as _io
import re
from pathlib import Path

import pandas as pd

from thinka.codebook import Codebook, PhaseConfig, Scale
from thinka.errors import ThinkaError
from thinka.io import atomic_write_bytes

META_SHEET = "_thinka"
LISTS_SHEET = "Listen"
SITES_SHEET = "Standorte"
GUIDE_SHEET = "Anleitung"
FORMAT = "thinka-entry-template"
VERSION = "1"
SEPARATOR = " = "  # between a code and its label in a drop-down entry
GUIDE = Path(__file__).resolve().parent / "templates" / "entry_template" / "anleitung.txt"
_MAX_ROWS = 2000  # rows that carry the validation (an office's questionnaires per phase fit easily)


def is_entry_template(path: Path) -> bool:
    """True for an XLSX workbook written by `write_template` (it has thinka's hidden metadata sheet)."""
    path = Path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return False
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - not a readable workbook: read_table reports it
        return False
    try:
        return META_SHEET in workbook.sheetnames and _metadata(workbook).get("format") == FORMAT
    finally:
        workbook.close()


# ----------------------------------------------------------------------------------------------------------------
# Writing


def _entry(code, label: str) -> str:
    return f"{code}{SEPARATOR}{label}"


def scale_entries(scale: Scale, *, with_missing: bool = True) -> list[str]:
    """The drop-down entries of a coded scale: "1 = label" for every level (and missing code)."""
    levels = (*scale.levels, *(scale.missing if with_missing else ()))
    return [_entry(lv.code, lv.label) for lv in levels]


def _columns(codebook: Codebook, instrument: str) -> list[tuple[str, str, object]]:
    """(column name, description, validation spec) in the order of the instrument's file."""
    out = []
    for col in codebook.instruments[instrument].columns:
        spec = ("code", codebook.scales[col.scale]) if col.type == "code" else (col.type, col)
        out.append((col.name, col.label or col.name, spec))
    for item in codebook.items_of(instrument):
        scale = codebook.scales[item.scale]
        for option in item.options or ():
            out.append((option.column, f"{item.wording} – {option.label}", ("code", scale)))
        if not item.options:
            out.append((item.id, item.wording, ("count", scale) if scale.kind == "count" else ("code", scale)))
    return out


def _sheet_title(instrument: str, taken: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", instrument)[:31]  # Excel's rules for sheet names
    base, n = title, 2
    while title in taken:
        title = f"{base[:28]}_{n}"
        n += 1
    taken.add(title)
    return title


class _Lists:
    """The hidden sheet of drop-down lists: one column per distinct list, referenced by the validations."""

    def __init__(self, sheet):
        self.sheet, self.ranges = sheet, {}

    def range_of(self, entries: list[str]) -> str:
        from openpyxl.utils import get_column_letter

        key = tuple(entries)
        if key not in self.ranges:
            col = len(self.ranges) + 1
            for row, value in enumerate(entries, start=1):
                self.sheet.cell(row=row, column=col, value=value)
            letter = get_column_letter(col)
            self.ranges[key] = f"'{LISTS_SHEET}'!${letter}$1:${letter}${len(entries)}"
        return self.ranges[key]


def _validation(spec, lists: _Lists, config: PhaseConfig, instrument: str):
    from openpyxl.worksheet.datavalidation import DataValidation

    kind, obj = spec
    if kind == "code":
        return DataValidation(type="list", formula1=lists.range_of(scale_entries(obj)), allow_blank=True,
                              showErrorMessage=True, error="Bitte einen Eintrag aus der Liste wählen.")
    if kind == "site":
        sites = [_entry(s.code, config.site(s.code).name) for s in config.sites
                 if s.code in config.allowed_sites(instrument)]
        return DataValidation(type="list", formula1=lists.range_of(sites), allow_blank=False, showErrorMessage=True,
                              error="Bitte einen Standort aus der Liste wählen.")
    if kind == "date":
        inst = config.instruments[instrument]
        return DataValidation(type="date", operator="between", formula1=_excel_date(inst.field_start),
                              formula2=_excel_date(inst.field_end), allow_blank=False, showErrorMessage=True,
                              error=f"Datum zwischen {inst.field_start:%d.%m.%Y} und {inst.field_end:%d.%m.%Y}.")
    if kind in ("integer", "count"):
        lo, hi = obj.min, obj.max
        if lo is None or hi is None:
            return None
        extra = f" oder {', '.join(str(c) for c in obj.missing_codes)}" if kind == "count" and obj.missing else ""
        # A count's missing code (e.g. -9) lies outside the range, so Excel only warns instead of refusing.
        return DataValidation(type="whole", operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True,
                              showErrorMessage=True, errorStyle="warning" if extra else "stop",
                              error=f"Ganze Zahl von {lo} bis {hi}{extra}.")
    return None


def _excel_date(day: dt.date) -> str:
    return str((day - dt.date(1899, 12, 30)).days)  # Excel's serial day number


def write_template(path: Path, config: PhaseConfig, codebook: Codebook, codebook_sha256: str = "") -> Path:
    """Write the entry workbook for every instrument of the phase to `path` (refuses to overwrite)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    path = Path(path)
    if path.exists():
        raise ThinkaError(f"{path} exists already; thinka does not overwrite an entry workbook that may hold data.",
                          hint="Choose another file with --out, or move the old one away first.")
    wb = Workbook()
    guide = wb.active
    guide.title = GUIDE_SHEET
    for row, line in enumerate(GUIDE.read_text(encoding="utf-8").splitlines(), start=1):
        guide.cell(row=row, column=1, value=line)
    guide.column_dimensions["A"].width = 110
    lists = _Lists(wb.create_sheet(LISTS_SHEET))
    taken: set[str] = {GUIDE_SHEET, LISTS_SHEET, SITES_SHEET, META_SHEET}
    sheets = {}
    for instrument in config.instruments:
        ws = wb.create_sheet(_sheet_title(instrument, taken))
        sheets[instrument] = ws.title
        for col, (name, description, spec) in enumerate(_columns(codebook, instrument), start=1):
            cell = ws.cell(row=1, column=col, value=name)
            cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
            cell.comment = Comment(description, "thinka")
            ws.column_dimensions[cell.column_letter].width = max(12, min(40, len(name) + 4))
            if (validation := _validation(spec, lists, config, instrument)) is not None:
                ws.add_data_validation(validation)
                validation.add(f"{cell.column_letter}2:{cell.column_letter}{_MAX_ROWS + 1}")
            if spec[0] == "date":
                for row in range(2, _MAX_ROWS + 2):
                    ws.cell(row=row, column=col).number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    sites = wb.create_sheet(SITES_SHEET)
    sites.append(["Code", "Name", "Steuerungsgruppe"])
    for s in config.sites:
        sites.append([s.code, s.name, "ja" if s.steering_group else "nein"])
    meta = wb.create_sheet(META_SHEET)
    for key, value in [("format", FORMAT), ("version", VERSION), ("phase", config.phase),
                       ("codebook_sha256", codebook_sha256), *((f"sheet:{i}", t) for i, t in sheets.items())]:
        meta.append([key, value])
    wb[LISTS_SHEET].sheet_state = "hidden"
    meta.sheet_state = "hidden"
    buf = _io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue(), within=path.parent)  # the office chose this file


# ----------------------------------------------------------------------------------------------------------------
# Reading a filled-in copy


def _metadata(workbook) -> dict[str, str]:
    rows = workbook[META_SHEET].iter_rows(values_only=True)
    return {str(r[0]): str(r[1]) for r in rows if r and r[0] is not None and r[1] is not None}


def _cell_text(value) -> str:
    from thinka.io import _cell

    return _cell(value).strip()


def _strip_labels(frame: pd.DataFrame, labels: dict[str, dict[str, str]], sheet_name: str, out: list) -> pd.DataFrame:
    """'1 = label' → '1'; a label that is not its code's label is reported (the code may have been retyped)."""
    from thinka.violations import Violation

    frame = frame.copy()
    for column, by_code in labels.items():
        if column not in frame.columns:
            continue
        parts = frame[column].str.partition(SEPARATOR)
        labelled = parts[1] != ""
        for row in frame.index[labelled]:
            code, label = parts.at[row, 0].strip(), parts.at[row, 2].strip()
            if code in by_code and by_code[code] != label:
                out.append(Violation(sheet_name, int(row), column, frame.at[row, column], "label does not match code",
                                     f"{code}{SEPARATOR}{by_code[code]}", "choose the entry from the drop-down list"))
        frame[column] = frame[column].where(~labelled, parts[0].str.strip())
    return frame


def _labels_by_column(codebook: Codebook, config: PhaseConfig, instrument: str) -> dict[str, dict[str, str]]:
    out = {}
    for name, _description, (kind, obj) in _columns(codebook, instrument):
        if kind == "code":
            out[name] = {str(lv.code): lv.label for lv in (*obj.levels, *obj.missing)}
        elif kind == "site":
            out[name] = {s.code: s.name for s in config.sites}
    return out


def read_entry_sheet(path: Path, instrument: str, config: PhaseConfig, codebook: Codebook):
    """The instrument's sheet of a filled-in entry workbook as a RawTable (codes, not labels), plus violations."""
    from openpyxl import load_workbook

    from thinka.io import RawTable, _make_frame

    path = Path(path)
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = _metadata(workbook).get(f"sheet:{instrument}")
        if sheet is None or sheet not in workbook.sheetnames:
            raise ThinkaError(f"{path}: this entry workbook has no sheet for instrument {instrument!r} "
                              f"(sheets: {', '.join(workbook.sheetnames)}).",
                              hint="Create a new template with `thinka template` for the phase's instruments.")
        rows = [[_cell_text(v) for v in r] for r in workbook[sheet].iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not rows:
        raise ThinkaError(f"{path} [{sheet}]: the sheet has no header row.", hint="Do not delete row 1 of the template.")
    body = rows[1:]
    frame = _make_frame(path, rows[0], body, list(range(2, 2 + len(body))), 1)
    name = f"{path.name}[{sheet}]"
    out: list = []
    frame = _strip_labels(frame, _labels_by_column(codebook, config, instrument), name, out)
    return RawTable(frame, path, "xlsx", header_row=1, label=name), out
