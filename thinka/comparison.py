"""Comparison of two Förderphasen: tidy tables from both phases' processed tables (pure: DataFrames in and out).

Items are matched by id. An item asked in both phases with the same scale is compared by one measure chosen from
its scale: the top share (scales with `top` codes), the share of respondents naming each option (multiple
response) or the mean (counts). Every value is taken from the *published* processed tables of its own phase, after
that phase's disclosure control: a site value hidden in either phase is never compared, so the comparison reveals
nothing the two reports do not already show. Items that are not published per site in a phase (neither in a
Schaubild nor in an item table) are compared for the total over all sites only.

Tables (file stems under data/processed/<phase>/):

``comparison_items``   one row per item of either phase: status both | new | dropped | changed_scale, wording,
                       earlier wording where it was revised, the measure compared.
``comparison_values``  phase × item × option × site: n, k, value (percent or mean), Wilson interval, shown, reason.
``comparison_changes`` item × option × site: both values, the difference, its interval and the verdict of
                       :mod:`thinka.change`, or why a site value is not compared.
``comparison_series``  the running statistics of both phases as one series (measures present in both).
``comparison_sites``   which sites each phase covers and where a steering-group instrument applies.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from thinka import ALL_SITES
from thinka.change import mean_change, share_change, wilson
from thinka.codebook import Codebook, PhaseConfig

SHARE, MEAN, MENTIONS = "share", "mean", "mentions"
BOTH, NEW, DROPPED, CHANGED_SCALE = "both", "new", "dropped", "changed_scale"
# Why a value or a change is not shown (besides the disclosure reasons of the phase's own tables).
NOT_IN_PHASE = "not_in_phase"
NOT_PUBLISHED = "not_published"

ITEM_COLUMNS = ["item", "instrument", "dimension", "measure", "status", "revised", "wording", "earlier_wording"]
VALUE_COLUMNS = ["phase", "item", "option", "option_label", "site", "n", "k", "value", "ci_low", "ci_high", "shown",
                 "reason"]
CHANGE_COLUMNS = ["item", "option", "site", "n_previous", "n_current", "value_previous", "value_current", "diff",
                  "ci_low", "ci_high", "verdict", "reason"]
SERIES_COLUMNS = ["phase", "site", "quarter", "measure", "value"]
SITE_COLUMNS = ["site", "name", "in_previous", "in_current", "steering_previous", "steering_current"]


def phase_label(phase: str) -> str:
    """'2013-2014' → '2013–2014' (a span of years takes the en dash in German typesetting)."""
    first, sep, last = phase.partition("-")
    return f"{first}–{last}" if sep and first.isdigit() and last.isdigit() else phase


def phase_words(config: PhaseConfig) -> dict[str, str]:
    """The placeholders of the comparison wording: {previous}, {current} (phase labels) and {level} ('95')."""
    level = f"{config.comparison_level * 100:g}".replace(".", ",")
    return {"previous": phase_label(config.previous_phase or ""), "current": phase_label(config.phase), "level": level}


# ----------------------------------------------------------------------------------------------------------------
# Items


def measure_of(codebook: Codebook, item_id: str) -> str | None:
    """The measure an item is compared by, or None when its scale offers none (e.g. nominal without `top`)."""
    item, scale = codebook.items[item_id], codebook.scale_of(item_id)
    if item.is_multiple_response:
        return MENTIONS
    if scale.kind == "count":
        return MEAN
    if scale.kind in ("ordinal", "grade", "nominal") and scale.top:
        return SHARE
    return None


def _same_scale(previous: Codebook, current: Codebook, item_id: str) -> bool:
    a, b = previous.scale_of(item_id), current.scale_of(item_id)
    options = ([o.column for o in previous.items[item_id].options], [o.column for o in current.items[item_id].options])
    return (a.kind, a.codes, tuple(a.top), options[0]) == (b.kind, b.codes, tuple(b.top), options[1])


def item_status(previous: Codebook, current: Codebook) -> pd.DataFrame:
    """One row per item of either codebook, current items first (codebook order), then the dropped ones."""
    rows = []
    for item_id, item in current.items.items():
        if item_id not in previous.items:
            status = NEW
        elif not _same_scale(previous, current, item_id) or measure_of(current, item_id) is None:
            status = CHANGED_SCALE
        else:
            status = BOTH
        rows.append({"item": item_id, "instrument": item.instrument, "dimension": item.dimension,
                     "measure": measure_of(current, item_id) or "", "status": status,
                     "revised": status == BOTH and bool(item.earlier_wording),
                     "wording": item.wording, "earlier_wording": item.earlier_wording or ""})
    for item_id, item in previous.items.items():
        if item_id not in current.items:
            rows.append({"item": item_id, "instrument": item.instrument, "dimension": item.dimension,
                         "measure": measure_of(previous, item_id) or "", "status": DROPPED, "revised": False,
                         "wording": item.wording, "earlier_wording": ""})
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def published_per_site(codebook: Codebook) -> set[str]:
    """Items whose site values a phase's report shows (in a Schaubild or an item table)."""
    return {i for sb in codebook.schaubilder for i in sb.items} | {i for t in codebook.item_tables for i in t.items}


