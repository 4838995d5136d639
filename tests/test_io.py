"""thinka.io: format detection, encodings, separators, row numbers, atomic and deterministic writing."""

from __future__ import annotations

import datetime as dt
import os

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from thinka.errors import ThinkaError
from thinka.io import atomic_write_bytes, atomic_write_parquet, atomic_write_text, read_table, sha256_file


def test_windows_1252_csv_with_umlauts(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("id,name,ort\n1,Müller,Gößnitz\n2, Jörg ,Weimar\n".encode("cp1252"))
    t = read_table(path)
    assert (t.format, t.encoding, t.separator) == ("csv", "cp1252", ",")
    assert t.frame.loc[2, "name"] == "Müller"
    assert t.frame.loc[2, "ort"] == "Gößnitz"
    assert t.frame.loc[3, "name"] == "Jörg"  # stripped


def test_utf8_bom_is_stripped(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfid;wert\n1;\xc3\xa4\n")
    t = read_table(path)
    assert (t.encoding, t.separator) == ("utf-8-sig", ";")
    assert list(t.frame.columns) == ["id", "wert"]
    assert t.frame.loc[2, "wert"] == "ä"


def test_semicolon_csv_keeps_commas_in_values(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id;aussage;x\n1;ja, gut;2\n2;nein;\n", encoding="utf-8")
    t = read_table(path)
    assert t.separator == ";"
    assert t.frame.loc[2, "aussage"] == "ja, gut"
    assert t.frame.loc[3, "x"] == ""


def test_every_cell_is_a_string_and_nothing_becomes_nan(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,x,y\n007,NA,\n008,null,1.50\n", encoding="utf-8")
    f = read_table(path).frame
    assert f.loc[2, "id"] == "007" and f.loc[2, "x"] == "NA" and f.loc[2, "y"] == ""
    assert f.loc[3, "y"] == "1.50"
    assert not f.isna().any().any()


def test_row_numbers_count_the_header_as_row_1_and_skip_blank_lines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,text\n1,a\n\n2,"two\nlines"\n3,c\n', encoding="utf-8")
    f = read_table(path).frame
    # Row = record as a spreadsheet shows it: the blank line is row 3, the quoted two-line cell one row (4).
    assert list(f.index) == [2, 4, 5]
    assert f.loc[4, "text"] == "two\nlines"


def test_short_rows_padded_long_rows_rejected(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,a,b\n1,x\n", encoding="utf-8")
    assert read_table(path).frame.loc[2, "b"] == ""
    path.write_text("id,a,b\n1,x,y\n2,x,y,z\n", encoding="utf-8")
    with pytest.raises(ThinkaError, match=r"a\.csv: row 3 has 4 cells"):
        read_table(path)


def test_xlsx_sheet_rows_dates_and_whole_floats(tmp_path):
    path = tmp_path / "data.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "datum", "code", "ort"])
    ws.append(["a", dt.datetime(2014, 3, 1), 1.0, "Jena"])
    ws.append([None, None, None, None])
    ws.append(["b", dt.date(2014, 3, 2), 2, " Gera "])
    wb.save(path)
    t = read_table(path)
    assert t.format == "xlsx" and t.encoding is None and t.separator is None
    assert list(t.frame.index) == [2, 4]  # sheet rows; the empty sheet row 3 is dropped
    assert t.frame.loc[2, "datum"] == "2014-03-01"
    assert t.frame.loc[2, "code"] == "1"
    assert t.frame.loc[4, "ort"] == "Gera"


def test_format_is_detected_from_content_not_name(tmp_path):
    path = tmp_path / "looks_like.csv"  # actually an XLSX workbook
    wb = openpyxl.Workbook()
    wb.active.append(["id"])
    wb.active.append(["x"])
    wb.save(path)
    assert read_table(path).format == "xlsx"


def test_sav_keeps_codes_and_records_value_labels(tmp_path):
    path = tmp_path / "data.sav"
    df = pd.DataFrame({"id": ["a", "b", "c"], "code": [1.0, float("nan"), 9.0], "ort": ["Jena", "", "Gößnitz"]})
    pyreadstat.write_sav(df, str(path), variable_value_labels={"code": {1: "ja", 2: "nein", 9: "keine Angabe"}})
    t = read_table(path)
    assert t.format == "sav"
    assert list(t.frame.index) == [2, 3, 4]  # case n is row n + 1
    assert list(t.frame["code"]) == ["1", "", "9"]
    assert t.frame.loc[4, "ort"] == "Gößnitz"
    assert t.value_labels["code"] == {"1": "ja", "2": "nein", "9": "keine Angabe"}


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"\xd0\xcf\x11\xe0rest", "legacy Excel"),
        (b"\x00\x01\x02binary", "unknown binary format"),
        (b"PK\x03\x04not really a workbook", "cannot be read as an XLSX"),
        (b"$FL2garbage", "SPSS file that cannot be read"),
        (b'id,x\n1,"unclosed\n', "not a readable CSV"),
        (b"id,,x\n1,2,3\n", "column 2 has values but no name"),
        (b",,\n ,,\n", "no header row"),
        (b"id,id\n1,2\n", "more than once"),
    ],
)
def test_unreadable_files_raise_thinka_error_naming_the_file(tmp_path, content, match):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(ThinkaError, match=match) as exc:
        read_table(path)
    assert "broken.csv" in exc.value.message


def test_missing_file_raises_thinka_error(tmp_path):
    with pytest.raises(ThinkaError, match="nowhere.csv: file not found"):
        read_table(tmp_path / "nowhere.csv")


def test_nameless_empty_column_is_dropped(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id;x;\n1;2;\n", encoding="utf-8")
    assert list(read_table(path).frame.columns) == ["id", "x"]


def test_sha256_file_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "f.bin"
    path.write_bytes(b"thinka" * 1000)
    assert sha256_file(path) == hashlib.sha256(b"thinka" * 1000).hexdigest()


def test_atomic_writes_replace_and_leave_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "alt\n")
    atomic_write_text(target, "neu – ä\n")
    assert target.read_bytes() == "neu – ä\n".encode()
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(os.listdir(target.parent)) == ["out.txt"]


def test_parquet_bytes_are_deterministic_and_round_trip(tmp_path):
    df = pd.DataFrame(
        {
            "site": pd.Categorical(["S01", "S02", None], categories=["S01", "S02", "S03"]),
            "label": pd.Categorical(["gut", None, "sehr gut"], categories=["sehr gut", "gut"], ordered=True),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "pct": [10.0, float("nan"), 90.0],
            "text": pd.Series(["ä", None, "b"], dtype="str"),
        }
    )
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    atomic_write_parquet(df, a)
    atomic_write_parquet(df.copy(), b)
    assert a.read_bytes() == b.read_bytes()
    back = pd.read_parquet(a)
    pd.testing.assert_frame_equal(back, df)
    assert list(back["site"].cat.categories) == ["S01", "S02", "S03"]  # unused levels survive
    assert back["label"].cat.ordered


def test_blank_rows_before_the_header_keep_sheet_numbers(tmp_path):
    path = tmp_path / "lead.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.cell(row=3, column=1).value = "id"
    ws.cell(row=3, column=2).value = "x"
    ws.cell(row=4, column=1).value = "a"
    ws.cell(row=6, column=2).value = 3
    wb.save(path)
    t = read_table(path)
    assert t.header_row == 3
    assert list(t.frame.index) == [4, 6] and t.frame.loc[6, "x"] == "3"
    csv_path = tmp_path / "lead.csv"
    csv_path.write_text("\n\nid,x\na,1\n", encoding="utf-8")
    t = read_table(csv_path)
    assert t.header_row == 3 and list(t.frame.index) == [4]
