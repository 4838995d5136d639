"""The data files published beside the report (`report/<phase>/daten/`), under the same disclosure rule as the HTML.

- `schaubild_NN.csv` (overall rows) and `standorte/<site>/schaubild_NN.csv` (site + overall rows):
  CHART_CSV_COLUMNS, one row per (series, site, category);
- `tabelle_<section>_<k>.csv` and `standorte/<site>/tabelle_<section>_<k>.csv`: the item tables, TABLE_CSV_COLUMNS;
- `ruecklauf.csv`: returned questionnaires / interviews per instrument and site, RESPONSES_CSV_COLUMNS.
- with a previous phase: `vergleich_<dimension>.csv` (COMPARISON_CSV_COLUMNS: the rows of both phases, told apart
  by `phase`), `vergleich_veraenderungen.csv` (CHANGE_CSV_COLUMNS) and `vergleich_laufende_statistik.csv` (the
  running statistics of both phases), overall and per site like the charts.

A hidden value has its value cells empty, `mark` "." (reasons primary, secondary, no_answers) or "x"
(not_applicable) and `reason` as in `thinka.api.REASONS`; its n is empty too unless the rules show exact n.
Numbers stay numbers (counts and n are integers, shares unrounded). Every file goes through `write_csv`, the one
place where cell-level output policy (e.g. neutralising spreadsheet formulas) applies.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from thinka import ALL_SITES

CHART_CSV_COLUMNS = [
    "schaubild", "item", "series", "site", "site_label", "category", "code", "order",
    "pct", "count", "valid_n", "mean", "mark", "reason",
]
TABLE_CSV_COLUMNS = ["table", "item", "wording", "site", "site_label", "valid_n", "top", "top_labels", "mark", "reason"]
RESPONSES_CSV_COLUMNS = ["instrument", "site", "site_label", "n", "mark", "reason"]

COMPARISON_CSV_COLUMNS = ["phase", "dimension", "item", "option", "wording", "option_label", "measure", "site",
                          "site_label", "n", "value", "ci_low", "ci_high", "mark", "reason"]
CHANGE_CSV_COLUMNS = ["dimension", "item", "option", "measure", "site", "site_label", "diff", "ci_low", "ci_high",
                      "verdict", "reason"]
SERIES_CSV_COLUMNS = ["phase", "site", "site_label", "quarter", "measure", "value"]

HIDDEN = ("primary", "secondary")
MARKS = {"": "", "primary": ".", "secondary": ".", "no_answers": ".", "not_applicable": "x"}


def write_csv(path: Path, frame: pd.DataFrame, within: Path) -> Path:
    """Write one published CSV (";"-separated, UTF-8, "\\n", text cells safe for spreadsheets); the single writer of
    every file in daten/, which must stay inside `within` (the report folder being built)."""
    from thinka.io import atomic_write_text, csv_text

    return atomic_write_text(path, csv_text(frame), within=within)


def _int(series: pd.Series) -> pd.Series:
    return series.round().astype("Int64")


def _published(frame: pd.DataFrame, values: list[str], n_column: str, rules) -> pd.DataFrame:
    """Blank the values (and n unless exact_n) of hidden rows; add `mark`."""
    out = frame.copy()
    hidden = out["reason"].isin(HIDDEN)
    for column in values:
        out[column] = out[column].mask(hidden)
    if not rules.exact_n:
        out[n_column] = out[n_column].mask(hidden)
    out["mark"] = out["reason"].map(MARKS).fillna("")
    return out


def chart_csv(frame: pd.DataFrame, rules) -> pd.DataFrame:
    """A `thinka.api.chart_data` frame as published: CHART_CSV_COLUMNS."""
    out = _published(frame, ["pct", "count", "mean"], "valid_n", rules)
    out["count"], out["valid_n"] = _int(out["count"]), _int(out["valid_n"])
    return out[CHART_CSV_COLUMNS].reset_index(drop=True)


def table_csv(frame: pd.DataFrame, table_id: str, rules) -> pd.DataFrame:
    """A `thinka.api.item_table_data` frame as published: TABLE_CSV_COLUMNS."""
    out = _published(frame.assign(table=table_id), ["top"], "valid_n", rules)
    out["valid_n"] = _int(out["valid_n"])
    return out[TABLE_CSV_COLUMNS].reset_index(drop=True)


def responses_csv(responses: pd.DataFrame, config, codebook, rules, site_label) -> pd.DataFrame:
    """Returned questionnaires per instrument and site (overall row first). n below the threshold is hidden
    (reason primary) unless exact_n — it caps every hidden value of the site; interview counts are shown."""
    rows = []
    for instrument in config.instruments:
        part = responses[responses["instrument"].astype(str) == instrument]
        ns = {str(s): int(n) for s, n in zip(part["site"], part["n"], strict=True)}
        hide_small = codebook.instruments[instrument].kind == "questionnaire" and not rules.exact_n
        for site in (ALL_SITES, *config.site_codes):
            n = ns.get(site)
            reason = "not_applicable" if n is None else ("primary" if hide_small and 0 < n < rules.threshold
                                                          and site != ALL_SITES else "")
            rows.append({"instrument": instrument, "site": site, "site_label": site_label(site),
                         "n": None if reason else n, "mark": MARKS[reason], "reason": reason})
    out = pd.DataFrame(rows, columns=RESPONSES_CSV_COLUMNS)
    out["n"] = out["n"].astype("Int64")
    return out


def comparison_csv(values: pd.DataFrame, items: pd.DataFrame, dimension: str, rules, site_label) -> pd.DataFrame:
    """Both phases' values of one dimension's compared items as published: values of hidden rows blank, n too
    unless exact_n; `mark` and `reason` as everywhere (not_in_phase: the site did not take part in that phase)."""
    chosen = items[(items["dimension"] == dimension) & (items["status"] == "both")]
    out = values.merge(chosen[["item", "dimension", "wording", "measure"]], on="item")
    hidden = out["reason"] != ""
    for column in ("value", "ci_low", "ci_high"):
        out[column] = out[column].mask(hidden)
    if not rules.exact_n:
        out["n"] = out["n"].mask(hidden & out["reason"].isin(HIDDEN))
    out["n"] = out["n"].mask(out["reason"].isin(["not_in_phase", "not_applicable", "not_published"]))
    out["n"] = _int(out["n"])
    out["mark"] = out["reason"].map({**MARKS, "not_in_phase": "x", "not_published": "."}).fillna("")
    out["site_label"] = out["site"].map(site_label)
    return out[COMPARISON_CSV_COLUMNS].reset_index(drop=True)


def change_csv(changes: pd.DataFrame, items: pd.DataFrame, site_label) -> pd.DataFrame:
    """The change of every compared value: difference, interval and verdict, or the reason there is none."""
    out = changes.merge(items[["item", "dimension", "measure"]], on="item")
    out["site_label"] = out["site"].map(site_label)
    return out[CHANGE_CSV_COLUMNS].reset_index(drop=True)


def series_csv(series: pd.DataFrame, site_label) -> pd.DataFrame:
    out = series.copy()
    out["site_label"] = out["site"].map(site_label)
    return out[SERIES_CSV_COLUMNS].reset_index(drop=True)


def _site_label_of(config, tables) -> Callable[[str], str]:
    from thinka import api

    names = dict(zip(tables["comparison_sites"]["site"], tables["comparison_sites"]["name"])) \
        if "comparison_sites" in tables else {s.code: s.name for s in config.sites}
    return lambda s: api.ALL_SITES_LABEL if s == ALL_SITES else names.get(s, s)


def write_comparison_csvs(tables: dict[str, pd.DataFrame], out_dir: Path, codebook, config) -> list[Path]:
    """vergleich_*.csv overall (site `all`) and per site of the current phase (its rows and the total's)."""
    from thinka.io import safe_join

    if "comparison_values" not in tables:
        return []
    label, rules, written = _site_label_of(config, tables), config.disclosure, []
    values, items, changes = tables["comparison_values"], tables["comparison_items"], tables["comparison_changes"]
    series = tables["comparison_series"]
    for site in (ALL_SITES, *config.site_codes):
        folder = out_dir / "daten" if site == ALL_SITES else safe_join(out_dir / "daten" / "standorte", site)
        keep = {ALL_SITES, site}
        for dim in codebook.dimensions:
            frame = comparison_csv(values[values["site"].isin(keep)], items, dim.id, rules, label)
            if len(frame):
                written.append(write_csv(folder / f"vergleich_{dim.id}.csv", frame, out_dir))
        written.append(write_csv(folder / "vergleich_veraenderungen.csv",
                                 change_csv(changes[changes["site"].isin(keep)], items, label), out_dir))
        written.append(write_csv(folder / "vergleich_laufende_statistik.csv",
                                 series_csv(series[series["site"] == site], label), out_dir))
    return written


def table_id(codebook, table) -> str:
    """`<section>_<k>`: the k-th item table (from 1) of its section."""
    return f"{table.section}_{codebook.item_tables_of(table.section).index(table) + 1}"


def write_published_csvs(paths, out_dir: Path, codebook, config) -> list[Path]:
    """Every CSV of daten/ from the processed tables; [] when the phase is not processed."""
    if not (paths.processed / "manifest.json").is_file():
        return []
    from thinka import api
    from thinka.units import Unit, api_units
    from thinka.io import safe_join

    rules = config.disclosure
    dims = {s.id: s.dimension for s in codebook.sections}
    units = [Unit(d.id, site) for d in codebook.dimensions for site in (ALL_SITES, *config.site_codes)]
    bundles = api_units(paths, config, codebook, units)
    written = []
    for site in (ALL_SITES, *config.site_codes):
        folder = out_dir / "daten" if site == ALL_SITES else safe_join(out_dir / "daten" / "standorte", site)
        for sb in codebook.schaubilder:
            frame = api.chart_data(bundles[Unit(dims[sb.section], site)], sb.number)
            written.append(write_csv(folder / f"schaubild_{sb.number:02d}.csv", chart_csv(frame, rules), out_dir))
        for table in codebook.item_tables:
            tid = table_id(codebook, table)
            frame = api.item_table_data(bundles[Unit(dims[table.section], site)], table)
            written.append(write_csv(folder / f"tabelle_{tid}.csv", table_csv(frame, tid, rules), out_dir))
    tables = api.load_tables(paths.phase, root=paths.root)
    label = lambda s: api.ALL_SITES_LABEL if s == ALL_SITES else config.site(s).name  # noqa: E731
    written.append(write_csv(out_dir / "daten" / "ruecklauf.csv",
                             responses_csv(tables["responses"], config, codebook, rules, label), out_dir))
    written.extend(write_comparison_csvs(tables, out_dir, codebook, config))
    return written


def read_published(daten: Path) -> dict[str, pd.DataFrame]:
    """The published CSVs of daten/ as frames: `charts` (every chart row, overall and site files, deduplicated),
    `tables` (every item-table row, deduplicated) and `responses` (ruecklauf.csv)."""
    def load(pattern: str, keys: list[str]) -> pd.DataFrame:
        files = sorted(daten.glob(pattern)) + sorted(daten.glob(f"standorte/*/{pattern}"))
        frames = [pd.read_csv(f, sep=";", dtype={"code": "str", "site": "str", "item": "str", "reason": "str",
                                                  "mark": "str"}, keep_default_na=False, na_values=[""]) for f in files]
        if not frames:
            return pd.DataFrame(columns=keys)
        return pd.concat(frames, ignore_index=True).drop_duplicates(keys).reset_index(drop=True)

    responses = daten / "ruecklauf.csv"
    return {
        "charts": load("schaubild_*.csv", ["item", "site", "code"]),
        "tables": load("tabelle_*.csv", ["item", "site"]),
        "responses": pd.read_csv(responses, sep=";", dtype={"site": "str", "reason": "str"}, keep_default_na=False,
                                 na_values=[""]) if responses.is_file() else pd.DataFrame(columns=RESPONSES_CSV_COLUMNS),
    }
