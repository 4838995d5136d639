"""Reading instrument files of any accepted format, and writing outputs atomically.

`read_table` detects the format from the file's first bytes, never from its name:

- XLSX (zip magic ``PK\\x03\\x04``): first sheet, read with openpyxl through pandas.
- SPSS .sav (magic ``$FL2`` / ``$FL3``): read with pyreadstat. Numeric codes are kept (the codebook describes
  codes, not SPSS labels); the file's value labels are recorded in `RawTable.value_labels`.
- CSV: UTF-8 (a BOM is stripped), else Windows-1252 if the bytes are not strict UTF-8. The separator is ``,`` or
  ``;`` (csv.Sniffer restricted to those two; fallback: whichever occurs more often in the header line).

Every cell becomes a stripped string; a blank cell is the empty string. Whole-number floats (SPSS, Excel) are
rendered as ``"1"``, not ``"1.0"``; dates as ``YYYY-MM-DD``.

Row numbers: the frame's index holds the row number a user sees, so that errors can point to it. The header is
row 1, the first data row is row 2. For CSV a row is a record (what a spreadsheet program shows as a row); for XLSX
it is the sheet row; for SAV it is the case number + 1 (case 1 is row 2), so all three formats count alike.
Rows that are entirely blank are dropped (their numbers are skipped, the others keep theirs).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io as _io
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from thinka.errors import ThinkaError

FORMATS = ("csv", "xlsx", "sav")
SEPARATORS = (",", ";", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
_SAV_MAGIC = (b"$FL2", b"$FL3")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
_BOM = b"\xef\xbb\xbf"
_HINT = "Save the file as CSV (UTF-8, separator ',' or ';'), as XLSX or as SPSS .sav, with one header row."


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
    if b"\x00" in data:
        raise ThinkaError(f"{path}: unknown binary format (neither CSV, XLSX nor SPSS .sav).", hint=_HINT)
    return _read_csv(path, data)


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


def _sniff_separator(text: str) -> str:
    sample = text[:65536]
    try:
        sep = csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
        if sep in SEPARATORS:
            return sep
    except csv.Error:
        pass
    header = text.splitlines()[0] if text else ""
    # Fallback: more ';' than ',' in the header means a German-locale export.
    return ";" if header.count(";") > header.count(",") else ","


def _read_csv(path: Path, data: bytes) -> RawTable:
    text, encoding = _decode(path, data)
    sep = _sniff_separator(text)
    try:
        records = list(csv.reader(_io.StringIO(text, newline=""), delimiter=sep, strict=True))
    except csv.Error as exc:
        raise ThinkaError(f"{path}: not a readable CSV file ({exc}).", hint="Check for an unclosed quote.") from None
    header_idx = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if header_idx is None:
        raise ThinkaError(f"{path}: the file has no header row.", hint=_HINT)
    header = records[header_idx]
    body, numbers = [], []
    for i, rec in enumerate(records[header_idx + 1:], start=header_idx + 2):
        if len(rec) > len(header) and any(c.strip() for c in rec[len(header):]):
            raise ThinkaError(
                f"{path}: row {i} has {len(rec)} cells but the header (row {header_idx + 1}) has {len(header)} columns.",
                hint=f"Check the separator ({sep!r} detected) and quoting in row {i}.",
            )
        # Short rows (trailing empty cells left out by some exporters) are padded with blanks.
        body.append((rec + [""] * len(header))[: len(header)])
        numbers.append(i)
    frame = _make_frame(path, header, body, numbers, header_idx + 1)
    return RawTable(frame, path, "csv", encoding, sep, header_row=header_idx + 1)


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
    cells = [[str(r[j]).strip() for j in keep] for r in body]
    frame = pd.DataFrame(cells, columns=names, index=pd.Index(numbers, dtype="int64", name="row"), dtype="str")
    blank = (frame == "").all(axis=1)
    return frame.loc[~blank] if blank.any() else frame


# ----------------------------------------------------------------------------------------------------------------
# Hashing and atomic writing


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write `data` to `path` so that readers see either the old or the new file, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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


def atomic_write_text(path: Path | str, text: str) -> Path:
    """Atomic UTF-8 text write with '\\n' line ends (the same bytes on every platform)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet bytes of `df` without its index; equal frames give equal bytes (no timestamps are embedded)."""
    buf = _io.BytesIO()
    df.reset_index(drop=True).to_parquet(buf, engine="pyarrow", index=False, compression="snappy")
    return buf.getvalue()


def atomic_write_parquet(df: pd.DataFrame, path: Path | str) -> Path:
    """Atomically write `df` as Parquet (the index is not stored: tidy tables keep everything in columns)."""
    return atomic_write_bytes(path, parquet_bytes(df))
