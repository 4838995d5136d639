"""thinka.validate: every rule on bad input, in every accepted file format, and the report's text."""

from __future__ import annotations

import re
import time

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from thinka.codebook import load_codebook, load_phase
from thinka.errors import ConfigError
from thinka.io import read_table, sha256_file
from thinka.validate import ValidationError, Violation, format_violations, validate_instrument, validate_phase


def _frame(paths, file):
    return pd.read_csv(paths.raw / file, dtype=str, keep_default_na=False)


def _write(paths, file, df):
    df.to_csv(paths.raw / file, index=False, encoding="utf-8")


def _only(report, **expected):
    """The single violation of the report; asserts each given field."""
    assert len(report.violations) == 1, format_violations(report)
    v = report.violations[0]
    for key, value in expected.items():
        got = getattr(v, key)
        if key in ("rule", "allowed"):
            assert value in got, (key, got)
        else:
            assert got == value, (key, got)
    return v


def test_synthetic_phase_is_valid(synthetic_phase):
    report = validate_phase(synthetic_phase)
    assert report.ok, format_violations(report)
    assert report.row_counts == {"experteninterviews": 60, "einzelfallfragebogen": 60, "expertenfragebogen": 60,
                                 "projektstatistik": 88}
    assert report.files["projektstatistik"].format == "csv"
    assert format_violations(report) == "Phase 2013-2014: all instrument files are valid."


# One row per rule: (file, row index in the CSV body, column, bad value, expected rule, text in `allowed`).
CELL_CASES = [
    ("expertenfragebogen.csv", 0, "anerkennung", "7", "code outside scale", "1 (stimme voll und ganz zu)"),
    ("expertenfragebogen.csv", 3, "aktivierung", "2.5", "code outside scale", "6 (ungenügend)"),
    ("expertenfragebogen.csv", 1, "standort", "S99", "unknown site", "S01, S02"),
    ("expertenfragebogen.csv", 1, "standort", "S10", "site not allowed for instrument 'expertenfragebogen'", "S09"),
    ("expertenfragebogen.csv", 4, "fragebogen_id", "", "empty id", "non-empty"),
    ("expertenfragebogen.csv", 5, "standort", "", "blank where required", "site"),
    ("expertenfragebogen.csv", 2, "erhebungsdatum", "2014-02-30", "impossible date", "calendar date"),
    ("expertenfragebogen.csv", 2, "erhebungsdatum", "01.03.2014", "malformed date", "YYYY-MM-DD"),
    ("expertenfragebogen.csv", 2, "erhebungsdatum", "2014-07-01", "date outside field period", "2014-01-01 to 2014-06-30"),
    ("einzelfallfragebogen.csv", 7, "besuche", "0", "count out of range", "1–200"),
    ("einzelfallfragebogen.csv", 7, "besuche", "201", "count out of range", "1–200"),
    ("einzelfallfragebogen.csv", 8, "besuche", "3,5", "not a whole number", "1–200"),
    ("einzelfallfragebogen.csv", 9, "aufmerksam_internet", "2", "mention not 0/1", "0 (nicht genannt)"),
    ("einzelfallfragebogen.csv", 9, "problem_schulden", "ja", "mention not 0/1", "9 (keine Angabe)"),
    ("einzelfallfragebogen.csv", 10, "geschlecht", "3", "code outside scale", "2 (männlich)"),
    ("experteninterviews.csv", 4, "segment", "x", "not a whole number", "1–50"),
    ("experteninterviews.csv", 4, "segment", "51", "out of range", "1–50"),
    ("experteninterviews.csv", 5, "thema", "familie", "code outside scale", "erwartungen (Erwartungen und Bedenken)"),
    ("experteninterviews.csv", 5, "aussage", "", None, None),  # text may be blank: no violation
    ("projektstatistik.csv", 0, "quartal", "2014-Q5", "malformed quarter", "YYYY-Qn"),
    ("projektstatistik.csv", 0, "quartal", "2015-Q1", "quarter outside phase period", "2013-Q1 to 2014-Q4"),
    ("projektstatistik.csv", 3, "personen", "-1", "out of range", "0–10000"),
    ("projektstatistik.csv", 3, "beratungen", "", "blank where required", "integer"),
]


