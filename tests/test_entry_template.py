"""XLSX entry templates from the codebook: written, filled in as an office would, read back directly."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import load_workbook

from thinka import cli
from thinka.codebook import load_codebook, load_phase
from thinka.entry_template import META_SHEET, is_entry_template, scale_entries, write_template
from thinka.errors import ThinkaError
from thinka.process import process_phase
from thinka.validate import validate_phase


@pytest.fixture
def template(phase_copy, tmp_path):
    config, codebook = load_phase(phase_copy.config), load_codebook(phase_copy.codebook)
    return write_template(tmp_path / "vorlage.xlsx", config, codebook), config, codebook


def test_one_sheet_per_instrument_with_drop_downs(template):
    path, config, codebook = template
    wb = load_workbook(path)
    assert [s for s in config.instruments if s in wb.sheetnames] == list(config.instruments)
    assert wb.sheetnames[0] == "Anleitung" and wb[META_SHEET].sheet_state == "hidden" and "Standorte" in wb.sheetnames
    ws = wb["expertenfragebogen"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["fragebogen_id", "standort", "erhebungsdatum"]
    assert header[3:] == [c for item in codebook.items_of("expertenfragebogen") for c in item.columns]
    by_range = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    column = ws.cell(row=1, column=header.index("anerkennung") + 1).column_letter
    validation = by_range[f"{column}2:{column}2001"]
    values = _list_values(wb, validation.formula1)
    assert values == scale_entries(codebook.scales["likert5"]) and values[0] == "1 = stimme voll und ganz zu"
    site_column = ws.cell(row=1, column=2).column_letter
    listed = _list_values(wb, by_range[f"{site_column}2:{site_column}2001"].formula1)
    assert listed == [f"{s.code} = {s.name}" for s in config.sites if s.steering_group]  # only allowed sites


def _list_values(wb, formula: str) -> list:
    """The entries a list validation offers: formula "'Listen'!$E$1:$E$5" → the cells' values."""
    sheet, cells = formula.split("!")
    return [c.value for row in wb[sheet.strip("'")][cells.replace("$", "")] for c in row]


def test_refuses_to_overwrite(template, phase_copy):
    path, config, codebook = template
    with pytest.raises(ThinkaError, match="exists already"):
        write_template(path, config, codebook)


def _fill(path, rows_by_sheet):
    wb = load_workbook(path)
    for sheet, rows in rows_by_sheet.items():
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                wb[sheet].cell(row=r, column=c, value=value)
    wb.save(path)


def _canonical_rows(phase_copy, instrument: str, codebook, config):
    """The shipped file's rows, written as an office would key them: 'code = label' from the lists, real dates."""
    frame = pd.read_csv(phase_copy.raw / config.instruments[instrument].file, sep=None, engine="python", dtype=str,
                        keep_default_na=False, encoding="utf-8-sig")
    labels = {}
    for item in codebook.items_of(instrument):
        scale = codebook.scales[item.scale]
        if scale.kind != "count":
            for col in item.columns:
                labels[col] = {str(lv.code): f"{lv.code} = {lv.label}" for lv in (*scale.levels, *scale.missing)}
    labels["standort"] = {s.code: f"{s.code} = {s.name}" for s in config.sites}
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for col, value in record.items():
            if col == "erhebungsdatum":
                row.append(dt.datetime.fromisoformat(value))
            elif value and col in labels:
                row.append(labels[col][value])
            elif value and col == "besuche":
                row.append(int(value))
            else:
                row.append(value or None)
        rows.append(row)
    return rows


def test_a_filled_in_copy_reads_back_to_the_same_tables(template, phase_copy):
    """Round trip: the shipped questionnaires keyed into the template process to exactly the same tables."""
    path, config, codebook = template
    expected = {name: df for name, df in _processed(phase_copy).items()}
    target = phase_copy.raw / "erfassung.xlsx"
    path.rename(target)
    rows = {i: _canonical_rows(phase_copy, i, codebook, config) for i in ("einzelfallfragebogen", "expertenfragebogen")}
    _fill(target, rows)
    text = phase_copy.config.read_text(encoding="utf-8")
    for i in rows:
        text = text.replace(f'file: "{i}.csv"', 'file: "erfassung.xlsx"')
    phase_copy.config.write_text(text, encoding="utf-8")
    assert is_entry_template(target)
    report = validate_phase(phase_copy)
    assert report.ok, report.violations[:5]
    got = _processed(phase_copy)
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)


def _processed(paths):
    result = process_phase(paths, force=True)
    return {p.name: pd.read_parquet(p) for p in result.outputs.values()}


def test_off_scale_and_wrong_label_entries_are_refused_clearly(template, phase_copy, capsys):
    path, config, codebook = template
    target = phase_copy.raw / "erfassung.xlsx"
    path.rename(target)
    rows = _canonical_rows(phase_copy, "expertenfragebogen", codebook, config)
    header = [c.value for c in load_workbook(target)["expertenfragebogen"][1]]
    rows[0][header.index("anerkennung")] = 7                                   # typed past the drop-down
    rows[1][header.index("bekanntheit")] = "1 = stimme überhaupt nicht zu"     # code and label disagree
    _fill(target, {"expertenfragebogen": rows})
    text = phase_copy.config.read_text(encoding="utf-8").replace('file: "expertenfragebogen.csv"', 'file: "erfassung.xlsx"')
    phase_copy.config.write_text(text, encoding="utf-8")
    assert cli.main(["validate", "--root", str(phase_copy.root), "--phase", phase_copy.phase]) == 1
    err = capsys.readouterr().err
    assert ("erfassung.xlsx[expertenfragebogen]:2: column 'anerkennung': value '7' — code outside scale; "
            "allowed: 1 (stimme voll und ganz zu)") in err
    assert "erfassung.xlsx[expertenfragebogen]:3: column 'bekanntheit'" in err and "label does not match code" in err


def test_cli_writes_the_template_outside_the_raw_folder(phase_copy, capsys):
    assert cli.main(["template", "--root", str(phase_copy.root), "--phase", phase_copy.phase]) == 0
    assert (phase_copy.build / "erfassungsvorlage-2013-2014.xlsx").is_file()
    assert cli.main(["template", "--root", str(phase_copy.root), "--phase", phase_copy.phase,
                     "--out", str(phase_copy.raw / "x.xlsx")]) == 2
    assert not (phase_copy.raw / "x.xlsx").exists()