# ----------------------------------------------------------------------------------------------------------------
# Values of one phase


def _sites(config: PhaseConfig) -> list[str]:
    return [ALL_SITES, *config.site_codes]


def _hidden_reason(row: Mapping | None, n: float) -> str:
    if row is None:
        return "no_answers"
    if bool(row.get("suppressed")):
        return str(row.get("suppression") or "primary")
    if not n or n != n:
        return "no_answers"
    return ""


def _value_row(phase, item, option, option_label, site, n, k, value, level, reason) -> dict:
    shown = reason == ""
    low = high = np.nan
    if shown and k == k and n:  # a share: its Wilson interval
        iv = wilson(k, n, level)
        low, high = iv.low, iv.high
    return {"phase": phase, "item": item, "option": option, "option_label": option_label, "site": site,
            "n": float(n) if n == n else np.nan, "k": float(k) if shown and k == k else np.nan,
            "value": float(value) if shown else np.nan, "ci_low": low, "ci_high": high, "shown": shown,
            "reason": reason}


def _share_rows(tables, config, codebook, item_id, sites, level) -> list[dict]:
    scale = codebook.scale_of(item_id)
    top = {str(c) for c in scale.top}
    dist = tables["distributions"]
    dist = dist[dist["item"].astype(str) == item_id]
    rows = []
    for site in sites:
        part = dist[dist["site"].astype(str) == site]
        n = float(part["valid_n"].iloc[0]) if len(part) else np.nan
        reason = _hidden_reason(part.iloc[0].to_dict() if len(part) else None, n)
        k = float(part.loc[part["code"].astype(str).isin(top), "count"].astype("Float64").sum()) if not reason else np.nan
        rows.append(_value_row(config.phase, item_id, "", "", site, n, k, 100 * k / n if not reason else np.nan,
                               level, reason))
    return rows


def _mention_rows(tables, config, codebook, item_id, sites, level) -> list[dict]:
    men = tables["mentions"]
    men = men[men["item"].astype(str) == item_id]
    rows = []
    for option in codebook.items[item_id].options:
        for site in sites:
            part = men[(men["site"].astype(str) == site) & (men["option"].astype(str) == option.column)]
            rec = part.iloc[0].to_dict() if len(part) else None
            n = float(rec["respondents"]) if rec else np.nan
            reason = _hidden_reason(rec, n)
            k = float(rec["count"]) if not reason else np.nan
            rows.append(_value_row(config.phase, item_id, option.column, option.label, site, n, k,
                                   100 * k / n if not reason else np.nan, level, reason))
    return rows


def _count_values(records: pd.DataFrame, column: str, site_column: str, site: str) -> pd.Series:
    part = records if site == ALL_SITES else records[records[site_column].astype(str) == site]
    return pd.to_numeric(part[column], errors="coerce").dropna().astype(float)