@pytest.mark.parametrize("file, idx, column, value, rule, allowed", CELL_CASES)
def test_each_cell_rule_is_reported_with_file_row_column_value(synthetic_phase, file, idx, column, value, rule, allowed):
    df = _frame(synthetic_phase, file)
    if file == "projektstatistik.csv" and column == "quartal":
        # Keep the site × quarter grid complete: add a copy of the row under a bad quarter instead.
        extra = df.iloc[[idx]].copy()
        extra[column] = value
        df = pd.concat([df, extra], ignore_index=True)
        idx = len(df) - 1
    else:
        df.loc[idx, column] = value
    _write(synthetic_phase, file, df)
    report = validate_phase(synthetic_phase)
    if rule is None:
        assert report.ok, format_violations(report)
        return
    _only(report, file=file, row=idx + 2, column=column, value=value, rule=rule, allowed=allowed)


def test_missing_and_unknown_columns(synthetic_phase):
    df = _frame(synthetic_phase, "einzelfallfragebogen.csv").drop(columns=["nutzung"])
    df["bemerkung"] = "x"
    _write(synthetic_phase, "einzelfallfragebogen.csv", df)
    vs = validate_phase(synthetic_phase).violations
    assert [(v.file, v.row, v.column, v.rule) for v in vs] == [
        ("einzelfallfragebogen.csv", 1, "nutzung", "missing required column"),
        ("einzelfallfragebogen.csv", 1, "bemerkung", "unknown column"),
    ]


def test_duplicate_key_names_the_other_row(synthetic_phase):
    df = _frame(synthetic_phase, "einzelfallfragebogen.csv")
    df.loc[9, "fragebogen_id"] = df.loc[4, "fragebogen_id"]
    _write(synthetic_phase, "einzelfallfragebogen.csv", df)
    v = _only(validate_phase(synthetic_phase), row=11, column="fragebogen_id", value=df.loc[4, "fragebogen_id"])
    assert v.rule == "duplicate key (same as row 6)"


def test_duplicate_compound_key(synthetic_phase):
    df = _frame(synthetic_phase, "experteninterviews.csv")
    df.loc[1, "segment"] = df.loc[0, "segment"]  # same interview, same segment number
    _write(synthetic_phase, "experteninterviews.csv", df)
    v = _only(validate_phase(synthetic_phase), row=3, column="interview_id, segment")
    assert v.rule == "duplicate key (same as row 2)"
    assert v.value == f"{df.loc[0, 'interview_id']} / {df.loc[0, 'segment']}"


def test_constant_within_reports_the_deviating_row_only(synthetic_phase):
    df = _frame(synthetic_phase, "experteninterviews.csv")
    assert df.loc[3, "interview_id"] == df.loc[4, "interview_id"] == df.loc[5, "interview_id"]
    df.loc[4, "partnertyp"] = "jobcenter" if df.loc[3, "partnertyp"] != "jobcenter" else "kommunal"
    _write(synthetic_phase, "experteninterviews.csv", df)
    v = _only(validate_phase(synthetic_phase), file="experteninterviews.csv", row=6, column="partnertyp",
              value=df.loc[4, "partnertyp"])
    assert v.rule == f"differs within interview_id '{df.loc[3, 'interview_id']}' (row 5 has '{df.loc[3, 'partnertyp']}')"


def test_complete_reports_a_missing_site_quarter(synthetic_phase):
    df = _frame(synthetic_phase, "projektstatistik.csv")
    gone = df.loc[10, ["standort", "quartal"]].tolist()
    _write(synthetic_phase, "projektstatistik.csv", df.drop(index=10))
    _only(validate_phase(synthetic_phase), file="projektstatistik.csv", row=None, column="standort, quartal",
          value=" / ".join(gone), rule="missing combination")


