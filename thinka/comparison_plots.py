"""Draw the comparison of two Förderphasen (thinka.comparison) in the house style. Nothing here aggregates.

The overall page shows per dimension a dot plot of the shares of both phases with their Wilson intervals, a table
of every compared value (both N, the difference, its interval and the verdict of the change rule), footnotes for
revised wordings, the lists of new and dropped questions and the running statistics as one series across the
phase edge. A site page shows the same for its own values where both phases show them, and says once why the rest
is not compared (new site, no steering group then, too few answers).
"""

from __future__ import annotations

import base64
import html

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from thinka import api, wording  # noqa: E402
from thinka.comparison import phase_words  # noqa: E402
from thinka.plots import (  # noqa: E402
    STYLE, WIDTH_IN, _instrument_label, _quarter_label, _table, fmt_n, fmt_number, fmt_pct, png_bytes, round_half_up,
)

PREVIOUS_COLOUR = "#9a9a9a"
CURRENT_COLOUR = sns.color_palette("colorblind")[0]


def _words(unit: api.Unit) -> dict:
    return wording.words(unit.config)["comparison"]


def _phases(unit: api.Unit) -> dict[str, str]:
    return phase_words(unit.config)


def _p(text: str, css: str = "hinweis vergleich-hinweis") -> str:
    return f'<p class="{css}">{html.escape(text)}</p>'


# ----------------------------------------------------------------------------------------------------------------
# Frames to draw (selection only)


def _label(unit: api.Unit, item_id: str) -> str:
    item = unit.codebook.items[item_id]
    return item.short or item.series_label or item.wording


def _counted(unit: api.Unit, row) -> str:
    if row.option:
        return row.option_label
    if row.measure == "mean":
        return _words(unit)["mean_label"]
    scale = unit.codebook.scale_of(row.item)
    return " / ".join(scale.label(c) for c in scale.top)


def comparison_rows(unit: api.Unit, dimension: str, site: str) -> pd.DataFrame:
    """One row per compared value of `dimension` at `site`: both phases' values and intervals and the change."""
    items = unit.tables["comparison_items"]
    items = items[(items["dimension"] == dimension) & (items["status"] == "both")]
    changes = unit.tables["comparison_changes"]
    changes = changes[(changes["site"] == site) & changes["item"].isin(items["item"])]
    values = unit.tables["comparison_values"]
    values = values[values["site"] == site]
    prev = values[values["phase"] == unit.config.previous_phase][["item", "option", "ci_low", "ci_high", "option_label"]]
    cur = values[values["phase"] == unit.config.phase][["item", "option", "ci_low", "ci_high"]]
    frame = (changes.merge(items[["item", "measure", "revised", "earlier_wording", "instrument"]], on="item")
             .merge(prev.rename(columns={"ci_low": "prev_low", "ci_high": "prev_high"}), on=["item", "option"], how="left")
             .merge(cur.rename(columns={"ci_low": "cur_low", "ci_high": "cur_high"}), on=["item", "option"], how="left"))
    order = {item_id: i for i, item_id in enumerate(unit.codebook.items)}
    frame["order"] = frame["item"].map(order)
    frame = frame.sort_values(["order"], kind="stable").reset_index(drop=True)
    frame["label"] = [_label(unit, i) for i in frame["item"]]
    frame["counted"] = [_counted(unit, r) for r in frame.itertuples()]
    return frame


# ----------------------------------------------------------------------------------------------------------------
# Formats


def fmt_signed(value: float, digits: int = 0) -> str:
    """'+27', '−4', '0' (no sign where the rounded value is zero), German decimal comma."""
    if round_half_up(abs(value), digits) == 0:
        return fmt_number(0, digits)
    return ("+" if value > 0 else "−") + fmt_number(abs(value), digits)


def _value(row, side: str) -> str:
    value = getattr(row, f"value_{side}")
    if pd.isna(value):
        return wording.HIDDEN
    return fmt_number(value, 1) if row.measure == "mean" else fmt_pct(value)


def _n(row, side: str) -> str:
    n = getattr(row, f"n_{side}")
    return wording.HIDDEN if pd.isna(n) else fmt_n(n)