def _mean_rows(tables, config, codebook, item_id, sites, level) -> list[dict]:
    item = codebook.items[item_id]
    summ = tables["summaries"]
    summ = summ[summ["item"].astype(str) == item_id]
    records = tables.get(f"records_{item.instrument}")
    site_column = next(c.name for c in codebook.instruments[item.instrument].columns if c.type == "site")
    rows = []
    for site in sites:
        part = summ[summ["site"].astype(str) == site]
        rec = part.iloc[0].to_dict() if len(part) else None
        n = float(rec["valid_n"]) if rec else np.nan
        reason = _hidden_reason(rec, n)
        row = _value_row(config.phase, item_id, "", "", site, n, np.nan, rec["mean"] if not reason else np.nan,
                         level, reason)
        if not reason and records is not None:
            values = _count_values(records, item.id, site_column, site)
            row["variance"] = float(values.var(ddof=1)) if len(values) > 1 else np.nan
        rows.append(row)
    return rows


ROWS = {SHARE: _share_rows, MENTIONS: _mention_rows, MEAN: _mean_rows}


def _hide(row: dict, reason: str) -> None:
    """A value row that is not shown for `reason`: no value, no interval."""
    row.update(reason=reason, shown=False, value=np.nan, k=np.nan, ci_low=np.nan, ci_high=np.nan)


def _applicable(config: PhaseConfig, instrument: str, site: str) -> bool:
    return site == ALL_SITES or site in config.allowed_sites(instrument)


def phase_values(tables: Mapping[str, pd.DataFrame], config: PhaseConfig, codebook: Codebook, items: pd.DataFrame,
                 all_sites: list[str], level: float) -> pd.DataFrame:
    """comparison_values of one phase for the compared items (status both), over `all_sites` (both phases' sites)."""
    per_site = published_per_site(codebook)
    rows = []
    for rec in items[items["status"] == BOTH].to_dict("records"):
        item_id, instrument = rec["item"], rec["instrument"]
        own = [s for s in _sites(config) if s in all_sites]
        for row in ROWS[rec["measure"]](tables, config, codebook, item_id, own, level):
            site = row["site"]
            if site != ALL_SITES and not _applicable(config, instrument, site):
                _hide(row, "not_applicable")
            elif site != ALL_SITES and item_id not in per_site and row["shown"]:
                _hide(row, NOT_PUBLISHED)
            rows.append(row)
        options = [(o.column, o.label) for o in codebook.items[item_id].options] or [("", "")]
        for site in all_sites:
            if site not in own:
                rows.extend(_value_row(config.phase, item_id, o, label, site, np.nan, np.nan, np.nan, level,
                                       NOT_IN_PHASE) for o, label in options)
    frame = pd.DataFrame(rows)
    if "variance" not in frame.columns:
        frame["variance"] = np.nan
    return frame.reindex(columns=[*VALUE_COLUMNS, "variance"])


# ----------------------------------------------------------------------------------------------------------------
# Changes


def _change_reason(prev: Mapping, cur: Mapping) -> str:
    """Why a site value is not compared: the current phase's reason wins (it is what the page is about)."""
    for side, row in (("current", cur), ("previous", prev)):
        if row["reason"] == NOT_IN_PHASE:
            return "site_new" if side == "previous" else "site_left"
    # Structural reasons (the question does not apply) before the disclosure reasons of either phase.
    for side, row in (("current", cur), ("previous", prev)):
        if row["reason"] == "not_applicable":
            return f"not_applicable_{side}"
    for side, row in (("current", cur), ("previous", prev)):
        if row["reason"]:
            return f"{row['reason']}_{side}"
    return ""


def _change(measure: str, prev: Mapping, cur: Mapping, level: float):
    if measure == MEAN:
        return mean_change(cur["value"], cur["variance"], int(cur["n"]), prev["value"], prev["variance"],
                           int(prev["n"]), level)
    return share_change(cur["k"], cur["n"], prev["k"], prev["n"], level)


