"""Reading instrument files of any accepted format, and writing outputs atomically inside their folder.

`read_table` detects the format from the file's first bytes, never from its name:

- XLSX (zip magic ``PK\\x03\\x04``): first sheet, read with openpyxl through pandas.
- SPSS .sav (magic ``$FL2`` / ``$FL3``): read with pyreadstat. Numeric codes are kept (the codebook describes
  codes, not SPSS labels); the file's value labels are recorded in `RawTable.value_labels`.
- CSV: UTF-8 (a BOM is stripped), else Windows-1252 if the bytes are not strict UTF-8. The separator is ``,``,
  ``;`` or tab (SoSci Survey exports tab-separated UTF-8): the one accepted separator the header row contains,
  csv.Sniffer among those if it contains several. A header that is one column holding another separator
  (``|``, ``:``) is refused in one line naming that separator.

Every cell becomes a stripped string; a blank cell is the empty string. Whole-number floats (SPSS, Excel) are
rendered as ``"1"``, not ``"1.0"``; dates as ``YYYY-MM-DD``.

Damaged files are refused with a `TableError` naming the file, the row (and column where there is one), the rule
and a hint, never silently repaired:

- a CSV row with fewer cells than the header (the last row of a file cut off mid-row, or a row whose separators
  or quotes are wrong) or with more non-blank cells;
- a CSV file cut inside a quoted field (an unclosed quote);
- a NUL byte in a cell (a damaged or binary file);
- a cell longer than `MAX_CELL_CHARS` (32,767 characters, Excel's limit for one cell; longer free text is a
  sign of a broken quote that swallowed the rest of the file).

Row numbers: the frame's index holds the row number a user sees, so that errors can point to it. The header is
row 1, the first data row is row 2. For CSV a row is a record (what a spreadsheet program shows as a row); for XLSX
it is the sheet row; for SAV it is the case number + 1 (case 1 is row 2), so all three formats count alike.
Rows that are entirely blank are dropped (their numbers are skipped, the others keep theirs).

Writing: every output goes through `atomic_write_bytes` (or its text/Parquet forms), which takes the folder the
file must stay in (`within`) and refuses a path that resolves outside it (symbolic links included). Paths built
from configuration (site codes, instrument ids) are joined with `safe_join`. CSV exports for people go through
`csv_text`, which neutralises spreadsheet formulas (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io as _io
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from thinka.errors import ThinkaError

FORMATS = ("csv", "xlsx", "sav")
SEPARATORS = (",", ";", "\t")
# Separators that are not accepted but recognisable in a header row that was read as one column.
_OTHER_SEPARATORS = ("|", ":", "^", "~")
_SEPARATOR_NAMES = {",": "',' (comma)", ";": "';' (semicolon)", "\t": "tab", "|": "'|' (pipe)", ":": "':' (colon)",
                    "^": "'^' (caret)", "~": "'~' (tilde)"}
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell; Python's csv module would otherwise stop at 131,072
_ZIP_MAGIC = b"PK\x03\x04"
_SAV_MAGIC = (b"$FL2", b"$FL3")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
_BOM = b"\xef\xbb\xbf"
_HINT = "Save the file as CSV (UTF-8, separator ',', ';' or tab), as XLSX or as SPSS .sav, with one header row."
_ALLOWED = "CSV, XLSX or SPSS .sav with one header row"


class TableError(ThinkaError):
    """A file that cannot be read as a table, with where it is damaged (row/column None: the whole file)."""

    def __init__(self, path: Path, problem: str, *, rule: str, row: int | None = None, column: str | None = None,
                 value: str | None = None, allowed: str = _ALLOWED, hint: str | None = _HINT):
        where = "" if row is None else f"row {row}: " if column is None else f"row {row}, column '{column}': "
        super().__init__(f"{path}: {where}{problem}", hint=hint)
        self.problem, self.row, self.column, self.value = problem, row, column, value
        self.rule, self.allowed = rule, allowed


def separator_name(sep: str | None) -> str | None:
    """'tab', "';' (semicolon)" ... for messages."""
    return _SEPARATOR_NAMES.get(sep, repr(sep)) if sep else None


def _accepted_separators() -> str:
    names = [separator_name(s) for s in SEPARATORS]
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass
class RawTable:
    """One instrument file as read: all cells as stripped strings, index = the row number a user sees."""

    frame: pd.DataFrame
    path: Path
    format: str  # "csv" | "xlsx" | "sav"
    encoding: str | None = None  # "utf-8", "utf-8-sig", "cp1252" (CSV) or the SAV file's encoding
    separator: str | None = None  # CSV only
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # SAV: column -> code -> label
    variable_labels: dict[str, str] = field(default_factory=dict)  # SAV: column -> variable label (export mapping)
    header_row: int = 1  # row number of the header (> 1 only if blank rows precede it)
    label: str | None = None  # how messages name the source, e.g. "erfassung.xlsx[fragebogen]" for one sheet

    @property
    def name(self) -> str:
        return self.label or self.path.name


# ----------------------------------------------------------------------------------------------------------------
# Reading


def read_table(path: Path | str) -> RawTable:
    """Read an instrument file (CSV, XLSX or SAV, detected from its content) into a RawTable."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ThinkaError(f"{path}: file not found.", hint=_HINT) from None
    except OSError as exc:
        raise ThinkaError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if not data.strip():
        raise ThinkaError(f"{path}: the file is empty.", hint=_HINT)
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(path)
    if data[:4] in _SAV_MAGIC:
        return _read_sav(path)
    if data.startswith(_OLE_MAGIC):
        raise ThinkaError(f"{path}: legacy Excel (.xls) or another OLE file; this format is not read.", hint=_HINT)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise TableError(path, "text encoded as UTF-16, which is not read.", rule="UTF-16 text",
                         hint="Save the file as CSV UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)').")
    if (nul := data.find(b"\x00")) >= 0:
        if b"\n" not in data[:nul]:  # a NUL in the first line: not a text file at all
            raise ThinkaError(f"{path}: unknown binary format (neither CSV, XLSX nor SPSS .sav).", hint=_HINT)
        raise _nul_error(path, data, nul)
    return _read_csv(path, data)


