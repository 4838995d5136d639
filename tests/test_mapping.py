"""Mapping survey-tool exports onto the codebook (thinka.mapping), wired into validate, process and the CLI.

The exports under tests/fixtures/exports are SYNTHETIC: derived from the shipped canonical client questionnaire by
make_exports.py. Mapped, each must give exactly the canonical tidy tables.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import PHASE, copy_phase_project, use_export
from thinka import cli
from thinka.codebook import load_codebook
from thinka.errors import ConfigError
from thinka.io import read_table
from thinka.mapping import apply_mapping, load_mapping
from thinka.paths import PhasePaths
from thinka.process import process_phase
from thinka.validate import validate_phase

IID = "einzelfallfragebogen"
EXPORTS = [
    ("limesurvey.csv", "limesurvey.yaml"),
    ("sosci.csv", "sosci.yaml"),
    ("limesurvey_spss.sav", "limesurvey_spss.yaml"),
]
# The incomplete responses make_exports.py inserts after canonical rows 10, 57 and 118 (header = row 1).
INCOMPLETE_ROWS = (12, 60, 122)


def _copy_phase(repo_root: Path, root: Path) -> PhasePaths:
    return copy_phase_project(root, PHASE)


def _tables(paths: PhasePaths) -> dict[str, pd.DataFrame]:
    result = process_phase(paths)
    return {name: pd.read_parquet(path) for name, path in result.outputs.items()}


@pytest.fixture(scope="module")
def canonical_tables(repo_root, tmp_path_factory) -> dict[str, pd.DataFrame]:
    return _tables(_copy_phase(repo_root, tmp_path_factory.mktemp("canonical")))


@pytest.fixture
def codebook(repo_root):
    return load_codebook(repo_root / "data" / "raw" / PHASE / "codebook.yaml")


def _edit_mapping(paths: PhasePaths, name: str, change) -> None:
    path = paths.raw / "mappings" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _edit_csv(path: Path, change, delimiter: str = ",") -> None:
    """Rewrite an export CSV after `change(rows)` (rows = list of dicts), keeping its quoting style."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=delimiter))
    change(rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter, quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)


def _by_rule(violations, rule: str):
    return [v for v in violations if v.rule == rule]


# ----------------------------------------------------------------------------------------------------------------
# The three exports give exactly the canonical tables


@pytest.mark.parametrize("export,mapping", EXPORTS)
def test_export_processes_to_the_canonical_tables(export, mapping, phase_copy, exports_dir, canonical_tables):
    paths = use_export(phase_copy, export, mapping)
    tables = _tables(paths)
    assert sorted(tables) == sorted(canonical_tables)
    for name, expected in canonical_tables.items():
        pd.testing.assert_frame_equal(tables[name], expected, check_exact=True, obj=name)
    assert len(tables[f"records_{IID}.parquet"]) == 125


@pytest.mark.parametrize("export,mapping", EXPORTS)
def test_incomplete_filter_drops_exactly_the_incomplete_rows(export, mapping, exports_dir, codebook):
    raw = read_table(exports_dir / export)
    m = load_mapping(exports_dir / mapping, codebook, IID)
    result = apply_mapping(raw, m, codebook, IID)
    # Which rows are incomplete, read from the export itself (LimeSurvey: no submitdate; SoSci: FINISHED = 0).
    column = next(c for c in raw.frame.columns if c in ("submitdate", "FINISHED") or
                  raw.variable_labels.get(c) == "submitdate")
    flag = raw.frame[column]
    incomplete = tuple(int(r) for r in raw.frame.index[(flag == "") | (flag == "0")])
    assert incomplete == INCOMPLETE_ROWS
    assert result.dropped == incomplete
    assert len(result.table.frame) == len(raw.frame) - 3
    assert not set(result.table.frame.index) & set(incomplete)
    assert not result.table.frame["fragebogen_id"].str.startswith("EZ-ABBR").any()
    assert result.violations == []


def test_mapped_table_keeps_the_export_row_numbers(exports_dir, codebook):
    raw = read_table(exports_dir / "sosci.csv")
    result = apply_mapping(raw, load_mapping(exports_dir / "sosci.yaml", codebook, IID), codebook, IID)
    frame = result.table.frame
    assert frame.index[0] == 2 and 12 not in frame.index and frame.index[-1] == 129
    assert frame.loc[13, "fragebogen_id"] == raw.frame.loc[13, "EZ01_01"]