def _difference(row, unit: api.Unit) -> tuple[str, str, str]:
    if row.reason:
        return wording.HIDDEN, wording.HIDDEN, wording.HIDDEN
    digits, w = 1 if row.measure == "mean" else 0, _words(unit)
    interval = w["interval_range"].format(low=fmt_signed(row.ci_low, digits), high=fmt_signed(row.ci_high, digits))
    return fmt_signed(row.diff, digits), interval, w["verdicts"][row.verdict]


# ----------------------------------------------------------------------------------------------------------------
# Charts


def dot_figure(rows: pd.DataFrame, previous: str, current: str, xlabel: str):
    """Per row a grey dot (previous phase) and a blue dot (current), each with its interval; rows top to bottom."""
    n = len(rows)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.9 + 0.42 * n), layout="constrained")
    ys = list(range(n))[::-1]
    for y, row in zip(ys, rows.itertuples()):
        for side, colour, offset in (("previous", PREVIOUS_COLOUR, 0.12), ("current", CURRENT_COLOUR, -0.12)):
            value = getattr(row, f"value_{side}")
            low, high = (row.prev_low, row.prev_high) if side == "previous" else (row.cur_low, row.cur_high)
            # max(0, …): at 0 % or 100 % the Wilson bound equals the value up to float noise
            ax.errorbar([value], [y + offset], xerr=[[max(0.0, value - low)], [max(0.0, high - value)]], fmt="o", color=colour,
                        markersize=5, capsize=2, linewidth=1)
    ax.set_yticks(ys, [_wrap(r.label) for r in rows.itertuples()], fontsize=8)
    ax.set_xlim(-2, 102)  # a dot at 0 or 100 % stays whole
    ax.set_xlabel(xlabel, fontsize=8)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=c, label=p)
               for c, p in ((PREVIOUS_COLOUR, previous), (CURRENT_COLOUR, current))]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, fontsize=8)
    return fig


def _wrap(text: str, width: int = 48) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines[:3]) + ("…" if len(lines) > 3 else "")


def _figure_html(unit: api.Unit, rows: pd.DataFrame, dimension) -> str:
    w, ph = _words(unit), _phases(unit)
    drawn = rows[(rows["measure"] == "share") & (rows["reason"] == "")]
    if drawn.empty:
        return ""
    with plt.rc_context(STYLE):
        png = png_bytes(dot_figure(drawn, ph["previous"], ph["current"], w["figure_xlabel"]))
    alt = w["figure_alt"].format(**ph) + " " + " ".join(
        w["figure_alt_row"].format(label=r.label, previous=fmt_pct(r.value_previous), n_previous=fmt_n(r.n_previous),
                                   current=fmt_pct(r.value_current), n_current=fmt_n(r.n_current),
                                   verdict=w["verdicts"][r.verdict])
        for r in drawn.itertuples())
    anchor = f"vergleich-{dimension.id}" + ("" if not unit.is_site else f"-{unit.site}")
    caption = w["figure_caption"].format(dimension=dimension.label, **ph)
    return (f'<figure class="schaubild vergleich" id="{html.escape(anchor)}">'
            f'<figcaption class="schaubild-titel">{html.escape(caption)}</figcaption>'
            f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" alt="{html.escape(alt, quote=True)}">'
            f'<p class="quelle">{html.escape(w["source"])}, {html.escape(w["figure_axis"])}</p></figure>')


# ----------------------------------------------------------------------------------------------------------------
# Tables and notes


def _table_html(unit: api.Unit, rows: pd.DataFrame, dimension) -> str:
    w, ph = _words(unit), _phases(unit)
    h = w["headers"]
    headers = [h["item"], h["counted"], w["phase_n"].format(phase=ph["previous"]),
               w["phase_n"].format(phase=ph["current"]), h["difference"], h["interval"].format(**ph), h["verdict"]]
    body, notes, previous_item = [], [], None
    for row in rows.itertuples():
        # the options of a multiple-response item follow each other: the wording once, then only the options
        label = "" if row.option and row.item == previous_item else row.label
        previous_item = row.item
        if row.revised and not row.option:
            notes.append(w["revised"].format(wording=row.earlier_wording, **ph))
            label += f" [{len(notes)}]"
        diff, interval, verdict = _difference(row, unit)
        body.append([label, row.counted, f"{_value(row, 'previous')} ({_n(row, 'previous')})",
                     f"{_value(row, 'current')} ({_n(row, 'current')})", diff, interval, verdict])
    caption = w["table_caption"].format(dimension=dimension.label, **ph)
    note_html = "".join(_p(f"[{i}] {text}", "anmerkung") for i, text in enumerate(notes, 1))
    hidden = sorted({r.reason for r in rows.itertuples() if r.reason})
    reasons = [_reason_note(unit, r) for r in hidden]
    note_html += "".join(_p(text, "anmerkung") for text in dict.fromkeys(r for r in reasons if r))
    unit_note = _p(w["unit_note"].format(difference=h["difference"], points=w["unit_points"], mean=w["mean_label"]),
                   "quelle")
    return f'<div class="item-tabelle vergleich-tabelle">{_table(headers, body, "itemtabelle", caption, numeric_from=2)}' \
           f"{unit_note}{note_html}</div>"