def changes(values: pd.DataFrame, items: pd.DataFrame, previous_phase: str, current_phase: str,
            level: float) -> pd.DataFrame:
    """comparison_changes: for every compared item, option and site, the change or the reason there is none."""
    measures = dict(zip(items["item"], items["measure"]))
    prev = values[values["phase"] == previous_phase].set_index(["item", "option", "site"])
    cur = values[values["phase"] == current_phase].set_index(["item", "option", "site"])
    rows = []
    for key in cur.index:
        if key not in prev.index:
            continue
        p, c = prev.loc[key].to_dict(), cur.loc[key].to_dict()
        reason = _change_reason(p, c)
        row = {"item": key[0], "option": key[1], "site": key[2], "n_previous": p["n"], "n_current": c["n"],
               "value_previous": p["value"], "value_current": c["value"], "diff": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "verdict": "", "reason": reason}
        if not reason:
            try:
                ch = _change(measures[key[0]], p, c, level)
            except ValueError:  # e.g. a mean from a single value: nothing to test
                row["reason"] = "too_few_values"
            else:
                row.update(diff=ch.diff, ci_low=ch.interval.low, ci_high=ch.interval.high, verdict=ch.verdict)
        if row["reason"]:  # a change that is not compared carries no values (its N where the phase shows it)
            row.update(n_previous=np.nan if p["reason"] else p["n"], n_current=np.nan if c["reason"] else c["n"],
                       value_previous=np.nan, value_current=np.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


# ----------------------------------------------------------------------------------------------------------------
# Running statistics and sites


def series(previous: Mapping[str, pd.DataFrame], current: Mapping[str, pd.DataFrame], previous_phase: str,
           current_phase: str) -> pd.DataFrame:
    """Both phases' running statistics as one series: the measures present in both phases, quarters in order."""
    parts = []
    for phase, tables in ((previous_phase, previous), (current_phase, current)):
        frame = tables.get("running_statistics")
        if frame is None or frame.empty:
            return pd.DataFrame(columns=SERIES_COLUMNS)
        parts.append(frame.assign(phase=phase))
    common = set(parts[0]["measure"].astype(str)) & set(parts[1]["measure"].astype(str))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["measure"].astype(str).isin(common) & (frame["quarter"].astype(str) != "total")]
    return frame.reindex(columns=SERIES_COLUMNS).sort_values(["measure", "site", "quarter"], kind="stable") \
        .reset_index(drop=True)


def sites(previous: PhaseConfig, current: PhaseConfig) -> pd.DataFrame:
    """comparison_sites: every site of either phase (current order first, then the sites that left)."""
    prev = {s.code: s for s in previous.sites}
    cur = {s.code: s for s in current.sites}
    order = [*cur, *(c for c in prev if c not in cur)]
    return pd.DataFrame([
        {"site": code, "name": (cur.get(code) or prev[code]).name, "in_previous": code in prev,
         "in_current": code in cur, "steering_previous": bool(prev[code].steering_group) if code in prev else False,
         "steering_current": bool(cur[code].steering_group) if code in cur else False}
        for code in order
    ], columns=SITE_COLUMNS)


def build_comparison(previous: Mapping[str, pd.DataFrame], current: Mapping[str, pd.DataFrame],
                     previous_config: PhaseConfig, current_config: PhaseConfig, previous_codebook: Codebook,
                     current_codebook: Codebook, level: float) -> dict[str, pd.DataFrame]:
    """Every comparison table, keyed by file stem."""
    items = item_status(previous_codebook, current_codebook)
    site_table = sites(previous_config, current_config)
    all_sites = [ALL_SITES, *site_table["site"]]
    values = pd.concat([
        phase_values(previous, previous_config, previous_codebook, items, all_sites, level),
        phase_values(current, current_config, current_codebook, items, all_sites, level),
    ], ignore_index=True)
    return {
        "comparison_items": items,
        "comparison_values": values.drop(columns="variance"),
        "comparison_changes": changes(values, items, previous_config.phase, current_config.phase, level),
        "comparison_series": series(previous, current, previous_config.phase, current_config.phase),
        "comparison_sites": site_table,
    }
