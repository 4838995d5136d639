"""Tidy aggregates of the cleaned records (the tables of docs/architecture.md), with disclosure control applied.

Every function here is pure: cleaned record frames (schema of `thinka.clean`) and codebook objects in, tidy
DataFrames out. Which items go into which table follows from the codebook (scale kinds, item options, column
types and roles), never from a programme's names: the site and quarter columns are found by their type, the columns
of an interview instrument by their role (`thinka.codebook.INTERVIEW_ROLES`), and the pure functions take those
column names as arguments. The interview tables use thinka's own column names (`SCHEMAS`), whatever the programme
calls its columns.

Row order, everywhere: item order of the codebook, then site order with the overall row **first**
(`thinka.ALL_SITES`, then the sites in `phase.yaml` order), then the category / option / quarter / measure order
of the codebook. Every allowed site of an instrument appears, also with no rows at all (valid_n 0, shares NA).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from thinka import ALL_SITES
from thinka.codebook import INTERVIEW_ROLES, Codebook, PhaseConfig, Scale
from thinka.disclosure import Publication, suppress_published

DISTRIBUTION_KINDS = ("ordinal", "grade", "nominal")
"""Scale kinds tabulated level by level in `distributions`."""
SUMMARY_KINDS = (*DISTRIBUTION_KINDS, "count")
"""Scale kinds with a row per site in `summaries` (count items appear there only)."""
MEAN_KINDS = ("grade", "count")
"""Scale kinds whose arithmetic mean is meaningful: grades (mean of the codes) and counts."""
TOTAL_QUARTER = "total"
"""`quarter` value of running_statistics rows summed over the phase."""

SCHEMAS: dict[str, dict[str, str]] = {
    "distributions": {
        "item": "str", "instrument": "str", "site": "str", "code": "str", "label": "str", "order": "int64",
        "count": "int64", "valid_n": "int64", "pct": "float64",
    },
    "summaries": {
        "item": "str", "instrument": "str", "site": "str", "n_rows": "int64", "valid_n": "int64",
        "missing_n": "int64", "top2": "float64", "bottom2": "float64", "mean": "float64",
    },
    "mentions": {
        "item": "str", "site": "str", "option": "str", "label": "str", "order": "int64", "count": "int64",
        "mentions": "int64", "respondents": "int64", "pct_mentions": "float64", "pct_respondents": "float64",
    },
    "running_statistics": {"site": "str", "quarter": "str", "measure": "str", "value": "Int64"},
    "interviews": {
        "interview": "str", "site": "str", "partner": "str", "partner_label": "str",
        "date": "datetime64[ns]", "duration_min": "Int64", "segments": "int64",
    },
    "interview_segments": {
        "interview": "str", "segment": "Int64", "site": "str", "partner": "str", "theme": "str",
        "theme_label": "str", "statement": "str",
    },
    "interview_themes": {
        "site": "str", "theme": "str", "theme_label": "str", "order": "int64", "segments": "int64",
        "interviews": "int64",
    },
    "interview_partners": {"site": "str", "partner": "str", "label": "str", "order": "int64", "interviews": "int64"},
    "responses": {"instrument": "str", "site": "str", "n": "int64"},
}
"""Column names and dtypes of every table before disclosure control (which adds `suppressed`, `suppression`
and turns suppressed integer value columns into nullable Int64)."""

# What disclosure control does to each table: value columns blanked, the n that decides, the decision group.
DISCLOSURE = {
    "distributions": {"value_columns": ("count", "pct"), "n_column": "valid_n", "group_columns": ("item",)},
    "summaries": {"value_columns": ("top2", "bottom2", "mean"), "n_column": "valid_n", "group_columns": ("item",)},
    "mentions": {
        "value_columns": ("count", "pct_mentions", "pct_respondents"),
        "n_column": "respondents",
        "group_columns": ("item",),
    },
}


# ----------------------------------------------------------------------------------------------------------------
# helpers


def site_order(sites: Sequence[str]) -> tuple[str, ...]:
    """The `site` values of a table in row order: the overall row first, then `sites` as given."""
    return (ALL_SITES, *sites)


def _frame(rows: list[dict], table: str) -> pd.DataFrame:
    """Rows → DataFrame with the table's columns and dtypes (also when there are no rows)."""
    schema = SCHEMAS[table]
    return pd.DataFrame(rows, columns=list(schema)).astype(schema)


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _site_masks(df: pd.DataFrame, sites: Sequence[str], site_column: str) -> list[tuple[str, np.ndarray]]:
    """(site, row mask) for the overall row and every site, in `site_order`."""
    codes = df[site_column].astype("str")
    unknown = sorted(set(codes.dropna()) - set(sites))
    if unknown:
        # The overall row must equal the sum of the site rows, or disclosure control could be undone by differencing.
        raise ValueError(f"Column {site_column!r} holds sites {unknown} outside the allowed sites {list(sites)}.")
    masks = [(ALL_SITES, np.ones(len(df), dtype=bool))]
    return masks + [(s, (codes == s).fillna(False).to_numpy(dtype=bool)) for s in sites]