def _reason_note(unit: api.Unit, reason: str) -> str:
    """The footnote of a mark in the comparison table: the disclosure reason of the phase it comes from."""
    base = reason.rsplit("_", 1)[0] if reason.endswith(("_previous", "_current")) else reason
    if base in ("primary", "secondary", "no_answers", "not_applicable"):
        return f"{wording.mark_of(base)} {wording.reason_text(base, unit.threshold, unit.config)}"
    return ""


def _site_notices(unit: api.Unit, rows_by_dimension: dict) -> list[str]:
    """Why values of a site page are not compared, once per instrument."""
    w, ph = _words(unit), _phases(unit)
    sites = unit.tables["comparison_sites"].set_index("site")
    if unit.site not in sites.index or not bool(sites.loc[unit.site, "in_previous"]):
        return [w["site_new"].format(**ph)]
    out = [w["site_scope"]]
    rows = pd.concat(list(rows_by_dimension.values()), ignore_index=True) if rows_by_dimension else pd.DataFrame()
    for instrument in dict.fromkeys(rows["instrument"]) if len(rows) else []:
        label = unit.codebook.instruments[instrument].label
        part = rows[rows["instrument"] == instrument]
        if (part["reason"] == "not_applicable_current").all():
            out.append(w["site_not_applicable"].format(instrument=label))
        elif (part["reason"] == "not_applicable_previous").all():
            out.append(w["site_gained"].format(instrument=label, **ph))
        elif (part["reason"] != "").all():
            out.append(w["site_too_few"].format(instrument=label))
    return out


def _coverage(unit: api.Unit) -> list[str]:
    w, ph = _words(unit), _phases(unit)
    sites = unit.tables["comparison_sites"]
    codes = {side: ", ".join(sorted(sites.loc[sites[f"in_{side}"], "site"])) for side in ("previous", "current")}
    out = [w["coverage"].format(previous_sites=codes["previous"], current_sites=codes["current"], **ph)]
    left = sites[sites["in_previous"] & ~sites["in_current"]]
    joined = sites[~sites["in_previous"] & sites["in_current"]]
    if len(left):
        out.append(w["left"].format(sites=", ".join(left["name"]), **ph))
    if len(joined):
        out.append(w["joined"].format(sites=", ".join(joined["name"]), **ph))
    return out


def _item_lists(unit: api.Unit) -> str:
    w, ph = _words(unit), _phases(unit)
    items = unit.tables["comparison_items"]
    parts = []
    for status, key in (("new", "new_items"), ("dropped", "dropped_items"), ("changed_scale", "changed_scale")):
        chosen = items[items["status"] == status]
        if len(chosen):
            entries = "".join(f"<li>{html.escape(t)}</li>" for t in chosen["wording"])
            parts.append(f"<p>{html.escape(w[key].format(**ph))}</p><ul>{entries}</ul>")
    return f"<h2>{html.escape(w['new_dropped_heading'])}</h2>{''.join(parts)}" if parts else ""


# ----------------------------------------------------------------------------------------------------------------
# Running statistics across phases


