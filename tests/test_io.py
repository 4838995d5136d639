"""thinka.io: format detection, encodings, separators, row numbers, atomic and deterministic writing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from thinka.errors import ThinkaError
from thinka.io import (
    MAX_CELL_CHARS,
    TableError,
    atomic_write_bytes,
    atomic_write_parquet,
    atomic_write_text,
    csv_text,
    read_table,
    safe_join,
    sha256_file,
)


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


def test_short_and_long_rows_are_refused_with_row_and_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,a,b\n1,x\n2,x,y\n", encoding="utf-8")  # a short row in the middle: not padded
    with pytest.raises(TableError, match=r"a\.csv: row 2, column 'b': only 2 of 3 cells") as exc:
        read_table(path)
    assert (exc.value.row, exc.value.column, exc.value.rule) == (2, "b", "too few cells")
    assert "separator" in exc.value.hint
    path.write_text("id,a,b\n1,x,y\n2,x,y,z\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"a\.csv: row 3: 4 cells but the header has 3") as exc:
        read_table(path)
    assert exc.value.rule == "too many cells"
    path.write_text("id,a,b\n1,x,y,\n", encoding="utf-8")  # a trailing empty extra cell is harmless
    assert read_table(path).frame.loc[2, "b"] == "y"


def test_file_cut_mid_row_is_refused_not_read_as_missing_answers(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes(b"id;a;b;c\n1;1;2;3\n2;4")  # the last respondent's answers end after column a
    with pytest.raises(TableError) as exc:
        read_table(path)
    assert (exc.value.row, exc.value.column, exc.value.rule) == (3, "b", "row cut off")
    assert "cut off" in exc.value.hint and "cut.csv: row 3, column 'b'" in exc.value.message


def test_file_cut_inside_a_quoted_cell_names_row_and_column(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'id,text,n\n1,"fine",2\n\n3,"two\nlines",4\n5,"cut here\nand the rest')
    with pytest.raises(TableError) as exc:
        read_table(path)
    # Rows count records: the blank line is row 3, the two-line cell row 4, the broken record row 5.
    assert (exc.value.row, exc.value.column, exc.value.rule) == (5, "text", "file cut inside a quoted cell")
    path.write_bytes(b'id,text,n\n1,"ab"c,2\n')
    with pytest.raises(TableError) as exc:
        read_table(path)
    assert (exc.value.row, exc.value.column, exc.value.rule) == (2, "text", "malformed quoting")


def test_nul_byte_is_refused_with_row_and_column(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,a,b\n1,x,y\n2,x,y\n3,x,y\x00\x00z\n")
    with pytest.raises(TableError, match=r"nul\.csv: row 4, column 'b': contains a NUL byte") as exc:
        read_table(path)
    assert exc.value.rule == "NUL byte" and exc.value.hint
    # A crash that left a run of zeros at the end (thousands of NULs), after a two-line quoted cell.
    path.write_bytes(b'id;a;b\n1;"two\nlines";y\n2;x;' + b"\x00" * 5000)
    with pytest.raises(TableError) as exc:
        read_table(path)
    assert (exc.value.row, exc.value.column, exc.value.rule) == (3, "b", "NUL byte")


def test_long_free_text_up_to_the_cell_limit_is_read_longer_is_refused(tmp_path):
    assert MAX_CELL_CHARS == 32_767
    path = tmp_path / "long.csv"
    ok = "ä" * MAX_CELL_CHARS
    path.write_text(f'id,text\n1,"{ok}"\n', encoding="utf-8")
    assert read_table(path).frame.loc[2, "text"] == ok
    # Beyond the limit (and beyond csv's own default of 131,072, which would not name the row).
    for length in (MAX_CELL_CHARS + 1, 200_000):
        path.write_text(f'id,text\n1,short\n2,"{"x" * length}"\n', encoding="utf-8")
        with pytest.raises(TableError, match=rf"row 3, column 'text': the cell has {length:,} characters; "
                                             rf"the limit is 32,767") as exc:
            read_table(path)
        assert exc.value.rule == "cell too long"


def test_tab_separated_export_is_read(tmp_path):
    path = tmp_path / "sosci.csv"
    path.write_bytes("id\taussage\tort\n1\tja, gut; sehr\tGößnitz\n2\t\"a\tb\"\tJena\n".encode("utf-8"))
    t = read_table(path)
    assert t.separator == "\t"
    assert list(t.frame.columns) == ["id", "aussage", "ort"]
    assert t.frame.loc[2, "aussage"] == "ja, gut; sehr" and t.frame.loc[3, "aussage"] == "a\tb"


@pytest.mark.parametrize("sep, name", [("|", "pipe"), (":", "colon")])
def test_unaccepted_separator_is_explained_in_one_error(tmp_path, sep, name):
    path = tmp_path / "pipe.csv"
    path.write_text(sep.join(["id", "standort", "datum"]) + "\n" + sep.join(["1", "S01", "2014-01-02"]) + "\n",
                    encoding="utf-8")
    with pytest.raises(TableError) as exc:
        read_table(path)
    assert exc.value.rule == "unsupported separator" and exc.value.row == 1
    assert name in exc.value.message and "tab" in exc.value.allowed and "';'" in exc.value.allowed


def test_utf16_text_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("id,a\n1,2\n".encode("utf-16"))
    with pytest.raises(TableError, match="UTF-16") as exc:
        read_table(path)
    assert "UTF-8" in exc.value.hint


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
        (b'id,x\n1,"unclosed\n', "row 2, column 'x': a quoted cell is never closed"),
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
    atomic_write_text(target, "alt\n", within=tmp_path)
    atomic_write_text(target, "neu – ä\n", within=tmp_path)
    assert target.read_bytes() == "neu – ä\n".encode()
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01", within=tmp_path)
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
    atomic_write_parquet(df, a, within=tmp_path)
    atomic_write_parquet(df.copy(), b, within=tmp_path)
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


def test_writes_outside_their_folder_are_refused(tmp_path):
    out, outside = tmp_path / "report", tmp_path / "elsewhere"
    out.mkdir()
    outside.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    for path in (out / ".." / "escaped.txt", outside / "x.txt", out / "link" / "x.txt", tmp_path / "report.txt"):
        with pytest.raises(ThinkaError, match="outside the output folder"):
            atomic_write_text(path, "x", within=out)
    with pytest.raises(TypeError):
        atomic_write_text(out / "a.txt", "x")  # the folder is mandatory
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["elsewhere", "link", "report"]
    assert atomic_write_text(out / "sub" / "ok.txt", "x", within=out).read_text() == "x"


@pytest.mark.parametrize("part", ["../x", "/etc/passwd", "a/../../x", ".."])
def test_safe_join_refuses_names_that_leave_the_folder(tmp_path, part):
    with pytest.raises(ThinkaError, match="leaves the output folder"):
        safe_join(tmp_path / "daten", part)


def test_safe_join_keeps_plain_names(tmp_path):
    assert safe_join(tmp_path, "standorte", "S01.html") == tmp_path / "standorte" / "S01.html"


def test_csv_text_neutralises_formulas_in_text_cells_only():
    frame = pd.DataFrame({
        "site": ["=HYPERLINK(\"http://x\",\"klick\")", "+1", "@SUM(1)", "-Nord", "\tTab", "\rCR", "S01", "a=b"],
        "n": [-3, 1, 2, 3, 4, 5, 6, 7],
        "pct": [-1.5, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })
    text = csv_text(frame)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    back = pd.DataFrame(rows[1:], columns=rows[0])
    assert list(back["site"]) == ["'=HYPERLINK(\"http://x\",\"klick\")", "'+1", "'@SUM(1)", "'-Nord", "'\tTab",
                                  "'\nCR", "S01", "a=b"]  # a carriage return would end the row: a quoted line feed
    assert list(back["n"]) == ["-3", "1", "2", "3", "4", "5", "6", "7"]  # numbers stay numbers, unquoted
    assert back["pct"].iloc[0] == "-1.5"
    assert ";-3;-1.5\n" in text
    assert list(frame["site"])[0].startswith("=")  # the caller's frame is not changed