def _level_positions(series: pd.Series, scale: Scale, item: str) -> np.ndarray:
    """Position of each value's label among the scale's levels (-1 = missing); rejects labels not in the scale."""
    values = series.astype("object")
    present = values.dropna()
    unknown = sorted(set(present.astype(str)) - set(scale.labels))
    if unknown:
        raise ValueError(
            f"Item {item!r}: values {unknown} are not labels of scale {scale.id!r} ({list(scale.labels)}); "
            "aggregates expect cleaned records (labels, not codes)."
        )
    categorical = pd.Categorical(values, categories=list(scale.labels))
    return np.asarray(categorical.codes, dtype=np.int64)


def _require_kind(item: str, scale: Scale, kinds: Sequence[str]) -> None:
    if scale.kind not in kinds:
        raise ValueError(f"Item {item!r} has a scale of kind {scale.kind!r}; expected one of {list(kinds)}.")


# ----------------------------------------------------------------------------------------------------------------
# distributions, summaries, mentions


def distributions(
    df: pd.DataFrame, items: Sequence[str], codebook: Codebook, sites: Sequence[str], *, site_column: str
) -> pd.DataFrame:
    """Answers per level of each (ordinal, grade or nominal) item, per site and over all sites.

    Every level appears, with count 0 too; `pct` = 100 · count / valid_n (NA when valid_n is 0); missing answers
    are not part of valid_n. `code` is the level's code as a string, `order` its 1-based position in the scale.
    """
    rows = []
    for item in items:
        scale = codebook.scale_of(item)
        _require_kind(item, scale, DISTRIBUTION_KINDS)
        positions = _level_positions(df[item], scale, item)
        instrument = codebook.items[item].instrument
        for site, mask in _site_masks(df, sites, site_column):
            counts = np.bincount(positions[mask & (positions >= 0)], minlength=len(scale.levels))
            valid_n = int(counts.sum())
            for order, (level, count) in enumerate(zip(scale.levels, counts, strict=True), start=1):
                rows.append({
                    "item": item, "instrument": instrument, "site": site, "code": str(level.code),
                    "label": level.label, "order": order, "count": int(count), "valid_n": valid_n,
                    "pct": _pct(count, valid_n),
                })
    return _frame(rows, "distributions")


def _item_values(series: pd.Series, scale: Scale, item: str) -> tuple[np.ndarray, np.ndarray]:
    """(valid mask, numeric value) per row: the code for grade scales, the number for count scales, else NaN."""
    if scale.kind == "count":
        numbers = pd.to_numeric(series).astype("float64").to_numpy()
        return ~np.isnan(numbers), numbers
    positions = _level_positions(series, scale, item)
    valid = positions >= 0
    if scale.kind not in MEAN_KINDS:
        return valid, np.full(len(series), np.nan)
    codes = np.asarray([float(c) for c in scale.codes])
    return valid, np.where(valid, codes[np.clip(positions, 0, None)], np.nan)


def _code_share(series: pd.Series, scale: Scale, item: str, codes: Sequence) -> np.ndarray:
    """Per row: True if the answer is one of `codes` (for top-2 / bottom-2)."""
    if not codes or scale.kind == "count":
        return np.zeros(len(series), dtype=bool)
    positions = _level_positions(series, scale, item)
    wanted = [i for i, c in enumerate(scale.codes) if c in codes]
    return np.isin(positions, wanted)