def series_figure(frame: pd.DataFrame, labels: dict[str, str], quarters: list[str], edge: str):
    colours = sns.color_palette("colorblind", len(labels))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.4), layout="constrained")
    x = {q: i for i, q in enumerate(quarters)}
    for colour, (measure, label) in zip(colours, labels.items()):
        part = frame[frame["measure"] == measure]
        ax.plot([x[q] for q in part["quarter"]], part["value"].astype("float64"), marker="o", markersize=3,
                color=colour, label=label)
    if edge in x:
        ax.axvline(x[edge] - 0.5, color="#666666", linewidth=0.8, linestyle="--")
    step = max(1, len(quarters) // 8)
    ax.set_xticks(range(0, len(quarters), step), [_quarter_label(q) for q in quarters[::step]], fontsize=8)
    ax.yaxis.set_major_formatter(lambda y, _pos: fmt_number(y))
    fig.legend(loc="outside lower center", ncol=len(labels), frameon=False, fontsize=8)
    return fig


def render_series(unit: api.Unit) -> str:
    w, ph = _words(unit), _phases(unit)
    frame = unit.tables.get("comparison_series", pd.DataFrame())
    frame = frame[frame["site"] == unit.site] if len(frame) else frame
    if frame.empty:
        return ""
    quarters = sorted(set(frame["quarter"]))
    measures = list(dict.fromkeys(frame["measure"]))
    labels = {m: api.measure_label(unit, m) for m in measures}
    current = frame[frame["phase"] == unit.config.phase]
    edge = min(current["quarter"]) if len(current) else ""
    with plt.rc_context(STYLE):
        png = png_bytes(series_figure(frame, labels, quarters, edge))
    wide = frame.pivot_table(index="quarter", columns="measure", values="value", aggfunc="sum").reindex(quarters)
    rows = [[_quarter_label(q), *(fmt_n(wide.loc[q, m]) if pd.notna(wide.loc[q, m]) else wording.HIDDEN
                                  for m in measures)] for q in quarters]
    fmt = {"first": _quarter_label(quarters[0]), "last": _quarter_label(quarters[-1]), "site": unit.site_name,
           "instrument": _instrument_label(unit, "running_statistics"), **ph}
    alt = w["series_alt"].format(**fmt)
    table = _table([w["series_quarter"], *labels.values()], rows, "laufende-statistik", w["series_caption"].format(**fmt))
    return (f"<h2>{html.escape(w['series_heading'].format(**fmt))}</h2>"
            f'<figure class="laufende-statistik-grafik"><img src="data:image/png;base64,'
            f'{base64.b64encode(png).decode("ascii")}" alt="{html.escape(alt, quote=True)}">'
            f'<p class="quelle">{html.escape(w["series_source"].format(**fmt))}</p></figure>'
            f'<details class="laufende-statistik-reihe"><summary>{html.escape(w["series_caption"].format(**fmt))}'
            f"</summary>{table}</details>")


# ----------------------------------------------------------------------------------------------------------------
# The whole comparison


def render_heading(unit: api.Unit) -> str:
    """The chapter heading; overall: what is compared, the rule in one sentence, which sites the totals cover;
    site page: once per instrument why values are not compared."""
    w, ph = _words(unit), _phases(unit)
    parts = [f'<h1 class="kapitel">{html.escape(w["chapter"].format(**ph))}</h1>']
    if unit.is_site:
        rows = {d.id: comparison_rows(unit, d.id, unit.site) for d in unit.codebook.dimensions}
        parts += [_p(text) for text in _site_notices(unit, rows)]
    else:
        parts += [_p(w["intro"].format(**ph), "vergleich-einleitung"), _p(w["rule_short"], "vergleich-einleitung")]
        parts += [_p(text) for text in _coverage(unit)]
    return "".join(parts)


def render_dimension(unit: api.Unit, dimension_id: str) -> str:
    """One dimension's comparison: heading, dot plot of shares, table of the compared values ('' if none)."""
    dimension = unit.codebook.dimension(dimension_id)
    rows = comparison_rows(unit, dimension_id, unit.site)
    if unit.is_site:
        # a site page compares only what both phases show for the site; its notices say why the rest is missing
        rows = rows[rows["reason"] == ""]
    if rows.empty:
        return ""
    return (f"<h2>{html.escape(dimension.label)}</h2>" + _figure_html(unit, rows, dimension)
            + _table_html(unit, rows, dimension))


def render_item_changes(unit: api.Unit) -> str:
    """Overall page: the questions new in this phase, dropped since the previous one, or with a changed scale."""
    return "" if unit.is_site else _item_lists(unit)


def render_comparison(unit: api.Unit) -> str:
    """Everything the comparison notebook shows for its unit, in reading order (one call, for scripts and tests)."""
    parts = [render_heading(unit), *(render_dimension(unit, d.id) for d in unit.codebook.dimensions),
             render_item_changes(unit), render_series(unit)]
    return "".join(p for p in parts if p)
