"""The data API for notebooks and researchers: processed tidy tables, per-unit bundles and chart frames.

Notebooks read data only through :func:`load_unit`; the build fingerprints the very same bundle
(:func:`unit_fingerprint`), so a cached notebook is re-run whenever anything it shows changes.

    >>> from thinka import api
    >>> tables = api.load_tables("2013-2014")          # processes the raw data first if needed
    >>> unit = api.load_unit("2013-2014", "verwaltung", "S01")
    >>> api.chart_data(unit, 17)                        # the rows Schaubild 17 draws
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

import thinka
from thinka import ALL_SITES, COMPARISON
from thinka.codebook import Codebook, ItemTable, PhaseConfig, Schaubild, load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.io import sha256_file
from thinka.paths import PhasePaths, phase_paths

# Label of the comparison bar / column on site pages.
ALL_SITES_LABEL = "Alle Standorte"

# Tables of the unit keyed by item (restricted to the dimension's items).
ITEM_TABLES = ("distributions", "summaries", "mentions")

# Tables that belong to one instrument as a whole (no items), keyed by the kind of instrument that feeds them:
# shown in full by that instrument's dimension.
INSTRUMENT_TABLES = {
    "running_statistics": "running_statistics",
    "interviews": "interviews",
    "interview_partners": "interviews",
    "interview_segments": "interviews",
    "interview_themes": "interviews",
}

COMPARISON_TABLES = ("comparison_items", "comparison_values", "comparison_changes", "comparison_series",
                     "comparison_sites")

CHART_COLUMNS = [
    "schaubild", "item", "series", "site", "site_label", "category", "code", "order",
    "pct", "count", "valid_n", "mean", "suppressed", "reason",
]


@dataclass(eq=False)
class Unit:
    """What one notebook run shows: one dimension for one site (or `all`), with its tables."""

    phase: str
    dimension: str
    site: str
    site_name: str
    paths: PhasePaths
    config: PhaseConfig
    codebook: Codebook
    tables: dict[str, pd.DataFrame]

    @property
    def is_site(self) -> bool:
        """True on a site page (site rows compared with `all` rows), False for the overall unit."""
        return self.site != ALL_SITES

    @property
    def threshold(self) -> int:
        return self.config.disclosure_threshold

    @cached_property
    def facts(self):
        """The unit's named facts (thinka.facts.FactBook), computed once: every section text of the unit binds them."""
        from thinka.facts import compute_facts

        return compute_facts(self.tables, self.config, self.codebook)


# ----------------------------------------------------------------------------------------------------------------
# Processed tables


def _process(paths: PhasePaths) -> None:
    """Bring data/processed/<phase>/ up to date; process_phase itself skips the work when nothing changed."""
    from thinka.process import process_phase

    process_phase(paths)