def test_missing_file_unreadable_file_and_empty_body(synthetic_phase):
    (synthetic_phase.raw / "expertenfragebogen.csv").unlink()
    (synthetic_phase.raw / "experteninterviews.csv").write_bytes(b"\x00\x01binary")
    header = ",".join(_frame(synthetic_phase, "projektstatistik.csv").columns)
    (synthetic_phase.raw / "projektstatistik.csv").write_text(header + "\n", encoding="utf-8")
    rules = {v.file: v.rule for v in validate_phase(synthetic_phase).violations}
    assert rules["expertenfragebogen.csv"] == "file missing"
    assert rules["experteninterviews.csv"].startswith("unreadable file:")
    assert "no data rows" in [v.rule for v in validate_phase(synthetic_phase).violations if v.file == "projektstatistik.csv"]


def test_missing_codes_and_blanks_are_accepted_in_items(synthetic_phase):
    df = _frame(synthetic_phase, "einzelfallfragebogen.csv")
    df.loc[0, "besuche"] = "-9"
    df.loc[0, "nutzung"] = "9"
    df.loc[0, "aufmerksam_internet"] = "9"
    df.loc[1, "geschlecht"] = ""
    _write(synthetic_phase, "einzelfallfragebogen.csv", df)
    assert validate_phase(synthetic_phase).ok


def test_collects_every_violation_not_just_the_first(synthetic_phase):
    df = _frame(synthetic_phase, "expertenfragebogen.csv")
    df.loc[0, "anerkennung"] = "7"
    df.loc[5, "standort"] = "S11"
    df.loc[9, "erhebungsdatum"] = "2013-12-31"
    _write(synthetic_phase, "expertenfragebogen.csv", df)
    vs = validate_phase(synthetic_phase).violations
    assert [(v.row, v.column) for v in vs] == [(2, "anerkennung"), (7, "standort"), (11, "erhebungsdatum")]


# ---------------------------------------------------------------------------------------------------------------
# The same checks in every accepted format


def test_windows_1252_csv_with_umlauts(synthetic_phase):
    df = _frame(synthetic_phase, "experteninterviews.csv")
    df.loc[:, "aussage"] = "Die Zusammenarbeit läuft gut, größtenteils."
    df.loc[6, "partnertyp"] = "Wohnungsgesellschaft"
    path = synthetic_phase.raw / "experteninterviews.csv"
    path.write_bytes(df.to_csv(index=False).encode("cp1252"))
    report = validate_phase(synthetic_phase)
    assert report.files["experteninterviews"].encoding == "cp1252"
    rows = [v for v in report.violations if v.rule == "code outside scale"]
    assert [(v.file, v.row, v.column, v.value) for v in rows] == [
        ("experteninterviews.csv", 8, "partnertyp", "Wohnungsgesellschaft")
    ]
    assert report.tables["experteninterviews"].frame.loc[2, "aussage"] == "Die Zusammenarbeit läuft gut, größtenteils."


def test_semicolon_csv(synthetic_phase):
    df = _frame(synthetic_phase, "einzelfallfragebogen.csv")
    df.loc[12, "nutzung"] = "5"
    (synthetic_phase.raw / "einzelfallfragebogen.csv").write_text(df.to_csv(index=False, sep=";"), encoding="utf-8")
    report = validate_phase(synthetic_phase)
    assert report.files["einzelfallfragebogen"].separator == ";"
    _only(report, file="einzelfallfragebogen.csv", row=14, column="nutzung", value="5", rule="code outside scale",
          allowed="4 (häufig)")