def summaries(
    df: pd.DataFrame, items: Sequence[str], codebook: Codebook, sites: Sequence[str], *, site_column: str
) -> pd.DataFrame:
    """Per item and site: rows, valid and missing answers, top-2 / bottom-2 share and mean.

    n_rows = questionnaires of the site; top2 / bottom2 = % of the valid answers in the scale's `top` / `bottom`
    codes (NA when the scale defines none, or valid_n is 0); mean = arithmetic mean of the codes for grade scales
    and of the values for count scales (NA for other kinds).
    """
    rows = []
    for item in items:
        scale = codebook.scale_of(item)
        _require_kind(item, scale, SUMMARY_KINDS)
        valid, numbers = _item_values(df[item], scale, item)
        top = _code_share(df[item], scale, item, scale.top)
        bottom = _code_share(df[item], scale, item, scale.bottom)
        for site, mask in _site_masks(df, sites, site_column):
            n_rows, valid_n = int(mask.sum()), int((mask & valid).sum())
            rows.append({
                "item": item, "instrument": codebook.items[item].instrument, "site": site,
                "n_rows": n_rows, "valid_n": valid_n, "missing_n": n_rows - valid_n,
                "top2": _pct((mask & top).sum(), valid_n) if scale.top and scale.kind != "count" else np.nan,
                "bottom2": _pct((mask & bottom).sum(), valid_n) if scale.bottom and scale.kind != "count" else np.nan,
                "mean": float(numbers[mask & valid].mean()) if valid_n and scale.kind in MEAN_KINDS else np.nan,
            })
    return _frame(rows, "summaries")


def _chosen(df: pd.DataFrame, columns: Sequence[str], item: str) -> np.ndarray:
    """Rows × options boolean matrix: option mentioned (1). NA counts as not mentioned."""
    block = df[list(columns)]
    bad = block.notna() & ~block.isin([0, 1])
    if bad.to_numpy().any():
        raise ValueError(f"Item {item!r}: mention columns must hold 0, 1 or NA.")
    return block.eq(1).fillna(False).to_numpy(dtype=bool)


def mentions(
    df: pd.DataFrame, items: Sequence[str], codebook: Codebook, sites: Sequence[str], *, site_column: str
) -> pd.DataFrame:
    """Multiple-response sets: per option and site, how often it was mentioned.

    count = rows mentioning the option; mentions = all mentions of the set at the site (the N the 2015 report
    prints, e.g. N = 134); respondents = rows with at least one mention (rows with no option ticked are not
    counted: they cannot be told apart from skipped questions); pct_mentions = 100 · count / mentions;
    pct_respondents = 100 · count / respondents (both NA when the denominator is 0).
    """
    rows = []
    for item_id in items:
        item = codebook.items[item_id]
        if not item.is_multiple_response:
            raise ValueError(f"Item {item_id!r} has no options; mentions need a multiple-response item.")
        chosen = _chosen(df, item.columns, item_id)
        for site, mask in _site_masks(df, sites, site_column):
            counts = chosen[mask].sum(axis=0)
            total, respondents = int(counts.sum()), int(chosen[mask].any(axis=1).sum())
            for order, (option, count) in enumerate(zip(item.options, counts, strict=True), start=1):
                rows.append({
                    "item": item_id, "site": site, "option": option.column, "label": option.label, "order": order,
                    "count": int(count), "mentions": total, "respondents": respondents,
                    "pct_mentions": _pct(count, total), "pct_respondents": _pct(count, respondents),
                })
    return _frame(rows, "mentions")


# ----------------------------------------------------------------------------------------------------------------
# running statistics