def load_tables(phase: str, root: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """All processed tidy tables of `phase` by name (`distributions`, `summaries`, `records_<instrument>`, ...).

    Processes the raw data first when the tables are missing or stale (inputs, thinka source or outputs
    changed), so researchers can just call this in JupyterLab.
    """
    paths = phase_paths(phase, Path(root) if root else None)
    _process(paths)  # cheap when current: compares input, source and output hashes with the manifest
    files = sorted(paths.processed.glob("*.parquet"))
    if not files:
        raise ThinkaError(f"No tables in {paths.processed}.", hint="Run `thinka process` and check its messages.")
    return {f.stem: pd.read_parquet(f) for f in files}


# ----------------------------------------------------------------------------------------------------------------
# Units


def _check_choice(kind: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise ThinkaError(f"Unknown {kind} {value!r}; allowed: {', '.join(allowed)}.")


def dimension_items(codebook: Codebook, dimension: str) -> tuple[str, ...]:
    """Items shown by a dimension: its own items plus every item of its sections' Schaubilder and tables."""
    items = [i.id for i in codebook.items_of_dimension(dimension)]
    for section in codebook.sections_of(dimension):
        for sb in codebook.schaubilder_of(section.id):
            items.extend(sb.items)
        for table in codebook.item_tables_of(section.id):
            items.extend(table.items)
    return tuple(dict.fromkeys(items))


def _rows_of_site(df: pd.DataFrame, site: str, with_all: bool) -> pd.DataFrame:
    if site == ALL_SITES or "site" not in df.columns:
        return df
    keep = {site, ALL_SITES} if with_all else {site}
    return df[df["site"].astype(str).isin(keep)]


def restrict_tables(
    tables: dict[str, pd.DataFrame], config: PhaseConfig, codebook: Codebook, dimension: str, site: str
) -> dict[str, pd.DataFrame]:
    """The tables a (dimension, site) unit shows; pure, so tests and the build can use it on any tables."""
    items = set(dimension_items(codebook, dimension))
    instruments = {codebook.items[i].instrument for i in items}
    out: dict[str, pd.DataFrame] = {}
    for name in ITEM_TABLES:
        if name in tables:
            df = tables[name]
            out[name] = _rows_of_site(df[df["item"].astype(str).isin(items)], site, with_all=True)
    for name, kind in INSTRUMENT_TABLES.items():
        inst = config.instruments.get(codebook.instrument_of_kind(kind) or "")
        if name in tables and inst is not None and inst.dimension == dimension:
            # A site page shows its own running statistics and interviews; the overall unit all of them.
            out[name] = _rows_of_site(tables[name], site, with_all=False)
    if "responses" in tables:
        df = tables["responses"]
        out["responses"] = _rows_of_site(df[df["instrument"].astype(str).isin(instruments)], site, with_all=True)
    return {name: df.reset_index(drop=True) for name, df in sorted(out.items())}


def restrict_comparison(tables: dict[str, pd.DataFrame], site: str) -> dict[str, pd.DataFrame]:
    """The comparison tables a site page (or the overall unit) shows: values and changes of the site and of the
    total, the site's own running-statistics series, and the full item and site lists (for the notices)."""
    out = {}
    for name in COMPARISON_TABLES:
        if name not in tables:
            continue
        df = tables[name]
        if name == "comparison_series":
            df = _rows_of_site(df, site, with_all=False)
        elif name != "comparison_sites":
            df = _rows_of_site(df, site, with_all=True)
        out[name] = df.reset_index(drop=True)
    return dict(sorted(out.items()))


def load_comparison(phase: str, site: str, root: str | Path | None = None) -> Unit:
    """The bundle of the comparison notebook: `phase` against its `previous_phase` (phase.yaml), for one site."""
    paths = phase_paths(phase, Path(root) if root else None)
    config = load_phase(paths.config)
    codebook = load_codebook(paths.codebook)
    if config.previous_phase is None:
        raise ThinkaError(f"Phase {phase!r} names no previous_phase in {paths.config}; there is nothing to compare.",
                          hint="Add `previous_phase: <earlier phase>` to phase.yaml.")
    _check_choice("site", site, [*config.site_codes, ALL_SITES])
    tables = restrict_comparison(load_tables(phase, paths.root), site)
    site_name = ALL_SITES_LABEL if site == ALL_SITES else config.site(site).name
    return Unit(phase, COMPARISON, site, site_name, paths, config, codebook, tables)


def load_unit(phase: str, dimension: str, site: str, root: str | Path | None = None) -> Unit:
    """The bundle one notebook run shows: dimension × site (site `all` = overall)."""
    paths = phase_paths(phase, Path(root) if root else None)
    config = load_phase(paths.config)
    codebook = load_codebook(paths.codebook)
    _check_choice("dimension", dimension, [d.id for d in codebook.dimensions])
    _check_choice("site", site, [*config.site_codes, ALL_SITES])
    tables = restrict_tables(load_tables(phase, paths.root), config, codebook, dimension, site)
    site_name = ALL_SITES_LABEL if site == ALL_SITES else config.site(site).name
    return Unit(phase, dimension, site, site_name, paths, config, codebook, tables)


def _frame_bytes(df: pd.DataFrame) -> bytes:
    # Column names, dtypes and values; to_csv gives one canonical text for floats, NA and categoricals.
    header = json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode()
    return header + b"\n" + df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def unit_fingerprint(unit: Unit) -> str:
    """sha256 over the unit's identity, its tables and the phase's config, codebook and texts (the cache key)."""
    h = hashlib.sha256()
    h.update(f"{unit.phase}\0{unit.dimension}\0{unit.site}\0".encode())
    for name in sorted(unit.tables):
        data = _frame_bytes(unit.tables[name])
        h.update(f"table {name} {len(data)}\0".encode())
        h.update(data)
    files = [unit.paths.config, unit.paths.codebook]
    if unit.paths.texts.is_dir():
        files.extend(sorted(p for p in unit.paths.texts.rglob("*") if p.is_file()))
    files.append(unit.paths.settings)
    for path in files:
        rel = path.relative_to(unit.paths.root).as_posix()
        h.update(f"file {rel} {sha256_file(path) if path.is_file() else '-'}\0".encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# Frames the charts and tables draw


def _site_label(unit: Unit, site: str) -> str:
    return ALL_SITES_LABEL if site == ALL_SITES else unit.config.site(site).name


def _sites_shown(unit: Unit) -> list[str]:
    """Bars per series: the site and `all` on a site page, only `all` for the overall unit."""
    return [unit.site, ALL_SITES] if unit.is_site else [ALL_SITES]


def series_label(unit: Unit, item_id: str) -> str:
    item = unit.codebook.items[item_id]
    return item.series_label or item.short or item.wording


def _stacked_rows(unit: Unit, sb: Schaubild) -> list[dict]:
    dist = unit.tables.get("distributions", pd.DataFrame(columns=["item", "site"]))
    summ = unit.tables.get("summaries", pd.DataFrame(columns=["item", "site", "mean"]))
    rows = []
    for item_id in sb.items:
        scale = unit.codebook.scale_of(item_id)
        for site in _sites_shown(unit):
            part = dist[(dist["item"].astype(str) == item_id) & (dist["site"].astype(str) == site)]
            means = summ[(summ["item"].astype(str) == item_id) & (summ["site"].astype(str) == site)]["mean"]
            mean = float(means.iloc[0]) if len(means) and pd.notna(means.iloc[0]) else float("nan")
            by_code = {str(r["code"]): r for r in part.to_dict("records")}
            for order, level in enumerate(scale.levels, start=1):
                r = by_code.get(str(level.code))
                rows.append({
                    "schaubild": sb.number, "item": item_id, "series": series_label(unit, item_id),
                    "site": site, "site_label": _site_label(unit, site), "category": level.label,
                    "code": str(level.code), "order": order,
                    # No row at all: the site has no data for this instrument ("–"), not a suppressed value.
                    "pct": _num(r, "pct"), "count": _num(r, "count"),
                    "valid_n": _num(r, "valid_n") if r is not None else 0.0,
                    "mean": mean if scale.kind == "grade" else float("nan"),
                    "suppressed": _is_suppressed(r), "reason": hidden_reason(r, "valid_n"),
                })
    return rows


REASONS = ("", "primary", "secondary", "no_answers", "not_applicable")
"""Why a site value is not shown: "" (shown), "primary" (too few answers), "secondary" (hidden to protect another
value), "no_answers" (the site took part but nobody answered), "not_applicable" (the site does not take part in the
instrument, e.g. no steering group)."""


def _is_suppressed(record: dict | None) -> bool:
    return bool(record["suppressed"]) if record is not None and pd.notna(record.get("suppressed")) else False


def hidden_reason(record: dict | None, n_key: str) -> str:
    """The REASONS value of one row of an aggregate table (None: the site has no row at all)."""
    if record is None:
        return "not_applicable"
    if _is_suppressed(record):
        return str(record.get("suppression") or "primary")
    n = record.get(n_key)
    return "no_answers" if n is None or pd.isna(n) or n == 0 else ""


def _num(record: dict | None, key: str) -> float:
    if record is None or key not in record or pd.isna(record[key]):
        return float("nan")
    return float(record[key])


def _mention_rows(unit: Unit, sb: Schaubild) -> list[dict]:
    ment = unit.tables.get("mentions", pd.DataFrame(columns=["item", "site"]))
    rows = []
    for item_id in sb.items:
        item = unit.codebook.items[item_id]
        for site in _sites_shown(unit):
            part = ment[(ment["item"].astype(str) == item_id) & (ment["site"].astype(str) == site)]
            by_option = {str(r["option"]): r for r in part.to_dict("records")}
            for order, option in enumerate(item.options, start=1):
                r = by_option.get(option.column)
                rows.append({
                    "schaubild": sb.number, "item": item_id, "series": series_label(unit, item_id),
                    "site": site, "site_label": _site_label(unit, site), "category": option.label,
                    "code": option.column, "order": order,
                    "pct": _num(r, "pct_mentions"), "count": _num(r, "count"),
                    # The N of a multiple-response chart is the number of mentions (as the 2015 report prints).
                    "valid_n": _num(r, "mentions") if r is not None else 0.0,
                    "mean": float("nan"),
                    "suppressed": _is_suppressed(r), "reason": hidden_reason(r, "mentions"),
                })
    return rows


def chart_data(unit: Unit, schaubild_number: int) -> pd.DataFrame:
    """The tidy rows one Schaubild draws (and the CSV beside the report exports).

    One row per (series, site, category). `pct` is unrounded 0–100; a suppressed site value has `pct` NA and
    `suppressed` True; a site without data for the instrument has `pct` NA, `valid_n` 0 and `suppressed` False.
    Multiple-response rows are sorted by the overall count (largest first), stacked rows by the scale order.
    """
    sb = unit.codebook.schaubild(schaubild_number)
    section = next(s for s in unit.codebook.sections if s.id == sb.section)
    if section.dimension != unit.dimension:
        raise ThinkaError(
            f"Schaubild {schaubild_number} belongs to dimension {section.dimension!r}, not {unit.dimension!r}."
        )
    rows = _mention_rows(unit, sb) if sb.chart == "mentions" else _stacked_rows(unit, sb)
    df = pd.DataFrame(rows, columns=CHART_COLUMNS)
    df = df.astype({"pct": "float64", "count": "float64", "valid_n": "float64", "mean": "float64",
                    "order": "int64", "schaubild": "int64", "suppressed": "bool"})
    if sb.chart == "mentions":
        overall = df[df["site"] == ALL_SITES].set_index("code")["count"]
        # Largest overall count first; ties keep the codebook order; the site's row before the `all` row.
        rank = overall.fillna(-1).sort_index(key=lambda c: c.map(dict(zip(df["code"], df["order"]))))
        rank = {code: i for i, code in enumerate(rank.sort_values(ascending=False, kind="stable").index)}
        df = df.assign(_rank=df["code"].map(rank), _all=df["site"] == ALL_SITES)
        df = df.sort_values(["_rank", "_all"], kind="stable").drop(columns=["_rank", "_all"])
    return df.reset_index(drop=True)


def item_table_data(unit: Unit, table: ItemTable) -> pd.DataFrame:
    """Rows of an item table: item, wording, site, valid_n, top (% in the scale's top codes), top_labels."""
    summ = unit.tables.get("summaries", pd.DataFrame(columns=["item", "site"]))
    rows = []
    for item_id in table.items:
        scale = unit.codebook.scale_of(item_id)
        for site in _sites_shown(unit):
            part = summ[(summ["item"].astype(str) == item_id) & (summ["site"].astype(str) == site)]
            r = part.to_dict("records")[0] if len(part) else None
            rows.append({
                "item": item_id, "wording": unit.codebook.items[item_id].wording, "site": site,
                "site_label": _site_label(unit, site), "valid_n": _num(r, "valid_n") if r is not None else 0.0,
                "top": _num(r, "top2"), "top_labels": " / ".join(scale.label(c) for c in scale.top),
                "suppressed": _is_suppressed(r), "reason": hidden_reason(r, "valid_n"),
            })
    return pd.DataFrame(rows)


def running_statistics(unit: Unit) -> pd.DataFrame:
    """Running statistics of the unit in wide form: quarter × measures (site `all` or the site), `total` last."""
    ps = unit.tables.get("running_statistics")
    if ps is None or ps.empty:
        return pd.DataFrame(columns=["quarter"])
    site = unit.site if unit.is_site else ALL_SITES
    part = ps[ps["site"].astype(str) == site]
    wide = part.pivot(index="quarter", columns="measure", values="value").reset_index()
    wide.columns.name = None
    quarters = [q for q in unit.config.quarters if q in set(wide["quarter"])] + ["total"]
    wide = wide.set_index("quarter").reindex([q for q in quarters if q in set(wide["quarter"])]).reset_index()
    return wide[["quarter", *measure_columns(unit, wide)]]


def running_statistics_by_site(unit: Unit) -> pd.DataFrame:
    """Totals of the phase per site (overall unit only): site, site_label and one column per measure."""
    ps = unit.tables.get("running_statistics")
    if ps is None or ps.empty or unit.is_site:
        return pd.DataFrame(columns=["site"])
    part = ps[ps["quarter"].astype(str) == "total"]
    wide = part.pivot(index="site", columns="measure", values="value").reset_index()
    wide.columns.name = None
    order = [*unit.config.site_codes, ALL_SITES]
    wide = wide.set_index("site").reindex([s for s in order if s in set(wide["site"])]).reset_index()
    wide.insert(1, "site_label", [_site_label(unit, s) for s in wide["site"]])
    return wide[["site", "site_label", *measure_columns(unit, wide)]]


def measure_columns(unit: Unit, df: pd.DataFrame) -> list[str]:
    """Measure columns in codebook order (the integer columns of the running-statistics instrument)."""
    spec = unit.codebook.instruments.get(unit.codebook.instrument_of_kind("running_statistics") or "")
    known = [c.name for c in spec.columns if c.type == "integer"] if spec else []
    return [c for c in known if c in df.columns] + sorted(
        c for c in df.columns if c not in known and c not in ("quarter", "site", "site_label")
    )


def measure_label(unit: Unit, measure: str) -> str:
    spec = unit.codebook.instruments.get(unit.codebook.instrument_of_kind("running_statistics") or "")
    for col in spec.columns if spec else ():
        if col.name == measure and col.label:
            return col.label
    return measure


def interview_partners(unit: Unit) -> pd.DataFrame:
    """Interviews per partner type of the unit's site (or `all`), codebook order: partner, label, interviews."""
    tp = unit.tables.get("interview_partners")
    if tp is None:
        return pd.DataFrame(columns=["partner", "label", "interviews"])
    site = unit.site if unit.is_site else ALL_SITES
    part = tp[tp["site"].astype(str) == site].sort_values("order")
    return part[["partner", "label", "interviews"]].reset_index(drop=True)


def interview_themes(unit: Unit) -> pd.DataFrame:
    """Themes of the unit's site (or `all`) in codebook order: theme, theme_label, order, segments, interviews."""
    th = unit.tables.get("interview_themes")
    if th is None:
        return pd.DataFrame(columns=["theme", "theme_label", "order", "segments", "interviews"])
    site = unit.site if unit.is_site else ALL_SITES
    part = th[th["site"].astype(str) == site].sort_values("order")
    return part[["theme", "theme_label", "order", "segments", "interviews"]].reset_index(drop=True)


def interview_statements(unit: Unit) -> pd.DataFrame:
    """Coded statements in theme order (the scale of the interview instrument's theme column), then interview and
    segment: theme, theme_label, interview, segment, site, partner, statement."""
    seg = unit.tables.get("interview_segments")
    if seg is None:
        return pd.DataFrame(columns=["theme", "theme_label", "interview", "segment", "site", "partner", "statement"])
    iid = unit.codebook.instrument_of_kind("interviews")
    codes = unit.codebook.role_scale(iid, "theme").codes if iid else ()
    order = {str(c): i for i, c in enumerate(codes)}
    df = seg.assign(_order=seg["theme"].astype(str).map(order))
    return df.sort_values(["_order", "interview", "segment"]).drop(columns="_order").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------------------
# Prose


def section_text(unit: Unit, section_id: str, part: str = "abschnitt") -> str | None:
    """The section's German prose as HTML: its intro (`part="abschnitt"`, before the charts) or its summary box
    (`part="zusammenfassung"`, after them); None on site pages or when the phase has no such text."""
    from thinka.texts import render_section

    return render_section(unit, section_id, part=part)