def test_xlsx_reports_sheet_rows(synthetic_phase):
    df = _frame(synthetic_phase, "expertenfragebogen.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for rec in df.itertuples(index=False):
        # Excel users type numbers and dates, not text: store them as such.
        ws.append([int(v) if v.isdigit() else v for v in rec])
    date_col = list(df.columns).index("erhebungsdatum") + 1
    ws.cell(row=2, column=date_col).value = pd.Timestamp("2014-03-05").to_pydatetime()
    ws.cell(row=8, column=list(df.columns).index("netzwerkarbeit") + 1).value = 0
    path = synthetic_phase.raw / "expertenfragebogen.csv"  # the name phase.yaml gives; content is XLSX
    wb.save(path)
    report = validate_phase(synthetic_phase)
    assert report.files["expertenfragebogen"].format == "xlsx"
    _only(report, file="expertenfragebogen.csv", row=8, column="netzwerkarbeit", value="0", rule="code outside scale")
    assert report.tables["expertenfragebogen"].frame.loc[2, "erhebungsdatum"] == "2014-03-05"


def test_sav_reports_case_number_plus_one(synthetic_phase):
    df = _frame(synthetic_phase, "einzelfallfragebogen.csv")
    numeric = [c for c in df.columns if c not in ("fragebogen_id", "standort", "erhebungsdatum")]
    sav = df.copy()
    for c in numeric:
        sav[c] = pd.to_numeric(sav[c].replace("", None)).astype("float64")
    sav.loc[20, "problem_geloest"] = 4.0
    sav = sav.astype({c: "object" for c in ("fragebogen_id", "standort", "erhebungsdatum")})
    path = synthetic_phase.raw / "einzelfallfragebogen.csv"
    pyreadstat.write_sav(sav, str(path), variable_value_labels={"problem_geloest": {1: "ja", 2: "teilweise", 3: "nein"}})
    report = validate_phase(synthetic_phase)
    assert report.files["einzelfallfragebogen"].format == "sav"
    _only(report, file="einzelfallfragebogen.csv", row=22, column="problem_geloest", value="4", rule="code outside scale")


# ---------------------------------------------------------------------------------------------------------------
# Report, error, purity, speed


def test_format_violations_lines_summary_and_limit(synthetic_phase):
    df = _frame(synthetic_phase, "expertenfragebogen.csv")
    df.loc[0, "anerkennung"] = "7"
    df.loc[1, "anerkennung"] = "8"
    _write(synthetic_phase, "expertenfragebogen.csv", df)
    report = validate_phase(synthetic_phase)
    text = format_violations(report)
    first = text.splitlines()[0]
    assert first.startswith("expertenfragebogen.csv:2: column 'anerkennung': value '7' — code outside scale; allowed: 1 (")
    assert "2 violation(s) in phase 2013-2014 (expertenfragebogen.csv: 2)" in text
    assert "Hint:" in text
    short = format_violations(report, limit=1)
    assert "value '8'" not in short and "… and 1 more." in short
    err = ValidationError(report)
    assert err.report is report and "value '8'" in str(err)


def test_violation_without_row_or_value_formats_cleanly():
    v = Violation("a.csv", None, None, None, "file missing", "a CSV file")
    assert v.format() == "a.csv: — file missing; allowed: a CSV file"


def test_validation_never_changes_raw_files(synthetic_phase):
    df = _frame(synthetic_phase, "expertenfragebogen.csv")
    df.loc[0, "anerkennung"] = "7"
    _write(synthetic_phase, "expertenfragebogen.csv", df)
    before = {p: sha256_file(p) for p in synthetic_phase.raw.rglob("*") if p.is_file()}
    validate_phase(synthetic_phase)
    assert {p: sha256_file(p) for p in synthetic_phase.raw.rglob("*") if p.is_file()} == before


def test_ten_thousand_rows_validate_quickly(synthetic_phase, tmp_path):
    df = _frame(synthetic_phase, "einzelfallfragebogen.csv")
    big = pd.concat([df] * 170, ignore_index=True).iloc[:10_000].copy()
    big["fragebogen_id"] = [f"B{i:05d}" for i in range(len(big))]
    big.loc[9_998, "empathie"] = "6"
    path = tmp_path / "big.csv"
    big.to_csv(path, index=False)
    config, codebook = load_phase(synthetic_phase.config), load_codebook(synthetic_phase.codebook)
    raw = read_table(path)
    start = time.perf_counter()
    vs = validate_instrument(raw, "einzelfallfragebogen", config, codebook)
    assert time.perf_counter() - start < 3.0
    assert [(v.row, v.column, v.value) for v in vs] == [(10_000, "empathie", "6")]


# ---------------------------------------------------------------------------------------------------------------
# Inputs stay in their folder; damaged files name row and column


def _set_in_phase_yaml(paths, old, new):
    text = paths.config.read_text(encoding="utf-8")
    assert old in text
    paths.config.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("code", ["../../../tmp/evil", "/tmp/evil", "S 04", ".hidden", "a" * 65, "S04/x"])
def test_unsafe_site_code_is_refused_naming_file_key_value_and_rule(phase_copy, code):
    _set_in_phase_yaml(phase_copy, 'code: "S04"', f'code: "{code}"')
    with pytest.raises(ConfigError) as exc:
        load_phase(phase_copy.config)
    text = str(exc.value)
    assert str(phase_copy.config) in text and "sites[3].code" in text and repr(code) in text
    assert "letters" in text and "'-' and '_'" in text and exc.value.hint


@pytest.mark.parametrize("file", ["../../../../etc/passwd", "/etc/passwd", "sub/../../x.csv", "C:\\\\x.csv"])
def test_instrument_file_outside_the_phase_folder_is_refused_on_load(phase_copy, file):
    _set_in_phase_yaml(phase_copy, 'file: "projektstatistik.csv"', f'file: "{file}"')
    with pytest.raises(ConfigError) as exc:
        load_phase(phase_copy.config)
    text = str(exc.value)
    assert "instruments.projektstatistik.file" in text and "inside the phase folder" in text and exc.value.hint


def test_unsafe_phase_id_is_refused(phase_copy):
    _set_in_phase_yaml(phase_copy, 'phase: "2013-2014"', 'phase: "../2013-2014"')
    with pytest.raises(ConfigError, match=r"phase: phase '\.\./2013-2014' is not allowed"):
        load_phase(phase_copy.config)


def test_symlinked_instrument_file_pointing_outside_is_not_opened(phase_copy, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_bytes((phase_copy.raw / "projektstatistik.csv").read_bytes())
    (phase_copy.raw / "projektstatistik.csv").unlink()
    (phase_copy.raw / "projektstatistik.csv").symlink_to(secret)
    report = validate_phase(phase_copy)
    v = _only(report, file="projektstatistik.csv", row=None, rule="file outside the phase folder")
    assert v.value == str(secret) and "instruments.projektstatistik.file" in v.hint
    assert "projektstatistik" not in report.tables


def test_tab_separated_instrument_file_is_valid(phase_copy):
    path = phase_copy.raw / "experteninterviews.csv"
    df = _frame(phase_copy, "experteninterviews.csv")
    path.write_text(df.to_csv(index=False, sep="\t"), encoding="utf-8")
    report = validate_phase(phase_copy)
    assert report.ok, format_violations(report)
    assert report.files["experteninterviews"].separator == "\t"


def test_wrong_separator_is_one_violation_not_one_per_column(phase_copy):
    path = phase_copy.raw / "expertenfragebogen.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(";", "|"), encoding="utf-8")
    v = _only(validate_phase(phase_copy), file="expertenfragebogen.csv", row=1, rule="unsupported separator")
    assert "'|' (pipe)" in v.rule and "tab" in v.allowed and v.hint


def test_file_cut_mid_row_is_a_violation_with_row_and_column(phase_copy):
    path = phase_copy.raw / "einzelfallfragebogen.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b";") - 20])  # cut inside the last row
    rows = len(data.rstrip(b"\n").split(b"\n"))
    v = _only(validate_phase(phase_copy), file="einzelfallfragebogen.csv", row=rows, rule="row cut off")
    assert v.column is not None and "cut off" in v.hint
    assert f"einzelfallfragebogen.csv:{rows}: column '{v.column}'" in v.format()


def test_validation_error_exits_1_like_validate():
    assert ValidationError.exit_code == 1
    assert ConfigError("x").exit_code == 2


# ---------------------------------------------------------------------------------------------------------------
# Interview columns are found by their role (codebook `role:`), so a wrong role is refused when the codebook is read


def _set_in_codebook(paths, old, new):
    text = paths.codebook.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    paths.codebook.write_text(text.replace(old, new), encoding="utf-8")


def test_unknown_role_is_refused_naming_file_where_value_allowed_and_hint(phase_copy):
    _set_in_codebook(phase_copy, "scale: interviewthema, role: theme}", "scale: interviewthema, role: topic}")
    with pytest.raises(ConfigError) as exc:
        load_codebook(phase_copy.codebook)
    text = str(exc.value)
    assert str(phase_copy.codebook) in text
    assert "instruments.experteninterviews.columns[6] (thema).role" in text and "unknown role 'topic'" in text
    assert "allowed: interview, segment, partner, date, duration, theme, statement" in text
    assert "role" in exc.value.hint


def test_interview_instrument_missing_a_role_is_refused(phase_copy):
    _set_in_codebook(phase_copy, "{name: aussage, type: text, role: statement}", "{name: aussage, type: text}")
    with pytest.raises(ConfigError) as exc:
        load_codebook(phase_copy.codebook)
    text = str(exc.value)
    assert str(phase_copy.codebook) in text and "instruments.experteninterviews.columns" in text
    assert "missing roles ['statement']" in text and "statement (text)" in text
    assert "role: statement" in exc.value.hint


QUESTIONNAIRE = ("  einzelfallfragebogen:\n    label: \"Quantitativer Einzelfallfragebogen\"\n"
                 "    unit: \"ausgefüllter Fragebogen\"\n    key: [fragebogen_id]\n    columns:\n"
                 "      - {name: fragebogen_id, type: id}")
WITH_ROLE = QUESTIONNAIRE.replace("type: id}", "type: id, role: interview}")


@pytest.mark.parametrize("old, new, message", [
    ("{name: segment, type: integer, min: 1, max: 50, role: segment}",
     "{name: segment, type: integer, min: 1, max: 50, role: duration}",
     "instruments.experteninterviews.columns: roles ['duration'] are given to more than one column"),
    ("{name: datum, type: date, role: date}", "{name: datum, type: text, role: date}",
     "columns[4] (datum).role: role 'date' needs a column of type 'date', the column has type 'text'"),
    (QUESTIONNAIRE, WITH_ROLE.replace("    label:", "    kind: questionnaire\n    label:"),
     "instruments.einzelfallfragebogen.columns: column 'fragebogen_id' has role 'interview', but the instrument is "
     "of kind 'questionnaire'"),
    # without `kind`, a role makes the instrument an interview instrument, which then lacks the other roles
    (QUESTIONNAIRE, WITH_ROLE, "instruments.einzelfallfragebogen.columns: an interview instrument needs a column for "
                               "each role; missing roles ['segment', 'partner', 'date', 'duration', 'theme', "
                               "'statement']"),
])
def test_doubled_mistyped_or_misplaced_role_is_refused(phase_copy, old, new, message):
    _set_in_codebook(phase_copy, old, new)
    with pytest.raises(ConfigError, match=re.escape(message)) as exc:
        load_codebook(phase_copy.codebook)
    assert str(phase_copy.codebook) in str(exc.value) and exc.value.hint