def running_statistics(
    df: pd.DataFrame,
    quarters: Sequence[str],
    sites: Sequence[str],
    measures: Sequence[str],
    *,
    site_column: str,
    quarter_column: str,
) -> pd.DataFrame:
    """Running statistics in long format: site, quarter, measure, value.

    Rows: every site (overall first) × every quarter plus `quarter == "total"` × every measure. A site-quarter
    without a reported value is NA, and so is every sum it enters: a total that silently leaves out a quarter
    would be wrong, not small.
    """
    keys = pd.DataFrame({"site": df[site_column].astype("str"), "quarter": df[quarter_column].astype("str")})
    if keys.duplicated().any():
        raise ValueError("Running statistics: more than one row for a site and quarter.")
    unknown = sorted(set(keys["quarter"].dropna()) - set(quarters))
    if unknown:
        raise ValueError(f"Running statistics: quarters {unknown} are outside the phase ({list(quarters)}).")
    _site_masks(df, sites, site_column)  # rejects unknown sites
    # cells[site, quarter, measure]; NaN = not reported. np.sum propagates NaN into the totals.
    cells = np.full((len(sites), len(quarters), len(measures)), np.nan)
    site_pos = keys["site"].map({s: i for i, s in enumerate(sites)})
    quarter_pos = keys["quarter"].map({q: i for i, q in enumerate(quarters)})
    values = df[list(measures)].astype("float64").to_numpy()
    ok = site_pos.notna() & quarter_pos.notna()
    cells[site_pos[ok].astype(int), quarter_pos[ok].astype(int)] = values[ok.to_numpy()]
    with_totals = np.concatenate([cells, cells.sum(axis=1, keepdims=True)], axis=1)
    table = np.concatenate([with_totals.sum(axis=0, keepdims=True), with_totals], axis=0)
    rows = [
        {"site": site, "quarter": quarter, "measure": measure, "value": table[i, j, k]}
        for i, site in enumerate(site_order(sites))
        for j, quarter in enumerate((*quarters, TOTAL_QUARTER))
        for k, measure in enumerate(measures)
    ]
    return _frame(rows, "running_statistics")


# ----------------------------------------------------------------------------------------------------------------
# interviews


def _code_labels(scale: Scale) -> dict[str, str]:
    return {str(lv.code): lv.label for lv in scale.levels}


def _check_roles(df: pd.DataFrame, roles: Mapping[str, str]) -> None:
    """`roles` names a column of `df` for every interview role."""
    absent = [role for role in INTERVIEW_ROLES if role not in roles]
    if absent:
        raise ValueError(f"Interview tables need a column for every role; no column given for {absent}.")
    missing = sorted({roles[role] for role in INTERVIEW_ROLES} - set(df.columns))
    if missing:
        raise ValueError(f"Interview records lack the columns {missing} (roles: {dict(roles)}).")


def _interview_segments(df: pd.DataFrame, sites, roles: Mapping[str, str], theme_scale: Scale,
                        site_column: str) -> pd.DataFrame:
    out = pd.DataFrame({
        "interview": df[roles["interview"]].astype("str"),
        "segment": df[roles["segment"]],
        "site": df[site_column].astype("str"),
        "partner": df[roles["partner"]].astype("str"),
        "theme": df[roles["theme"]].astype("str"),
        "statement": df[roles["statement"]].astype("str"),
    })
    out["theme_label"] = out["theme"].map(_code_labels(theme_scale))
    rank = out["site"].map({s: i for i, s in enumerate(sites)})
    out = out.assign(_rank=rank).sort_values(["_rank", "interview", "segment"], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)[list(SCHEMAS["interview_segments"])].astype(
        SCHEMAS["interview_segments"]
    )


def _interviews(df: pd.DataFrame, segments: pd.DataFrame, roles: Mapping[str, str], partner_scale: Scale,
                site_column: str) -> pd.DataFrame:
    """One row per interview in the order of `segments` (site order, then id); descriptors from its first segment."""
    first = df.assign(_interview=df[roles["interview"]].astype("str")).drop_duplicates("_interview")
    first = first.set_index("_interview")
    ids = segments["interview"].drop_duplicates()
    out = pd.DataFrame({
        "interview": ids.to_numpy(),
        "site": first.loc[ids, site_column].astype("str").to_numpy(),
        "partner": first.loc[ids, roles["partner"]].astype("str").to_numpy(),
        "date": first.loc[ids, roles["date"]].to_numpy(),
        "duration_min": first.loc[ids, roles["duration"]].to_numpy(),
        "segments": segments["interview"].value_counts().reindex(ids).to_numpy(),
    })
    out["partner_label"] = out["partner"].map(_code_labels(partner_scale))
    return out[list(SCHEMAS["interviews"])].astype(SCHEMAS["interviews"])