def _nul_error(path: Path, data: bytes, nul: int) -> TableError:
    """A text file with a NUL byte below its header (a damaged export, or a crash that left zeros): name the row
    and column of the first NUL, found by parsing the text before it."""
    prefix = data[len(_BOM):nul] if data.startswith(_BOM) else data[:nul]
    text = prefix.decode("utf-8", errors="replace")  # only to count records and cells
    with _csv_field_limit(max(len(text) + 2, csv.field_size_limit())):
        # The sentinel stands for the NUL: the last record is the one holding it, its last cell the NUL's cell.
        records = list(csv.reader(_io.StringIO(text + "#", newline=""), delimiter=_sniff_separator(text)))
    header = next((r for r in records if any(c.strip() for c in r)), [])
    col = len(records[-1])
    column = (header[col - 1].strip() or f"column {col}") if col <= len(header) else f"column {col}"
    return TableError(path, "contains a NUL byte (the first one in the file).", rule="NUL byte", row=len(records),
                      column=column, allowed="text without NUL bytes",
                      hint="The file is damaged or not a text export; export it again as CSV UTF-8.")


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith(_BOM):
        try:
            return data[len(_BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ThinkaError(f"{path}: starts with a UTF-8 BOM but is not valid UTF-8 (byte {exc.start}).", hint=_HINT) from None
    try:
        return data.decode("utf-8"), "utf-8"  # strict: Windows-1252 umlauts are invalid UTF-8
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise ThinkaError(
            f"{path}: text encoding is neither UTF-8 nor Windows-1252 (byte {exc.start}: {data[exc.start]:#04x}).",
            hint="Save the file as CSV UTF-8.",
        ) from None


def _header_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def _sniff_separator(text: str) -> str:
    """The accepted separator of the header row; csv.Sniffer decides only between several found there."""
    header = _header_line(text)
    found = [s for s in SEPARATORS if s in header]
    if len(found) == 1:
        return found[0]
    if not found:
        return ","  # one column (or an unaccepted separator, reported by _check_header)
    try:
        sep = csv.Sniffer().sniff(text[:65536], delimiters="".join(found)).delimiter
        if sep in found:
            return sep
    except csv.Error:
        pass
    # Fallback: the separator the header uses most often (ties: the order of SEPARATORS).
    return max(found, key=header.count)


@contextmanager
def _csv_field_limit(limit: int):
    """csv's field limit is process-wide; lift it while reading, so that a long cell is refused by our own
    check (which names the row and column) rather than by csv (which names neither)."""
    old = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_records(path: Path, text: str, sep: str) -> list[list[str]]:
    """Parse CSV records; an unclosed quote or a stray quote is refused with its row and column."""
    records: list[list[str]] = []
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=sep, strict=True)
    lines_done = 0  # physical lines of the records read so far (a quoted cell may span several)
    with _csv_field_limit(max(len(text) + 1, csv.field_size_limit())):
        try:
            for rec in reader:
                records.append(rec)
                lines_done = reader.line_num
        except csv.Error as exc:
            raise _quote_error(path, text, sep, records, lines_done, exc) from None
    return records


def _quote_error(path: Path, text: str, sep: str, records: list[list[str]], lines_done: int,
                 exc: csv.Error) -> TableError:
    row = len(records) + 1
    tail = "".join(_io.StringIO(text, newline="").readlines()[lines_done:])
    col = _broken_field(tail, sep)
    header = records[0] if records else []
    column = (header[col - 1].strip() or f"column {col}") if col and col <= len(header) else (f"column {col}" if col else None)
    if "unexpected end of data" in str(exc):
        problem = "a quoted cell is never closed (the file ends inside it): the file seems to be cut off."
        rule = "file cut inside a quoted cell"
        hint = "Export the file again; if the file is complete, a closing quote is missing in this cell."
    else:
        problem = f"a quote inside a cell is not doubled or the cell is not quoted as a whole ({exc})."
        rule, hint = "malformed quoting", 'Put cells with quotes in double quotes and double inner quotes ("").'
    return TableError(path, problem, rule=rule, row=row, column=column, hint=hint)


def _broken_field(record: str, sep: str) -> int | None:
    """1-based number of the field in which the quoting of `record` (the text from the record's start) breaks."""
    field, i, in_quote, at_start = 1, 0, False, True
    while i < len(record):
        c = record[i]
        if in_quote:
            if c == '"':
                if record[i + 1:i + 2] == '"':
                    i += 1
                elif record[i + 1:i + 2] not in ("", sep, "\n", "\r"):
                    return field  # text after the closing quote
                else:
                    in_quote = False
        elif c == sep:
            field, at_start = field + 1, True
            i += 1
            continue
        elif c in "\r\n":
            return None  # the record ended without a problem in quoting
        elif c == '"' and at_start:
            in_quote = True
        at_start = False
        i += 1
    return field if in_quote else None


def _read_csv(path: Path, data: bytes) -> RawTable:
    text, encoding = _decode(path, data)
    sep = _sniff_separator(text)
    records = _read_records(path, text, sep)
    header_idx = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if header_idx is None:
        raise ThinkaError(f"{path}: the file has no header row.", hint=_HINT)
    header = records[header_idx]
    _check_header(path, header, header_idx + 1, sep)
    body, numbers = [], []
    last = len(records) - 1
    for k, rec in enumerate(records[header_idx + 1:], start=header_idx + 1):
        if not any(c.strip() for c in rec):
            continue  # a blank line (or whitespace only): a blank row, dropped like every blank row
        _check_width(path, rec, header, k + 1, sep, cut=k == last and not text.endswith(("\n", "\r")))
        body.append((rec + [""] * len(header))[: len(header)])
        numbers.append(k + 1)
    frame = _make_frame(path, header, body, numbers, header_idx + 1)
    return RawTable(frame, path, "csv", encoding, sep, header_row=header_idx + 1)


def _check_header(path: Path, header: list[str], row: int, sep: str) -> None:
    """A header read as one column that holds another separator: say so once, not 'missing column' per column."""
    if len(header) != 1:
        return
    name = header[0]
    for other in (*SEPARATORS, *_OTHER_SEPARATORS):
        if other != sep and len([p for p in name.split(other) if p.strip()]) >= 2:
            raise TableError(
                path, f"the header row is one single column; the file seems to be separated by "
                f"{separator_name(other)}, which is not an accepted separator here.",
                rule="unsupported separator", row=row, value=name[:80],
                allowed=f"separators {_accepted_separators()}",
                hint=f"Export the file again with {_accepted_separators()} as the separator.",
            )


def _check_width(path: Path, rec: list[str], header: list[str], row: int, sep: str, *, cut: bool) -> None:
    """A row must have one cell per header column (trailing empty extra cells are tolerated)."""
    if len(rec) > len(header) and any(c.strip() for c in rec[len(header):]):
        raise TableError(
            path, f"{len(rec)} cells but the header has {len(header)} columns.", rule="too many cells",
            row=row, allowed=f"{len(header)} cells per row",
            hint=f"Check the separator ({separator_name(sep)} detected) and the quoting in row {row}.",
        )
    if len(rec) < len(header):
        # Refused, not padded: none of the shipped exports leaves trailing cells out, while a short row is what a
        # file cut off mid-row (or a misplaced quote) leaves; padding would turn answers silently into "missing".
        missing = header[len(rec)].strip() or f"column {len(rec) + 1}"
        problem = f"only {len(rec)} of {len(header)} cells; the cells from column '{missing}' on are absent."
        hint = (f"The file ends in the middle of row {row} (no final line break): it seems to be cut off. Export it again."
                if cut else
                f"Check the separator ({separator_name(sep)} detected) and the quoting in row {row}; "
                "if the exporter leaves trailing empty cells out, add the missing separators.")
        raise TableError(path, problem, rule="row cut off" if cut else "too few cells", row=row, column=missing,
                         allowed=f"{len(header)} cells per row", hint=hint)


def _cell(value) -> str:
    """A cell from Excel or SPSS as a string: whole floats without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if pd.isna(value):
            return ""
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return ""
    return str(value)


def _read_xlsx(path: Path) -> RawTable:
    try:
        sheet = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # a zip that is not a workbook, or a damaged workbook
        raise ThinkaError(f"{path}: a zip file that cannot be read as an XLSX workbook ({exc}).", hint=_HINT) from None
    rows = [[_cell(v) for v in rec] for rec in sheet.itertuples(index=False, name=None)]
    # pandas returns the sheet from its first row, so list position i is sheet row i + 1.
    header_idx = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if header_idx is None:
        raise ThinkaError(f"{path}: the first sheet is empty (no header row).", hint=_HINT)
    body = rows[header_idx + 1:]
    numbers = list(range(header_idx + 2, header_idx + 2 + len(body)))
    frame = _make_frame(path, rows[header_idx], body, numbers, header_idx + 1)
    return RawTable(frame, path, "xlsx", header_row=header_idx + 1)


def _read_sav(path: Path) -> RawTable:
    import pyreadstat  # imported lazily: only SPSS users pay for it

    try:
        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:
        raise ThinkaError(f"{path}: an SPSS file that cannot be read ({exc}).", hint=_HINT) from None
    if len(df.columns) == 0:
        raise ThinkaError(f"{path}: the SPSS file has no variables.", hint=_HINT)
    body = [[_cell(v) for v in rec] for rec in df.astype(object).itertuples(index=False, name=None)]
    numbers = list(range(2, 2 + len(body)))  # case n is row n + 1, as if the variable names were row 1
    labels = {
        col: {_cell(code): str(label) for code, label in mapping.items()}
        for col, mapping in (meta.variable_value_labels or {}).items()
    }
    frame = _make_frame(path, list(df.columns), body, numbers, 1)
    variable_labels = {c: str(lab) for c, lab in (meta.column_names_to_labels or {}).items() if lab}
    return RawTable(frame, path, "sav", meta.file_encoding, None, labels, variable_labels=variable_labels)


def _make_frame(path: Path, header: list, body: list[list[str]], numbers: list[int], header_row: int) -> pd.DataFrame:
    names = [str(h).strip() for h in header]
    keep = list(range(len(names)))
    for j, name in enumerate(names):
        if not name:
            # A trailing separator or an empty Excel column gives a nameless column; harmless if it is empty.
            if any(str(r[j]).strip() for r in body):
                raise ThinkaError(
                    f"{path}: column {j + 1} has values but no name in the header (row {header_row}).",
                    hint="Give every column a name from codebook.yaml, or delete the column.",
                )
            keep.remove(j)
    names = [names[j] for j in keep]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise ThinkaError(
            f"{path}: header row {header_row} names columns more than once: {', '.join(dupes)}.",
            hint="Every column name must be unique.",
        )
    if not names:
        raise ThinkaError(f"{path}: the header row has no column names.", hint=_HINT)
    _check_cells(path, names, [[r[j] for j in keep] for r in body], numbers)
    cells = [[str(r[j]).strip() for j in keep] for r in body]
    frame = pd.DataFrame(cells, columns=names, index=pd.Index(numbers, dtype="int64", name="row"), dtype="str")
    blank = (frame == "").all(axis=1)
    return frame.loc[~blank] if blank.any() else frame


def _check_cells(path: Path, names: list[str], rows: list[list], numbers: list[int]) -> None:
    """Refuse the first cell holding a NUL byte or more than MAX_CELL_CHARS characters, with row and column."""
    for number, row in zip(numbers, rows):
        for name, value in zip(names, row):
            value = str(value)
            if "\x00" in value:
                raise TableError(path, f"contains a NUL byte (at character {value.index(chr(0)) + 1} of the cell).",
                                 rule="NUL byte", row=number, column=name, allowed="text without NUL bytes",
                                 hint="The file is damaged or not a text export; export it again as CSV UTF-8.")
            if len(value) > MAX_CELL_CHARS:
                raise TableError(path, f"the cell has {len(value):,} characters; the limit is {MAX_CELL_CHARS:,}.",
                                 rule="cell too long", row=number, column=name, value=value[:40] + "…",
                                 allowed=f"at most {MAX_CELL_CHARS:,} characters per cell",
                                 hint="Usually a quote that is never closed swallowed the following rows; "
                                      "otherwise shorten the text.")


# ----------------------------------------------------------------------------------------------------------------
# Hashing and atomic writing


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_within(path: Path | str, folder: Path | str) -> bool:
    """True if `path`, with symbolic links and '..' resolved, is `folder` or lies below it."""
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def safe_join(base: Path | str, *parts: str) -> Path:
    """`base / parts...`, refused unless the result stays below `base` (for names taken from configuration)."""
    base = Path(base)
    path = base.joinpath(*parts)
    if any(Path(p).is_absolute() for p in parts) or not is_within(path, base):
        raise ThinkaError(
            f"Refusing the output path {path}: it leaves the output folder {base} "
            f"(name parts {', '.join(repr(p) for p in parts)}).",
            hint="Names used for output files (site codes, phase, instrument and dimension ids) may only contain "
                 "letters, digits, '-' and '_'.",
        )
    return path


def _require_within(path: Path, within: Path | str) -> None:
    # Checked on the resolved parent folder (symlinks included) and on the file name itself: the last step of
    # the write is os.replace into that folder.
    if path.name in ("", ".", "..") or not is_within(path.parent, within):
        raise ThinkaError(
            f"Refusing to write {path}: it is outside the output folder {Path(within).resolve()}.",
            hint="Output paths are built from phase.yaml and codebook.yaml names; check them for '..', '/' "
                 "or symbolic links.",
        )


def atomic_write_bytes(path: Path | str, data: bytes, *, within: Path | str) -> Path:
    """Write `data` to `path` so that readers see either the old or the new file, never half of one.

    `within` is the output folder the file must stay in (checked on the resolved path before anything is written)."""
    path = Path(path)
    _require_within(path, within)
    path.parent.mkdir(parents=True, exist_ok=True)
    _require_within(path, within)  # again after mkdir: a folder created meanwhile may be a link
    # The temporary file lives in the target folder: os.replace is atomic only within one file system.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path | str, text: str, *, within: Path | str) -> Path:
    """Atomic UTF-8 text write with '\\n' line ends (the same bytes on every platform), inside `within`."""
    return atomic_write_bytes(path, text.encode("utf-8"), within=within)


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet bytes of `df` without its index; equal frames give equal bytes (no timestamps are embedded)."""
    buf = _io.BytesIO()
    df.reset_index(drop=True).to_parquet(buf, engine="pyarrow", index=False, compression="snappy")
    return buf.getvalue()


def atomic_write_parquet(df: pd.DataFrame, path: Path | str, *, within: Path | str) -> Path:
    """Atomically write `df` as Parquet inside `within` (the index is not stored: tidy tables keep everything in
    columns)."""
    return atomic_write_bytes(path, parquet_bytes(df), within=within)


# ----------------------------------------------------------------------------------------------------------------
# CSV for people


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells cannot start a spreadsheet formula (OWASP "CSV injection").

    A text cell beginning with '=', '+', '-', '@', tab or carriage return gets a leading single quote, which
    spreadsheet programs show as text. Numeric columns are left alone: a count of -3 stays the number -3.
    Carriage returns inside text become line feeds: csv quotes a cell holding a line feed, but not one holding a
    bare carriage return, which spreadsheet programs would take for the end of the row."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        out[col] = s.map(_safe_cell)
    out.columns = [_safe_cell(c) for c in out.columns]
    return out


def _safe_cell(value):
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def csv_text(frame: pd.DataFrame, sep: str = ";") -> str:
    """The CSV text thinka publishes: `sep`-separated, '\\n' line ends, no index, spreadsheet-safe cells."""
    return spreadsheet_safe(frame).to_csv(sep=sep, index=False, lineterminator="\n")