def test_spss_variable_labels_are_read(exports_dir):
    raw = read_table(exports_dir / "limesurvey_spss.sav")
    assert raw.variable_labels["V1"] == "id"
    assert raw.variable_labels["V8"] == "[Q1] Bogennummer"


# ----------------------------------------------------------------------------------------------------------------
# Unused columns and the CLI


def test_unused_export_columns_are_listed(phase_copy, exports_dir):
    paths = use_export(phase_copy, "sosci.csv", "sosci.yaml")
    _edit_mapping(paths, "sosci.yaml", lambda d: d["ignore"].remove("TIME*"))
    report = validate_phase(paths)
    assert report.ok
    assert report.mappings[IID].unused == ("TIME001", "TIME002", "TIME003", "TIME_SUM", "TIME_RSI")


def test_cli_validate_reports_mapping_summary(phase_copy, exports_dir, capsys):
    use_export(phase_copy, "limesurvey.csv", "limesurvey.yaml")
    code = cli.main(["validate", "--root", str(phase_copy.root)])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    assert f"{IID}: 125 rows (csv, utf-8, comma-separated)" in out
    assert f"{IID}: mapped from limesurvey.csv with limesurvey.yaml; 3 incomplete response(s) left out (rows 12, 60, 122)" in out
    assert f"{IID}: export columns not used (neither mapped nor ignored): Q11" in out