def _per_site_levels(frame: pd.DataFrame, sites, scale: Scale, column: str, count) -> list[dict]:
    """One row per site (overall first) × level of `scale`, with the measures of `count(rows of that level)`."""
    rows = []
    for site in site_order(sites):
        at_site = frame if site == ALL_SITES else frame[frame["site"] == site]
        for order, level in enumerate(scale.levels, start=1):
            rows.append({"site": site, column: str(level.code), "order": order, **count(at_site[at_site[column] == str(level.code)])})
    return rows


def interview_tables(
    df: pd.DataFrame,
    sites: Sequence[str],
    *,
    roles: Mapping[str, str],
    partner_scale: Scale,
    theme_scale: Scale,
    site_column: str,
) -> dict[str, pd.DataFrame]:
    """The four interview tables from the cleaned coded segments (one row per interview segment).

    `roles` maps every interview role (`thinka.codebook.INTERVIEW_ROLES`) to the column of `df` that plays it
    (`InstrumentSpec.roles`); the tables use thinka's own column names, whatever the columns are called:

    - interviews: one row per interview (interview, site, partner, partner_label, date, duration_min, segments),
      in site order, then interview id;
    - interview_segments: the coded statements (interview, segment, site, partner, theme, theme_label,
      statement) in the same order, then segment;
    - interview_themes: per site (overall first) and theme: coded segments and distinct interviews; every theme
      of `theme_scale` appears, with 0 too;
    - interview_partners: per site (overall first) and partner type: distinct interviews.
    """
    _check_roles(df, roles)
    _site_masks(df, sites, site_column)  # rejects unknown sites
    segments = _interview_segments(df, sites, roles, theme_scale, site_column)
    interviews = _interviews(df, segments, roles, partner_scale, site_column)
    themes = _per_site_levels(
        segments, sites, theme_scale, "theme",
        lambda rows: {"segments": len(rows), "interviews": rows["interview"].nunique()},
    )
    partners = _per_site_levels(
        interviews, sites, partner_scale, "partner", lambda rows: {"interviews": rows["interview"].nunique()}
    )
    theme_labels, partner_labels = _code_labels(theme_scale), _code_labels(partner_scale)
    for row in themes:
        row["theme_label"] = theme_labels[row["theme"]]
    for row in partners:
        row["label"] = partner_labels[row["partner"]]
    return {
        "interviews": interviews,
        "interview_segments": segments,
        "interview_themes": _frame(themes, "interview_themes"),
        "interview_partners": _frame(partners, "interview_partners"),
    }


# ----------------------------------------------------------------------------------------------------------------
# responses


def responses(
    df: pd.DataFrame,
    instrument: str,
    sites: Sequence[str],
    *,
    site_column: str,
    unit_column: str | None = None,
) -> pd.DataFrame:
    """Returned questionnaires per site and overall: rows, or distinct `unit_column` values (e.g. the interview id
    of an instrument with one row per interview segment)."""
    rows = []
    for site, mask in _site_masks(df, sites, site_column):
        n = int(mask.sum()) if unit_column is None else int(df.loc[mask, unit_column].nunique())
        rows.append({"instrument": instrument, "site": site, "n": n})
    return _frame(rows, "responses")


# ----------------------------------------------------------------------------------------------------------------
# everything


def _site_column(codebook: Codebook, instrument: str) -> str:
    columns = codebook.instruments[instrument].columns_of_type("site")
    if len(columns) != 1:
        raise ValueError(f"Instrument {instrument!r} needs exactly one column of type 'site', has {list(columns)}.")
    return columns[0]


def _item_table(table: str, function, select, records, config, codebook) -> pd.DataFrame:
    """`function` applied item by item, in codebook order, to the items for which `select(item, scale)` holds."""
    frames = [
        function(
            records[item.instrument], [item.id], codebook, config.allowed_sites(item.instrument),
            site_column=_site_column(codebook, item.instrument),
        )
        for item in codebook.items.values()
        if select(item, codebook.scales[item.scale])
    ]
    return pd.concat(frames, ignore_index=True) if frames else _frame([], table)


def _all_running_statistics(records, config, codebook) -> pd.DataFrame:
    frames = []
    for instrument in config.instruments:
        spec = codebook.instruments[instrument]
        quarter = spec.columns_of_type("quarter")
        if not quarter:
            continue
        frames.append(running_statistics(
            records[instrument], config.quarters, config.allowed_sites(instrument), spec.measures,
            site_column=_site_column(codebook, instrument), quarter_column=quarter[0],
        ))
    return pd.concat(frames, ignore_index=True) if frames else _frame([], "running_statistics")


def _interview_instruments(codebook: Codebook) -> list[str]:
    return [
        iid for iid, spec in codebook.instruments.items() if spec.kind == "interviews"
    ]


def _all_interview_tables(records, config, codebook) -> dict[str, pd.DataFrame]:
    instruments = _interview_instruments(codebook)
    names = ("interviews", "interview_segments", "interview_themes", "interview_partners")
    if not instruments:
        return {name: _frame([], name) for name in names}
    if len(instruments) > 1:
        raise ValueError(f"More than one interview instrument in the codebook: {instruments}.")
    iid = instruments[0]
    return interview_tables(
        records[iid], config.allowed_sites(iid),
        roles=codebook.instruments[iid].roles,
        partner_scale=codebook.role_scale(iid, "partner"),
        theme_scale=codebook.role_scale(iid, "theme"),
        site_column=_site_column(codebook, iid),
    )


def _responses(records, config, codebook) -> pd.DataFrame:
    frames = []
    for iid in config.instruments:
        # An instrument whose rows are parts of a larger unit (interview segments) counts the distinct units: the
        # interview column of an interview instrument, else the group of `constant_within`.
        spec = codebook.instruments[iid]
        unit = spec.roles.get("interview") or next(iter(spec.constant_within), None)
        frames.append(responses(
            records[iid], iid, config.allowed_sites(iid), site_column=_site_column(codebook, iid), unit_column=unit
        ))
    return pd.concat(frames, ignore_index=True) if frames else _frame([], "responses")


def publications(codebook: Codebook) -> dict[str, Publication]:
    """How each item is published (Schaubild: full distribution or mentions; item table: top share and n): what
    the disclosure decision must protect."""
    charts = {item: sb.chart for sb in codebook.schaubilder for item in sb.items}
    tabled = {item for table in codebook.item_tables for item in table.items}
    out = {}
    for item_id, item in codebook.items.items():
        scale = codebook.scales[item.scale]
        chart = charts.get(item_id)
        out[item_id] = Publication(
            instrument=item.instrument,
            chart=None if chart is None else ("mentions" if chart == "mentions" else "distribution"),
            table=item_id in tabled,
            # a top share per site is published only by the item tables
            top=tuple(str(c) for c in scale.top) if item_id in tabled else (),
            values={str(c): float(c) for c in scale.codes} if scale.kind == "grade" else None,
        )
    return out


def build_tables(
    records: Mapping[str, pd.DataFrame],
    config: PhaseConfig,
    codebook: Codebook,
    *,
    threshold: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Every tidy table of docs/architecture.md, keyed by file stem, with disclosure control applied.

    `records` maps every instrument id of `config` to its cleaned record frame. `threshold` overrides the
    phase's disclosure threshold. distributions, summaries and mentions are suppressed per (item, site) by
    `thinka.disclosure.suppress_published` under the phase's `DisclosureRules`, modelling what the report
    publishes of each item (`publications`) and the returned questionnaires per site; running_statistics,
    responses and the interview tables are not suppressed (see there).
    """
    missing = [iid for iid in config.instruments if iid not in records]
    if missing:
        raise ValueError(f"No cleaned records for instruments {missing}.")
    rules = config.disclosure if threshold is None else replace(config.disclosure, threshold=threshold)
    tables = {
        "distributions": _item_table(
            "distributions", distributions, lambda _, scale: scale.kind in DISTRIBUTION_KINDS, records, config, codebook
        ),
        "summaries": _item_table(
            "summaries", summaries, lambda _, scale: scale.kind in SUMMARY_KINDS, records, config, codebook
        ),
        "mentions": _item_table(
            "mentions", mentions, lambda item, _: item.is_multiple_response, records, config, codebook
        ),
    }
    tables["responses"] = _responses(records, config, codebook)
    tables.update(suppress_published(
        tables, publications(codebook), rules, site_order=config.site_codes,
        value_columns={name: DISCLOSURE[name]["value_columns"] for name in ("distributions", "summaries", "mentions")},
    ))
    tables["running_statistics"] = _all_running_statistics(records, config, codebook)
    tables.update(_all_interview_tables(records, config, codebook))
    return tables