def test_cli_validate_reports_mapping_problems_like_data_problems(phase_copy, exports_dir, capsys):
    paths = use_export(phase_copy, "limesurvey.csv", "limesurvey.yaml")
    _edit_csv(paths.raw / "limesurvey.csv", lambda rows: rows[4].update(Q4="A7"))
    code = cli.main(["validate", "--root", str(paths.root)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_PROBLEMS
    assert "limesurvey.csv:6: column 'Q4 → nutzung': value 'A7' — answer code without mapping; allowed: A1, A2, A3, A4, 9; or blank" in err
    assert "export columns not used (neither mapped nor ignored): Q11" in err


# ----------------------------------------------------------------------------------------------------------------
# Mapping problems as violations: export column, value, rule, allowed values


def test_unmapped_answer_code(phase_copy, exports_dir):
    paths = use_export(phase_copy, "limesurvey.csv", "limesurvey.yaml")
    _edit_csv(paths.raw / "limesurvey.csv", lambda rows: rows[0].update({"Q9[SQ002]": "A6"}))
    [v] = validate_phase(paths).violations
    assert (v.file, v.row, v.column, v.value, v.rule) == ("limesurvey.csv", 2, "Q9[SQ002] → individuelle_loesung", "A6", "answer code without mapping")
    assert v.allowed == "A1, A2, A3, A4, A5, 9; or blank"


def test_unmapped_site_code_is_reported_once(phase_copy, exports_dir):
    paths = use_export(phase_copy, "sosci.csv", "sosci.yaml")
    _edit_csv(paths.raw / "sosci.csv", lambda rows: rows[2].update(EZ02="14"), delimiter="\t")
    [v] = validate_phase(paths).violations  # not also "blank where required" for the blanked cell
    assert (v.row, v.column, v.value, v.rule) == (4, "EZ02 → standort", "14", "answer code without mapping")
    assert v.allowed == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11; or blank"


def test_mapped_column_missing_from_export(phase_copy, exports_dir):
    paths = use_export(phase_copy, "limesurvey.csv", "limesurvey.yaml")
    _edit_csv(paths.raw / "limesurvey.csv", lambda rows: [r.pop("Q5") for r in rows])
    report = validate_phase(paths)
    [v] = report.violations
    assert (v.row, v.column, v.rule) == (1, "Q5 → besuche", "mapped column missing from export")
    assert v.allowed == "a column of limesurvey.csv"
    assert not _by_rule(report.violations, "missing required column")  # reported once, as a mapping problem


def test_pattern_that_matches_nothing(phase_copy, exports_dir):
    paths = use_export(phase_copy, "limesurvey.csv", "limesurvey.yaml")
    _edit_mapping(paths, "limesurvey.yaml", lambda d: d["sets"][0].update(pattern="Q6_SQ{n:03d}"))
    violations = validate_phase(paths).violations
    [v] = _by_rule(violations, "pattern matches no export column")
    assert v.column == "Q6_SQ{n:03d} → aufmerksam" and v.value == "Q6_SQ{n:03d}"
    assert v.allowed.startswith("Q6_SQ001, Q6_SQ002") and "Q6[SQ001]" in v.hint
    assert [v.rule for v in violations] == ["pattern matches no export column"]  # once, not once per option


def test_regex_that_matches_the_wrong_number_of_columns(phase_copy, exports_dir):
    paths = use_export(phase_copy, "sosci.csv", "sosci.yaml")
    _edit_mapping(paths, "sosci.yaml", lambda d: d["sets"][0].update(regex=r"^EZ0[67]_(\d+)$"))
    [v] = _by_rule(validate_phase(paths).violations, "pattern matches 18 columns")
    assert v.allowed == "8 columns, one per option of 'aufmerksam', each with its own code"
    assert v.value.startswith("EZ06_01, EZ06_02")


def test_regex_that_matches_too_few_columns(phase_copy, exports_dir):
    paths = use_export(phase_copy, "sosci.csv", "sosci.yaml")
    _edit_mapping(paths, "sosci.yaml", lambda d: d["sets"][1].update(regex=r"^EZ07_0(\d)$"))  # misses EZ07_10
    [v] = validate_phase(paths).violations
    assert (v.column, v.rule, v.allowed) == (r"^EZ07_0(\d)$ → problem", "pattern matches 9 columns",
                                             "10 columns, one per option of 'problem'")


def test_explicit_option_map(phase_copy, exports_dir, canonical_tables):
    paths = use_export(phase_copy, "sosci.csv", "sosci.yaml")
    options = ["behoerde", "bekannte", "oeffentlichkeit", "traeger", "veranstaltung", "wohnung", "internet", "sonstiges"]
    # The same options, named by code in a shuffled order: the map, not the order, decides.
    option_map = {f"{j:02d}": f"aufmerksam_{name}" for j, name in reversed(list(enumerate(options, start=1)))}
    _edit_mapping(paths, "sosci.yaml", lambda d: d["sets"][0].update(options=option_map))
    tables = _tables(paths)
    pd.testing.assert_frame_equal(tables["mentions.parquet"], canonical_tables["mentions.parquet"])
    option_map.pop("08")
    _edit_mapping(paths, "sosci.yaml", lambda d: d["sets"][0].update(options=option_map))
    violations = validate_phase(paths).violations
    assert {(v.column, v.value, v.rule) for v in violations} == {
        ("EZ06_08 → aufmerksam", "08", "option code without mapping"),
        ("aufmerksam_sonstiges", None, "no export column maps to codebook column"),
    }


def test_codebook_column_nothing_maps_to(phase_copy, exports_dir):
    paths = use_export(phase_copy, "sosci.csv", "sosci.yaml")
    _edit_mapping(paths, "sosci.yaml", lambda d: d["columns"].pop("EZ10"))
    report = validate_phase(paths)
    [v] = report.violations
    assert (v.column, v.rule) == ("problem_geloest", "no export column maps to codebook column")
    assert "EZ10" in report.mappings[IID].unused


def test_data_problems_name_the_export_column(phase_copy, exports_dir):
    paths = use_export(phase_copy, "sosci.csv", "sosci.yaml")

    def damage(rows):
        rows[2]["EZ05_01"] = "viele"
        rows[3]["STARTED"] = "18.07.2013 09:00"

    _edit_csv(paths.raw / "sosci.csv", damage, delimiter="\t")
    report = validate_phase(paths)
    got = {(v.row, v.column, v.value, v.rule) for v in report.violations}
    assert got == {(4, "EZ05_01 → besuche", "viele", "not a whole number"),
                   (5, "STARTED → erhebungsdatum", "18.07.2013 09:00", "malformed date")}


# ----------------------------------------------------------------------------------------------------------------
# Configuration errors: file, key, bad value, allowed values, hint


@pytest.mark.parametrize("where", ["../outside.yaml", "/tmp/outside.yaml", "mappings/../../outside.yaml"])
def test_mapping_file_outside_the_phase_folder_is_refused(where, phase_copy, exports_dir):
    paths = use_export(phase_copy, "limesurvey.csv", "limesurvey.yaml")
    shutil.copyfile(exports_dir / "limesurvey.yaml", paths.raw.parent / "outside.yaml")
    config = yaml.safe_load(paths.config.read_text(encoding="utf-8"))
    config["instruments"][IID]["mapping"] = where
    paths.config.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError, match="instruments.einzelfallfragebogen.mapping: .* lies outside the phase folder") as exc:
        validate_phase(paths)
    assert where in exc.value.message and exc.value.hint


def _bad_mapping(tmp_path, exports_dir, change) -> Path:
    data = yaml.safe_load((exports_dir / "limesurvey.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("change,expected", [
    (lambda d: d["sets"][0].update(item="unbekannt"),
     r"sets\[0\]\.item: not a multiple-response item of 'einzelfallfragebogen': 'unbekannt'; allowed: aufmerksam, problem\."),
    (lambda d: d["columns"].update(Q12="lieblingsfarbe"),
     r"columns\.Q12: not a column of 'einzelfallfragebogen' in the codebook: 'lieblingsfarbe'; allowed: fragebogen_id, standort, "),
    (lambda d: d["columns"].update(Q6="aufmerksam"),
     r"columns\.Q6: a multiple-response item needs a set: 'aufmerksam'"),
    (lambda d: d["sets"][1].update(pattern="Q7[SQ]"), r"sets\[1\]\.pattern: not a column-name template: 'Q7\[SQ\]'"),
    (lambda d: d["sets"][1].update(pattern=None, regex="Q7[(\\d+"), r"sets\[1\]\.regex: not a regular expression"),
    (lambda d: d["codes"]["scales"]["likert5"].update(A6=6), r"codes\.scales\.likert5\.A6: not a code of scale 'likert5': '6'; allowed: 1, 2, 3, 4, 5, 9\."),
    (lambda d: d["codes"]["scales"].update(likert7={"A1": 1}), r"codes\.scales\.likert7: unknown scale"),
    (lambda d: d.update(incomplete={"column": "submitdate"}), r"incomplete: says neither blank nor values"),
    (lambda d: d.update(filter="x"), r"filter: unknown key: 'filter'; allowed: source, by, "),
    (lambda d: d["columns"].update(Q99="besuche"), r"columns\.Q99: codebook column mapped twice \(also by columns\.Q5\)"),
])
def test_mapping_file_errors_name_key_value_and_allowed(change, expected, tmp_path, exports_dir, codebook):
    path = _bad_mapping(tmp_path, exports_dir, change)
    with pytest.raises(ConfigError, match=expected) as exc:
        load_mapping(path, codebook, IID)
    assert str(path) in exc.value.message and exc.value.hint


def test_yaml_booleans_are_not_codes(tmp_path, exports_dir, codebook):
    text = (exports_dir / "limesurvey.yaml").read_text(encoding="utf-8")
    assert 'genannt: {"Y": 1}' in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace('genannt: {"Y": 1}', "genannt: {yes: 1}"), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a code: True") as exc:
        load_mapping(path, codebook, IID)
    assert "quote" in exc.value.hint


def test_changed_mapping_invalidates_the_processed_tables(phase_copy, exports_dir):
    paths = use_export(phase_copy, "limesurvey.csv", "limesurvey.yaml")
    assert not process_phase(paths).cached
    assert process_phase(paths).cached
    _edit_mapping(paths, "limesurvey.yaml", lambda d: d["ignore"].append("Q11"))
    assert not process_phase(paths).cached


# ----------------------------------------------------------------------------------------------------------------
# The fixture script


def _load_script(exports_dir: Path):
    spec = importlib.util.spec_from_file_location("make_exports", exports_dir / "make_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_script_reproduces_the_shipped_exports(exports_dir, tmp_path):
    assert _load_script(exports_dir).main(["--out", str(tmp_path)]) == 0
    for name in ("limesurvey.csv", "sosci.csv"):
        assert (tmp_path / name).read_bytes() == (exports_dir / name).read_bytes(), name
    # A .sav file embeds its creation time: compare what thinka reads from it.
    new, shipped = read_table(tmp_path / "limesurvey_spss.sav"), read_table(exports_dir / "limesurvey_spss.sav")
    pd.testing.assert_frame_equal(new.frame, shipped.frame)
    assert new.variable_labels == shipped.variable_labels


def test_readme_example_mapping_loads(repo_root, codebook, tmp_path):
    text = (repo_root / "data" / "raw" / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exports from LimeSurvey, SoSci Survey or your own Excel sheet", 1)[1]
    example = section.split("```yaml\n# mappings/limesurvey.yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "limesurvey.yaml"
    path.write_text(example, encoding="utf-8")
    m = load_mapping(path, codebook, IID)
    assert m.columns["Q3"] == "geschlecht" and m.incomplete.blank and m.sets[1].regex == r"^Q7_SQ(\d+)$"
