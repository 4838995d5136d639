"""House style: draw the frames of thinka.api as charts and HTML tables. Nothing here aggregates.

Charts are PNG bytes embedded as data URIs, so a report page needs no network and no scripts. The bytes are
deterministic: fixed size and dpi, the Agg backend, DejaVu Sans and no software/date metadata in the file.
Everything a reader sees is German: labels come from the codebook, the words around them from thinka.wording
(templates/wording.de.yaml), numbers in German format (82 %, 2,2, 1.457).
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, identical bytes everywhere

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from thinka import ALL_SITES, api, facts, wording  # noqa: E402
from thinka.codebook import ItemTable, Scale, Schaubild  # noqa: E402

DPI = 150
WIDTH_IN = 8.0
HIDE_BELOW_PCT = 4  # segment labels of narrower segments would not fit
# Marks after DIN 55301 (thinka.wording): "." not shown, "x" not applicable, "–" exactly zero.
HIDDEN, NOT_APPLICABLE, ZERO = wording.HIDDEN, wording.NOT_APPLICABLE, wording.ZERO
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#666666",
    "svg.hashsalt": "thinka",
    "figure.dpi": DPI,
}


# ----------------------------------------------------------------------------------------------------------------
# German number formats


def round_half_up(value: float, digits: int = 0) -> int | float:
    """Commercial rounding as printed in German reports (thinka.facts: the one rule for text and charts)."""
    return facts.round_half_up(value, digits)


def fmt_number(value: float, digits: int = 0) -> str:
    """1457 → '1.457', 2.25 → '2,3' (digits=1)."""
    return facts.format_number(value, digits)


def fmt_pct(value: float) -> str:
    """82.4 → '82 %' (no-break space, as in the prose); NA → ''."""
    return "" if pd.isna(value) else facts.format_percent(value)


def fmt_mean(value: float) -> str:
    """2.24 → 'Ø 2,2'."""
    return "" if pd.isna(value) else f"Ø {fmt_number(value, 1)}"


def fmt_n(value: float) -> str:
    """A count in a table: '1.457'; exactly zero as '–' (DIN 55301); no value as 'x'."""
    if pd.isna(value):
        return NOT_APPLICABLE
    return ZERO if value == 0 else fmt_number(value)


# ----------------------------------------------------------------------------------------------------------------
# Palettes


def is_diverging(scale: Scale) -> bool:
    """Agreement and grade scales diverge around a middle; ordinal scales without a neutral middle are sequential."""
    if scale.kind == "grade":
        return True
    covered = set(scale.top) | set(scale.bottom)
    return scale.kind == "ordinal" and bool(scale.bottom) and covered != set(scale.codes)


def scale_palette(scale: Scale) -> list[tuple[float, float, float]]:
    """Colour-blind-safe colours per level in scale order (ColorBrewer RdBu / Blues)."""
    n = len(scale.levels)
    if is_diverging(scale):
        colours = list(reversed(sns.color_palette("RdBu", n)))  # best answer dark blue, worst dark red
        if n % 2:
            colours[n // 2] = (0.82, 0.82, 0.82)  # the neutral middle: RdBu's near-white vanishes on white paper
        return colours
    return list(sns.color_palette("Blues", n + 1))[1:]  # skip the near-white first shade


def mention_palette() -> dict[str, tuple[float, float, float]]:
    blues = sns.color_palette("Blues", 6)
    return {"site": blues[5], ALL_SITES: blues[2]}


def _text_colour(rgb: tuple[float, float, float]) -> str:
    r, g, b = rgb[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


# ----------------------------------------------------------------------------------------------------------------
# Drawing


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _bars(df: pd.DataFrame) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """(series, site) groups in drawing order (series in item order; site before `all`)."""
    keys = list(dict.fromkeys(zip(df["series"], df["site"])))
    return [(k, df[(df["series"] == k[0]) & (df["site"] == k[1])]) for k in keys]


def _bar_label(df: pd.DataFrame, series: str, site_label: str) -> str:
    many_series, many_sites = df["series"].nunique() > 1, df["site"].nunique() > 1
    if many_series and many_sites:
        return f"{series}\n{site_label}"
    return series if many_series else site_label


def _bar_reason(part: pd.DataFrame) -> str:
    """Why a bar is not drawn (thinka.api.REASONS), or '' when it is."""
    reasons = [r for r in part["reason"] if r]
    return reasons[0] if reasons else ("no_answers" if part["pct"].isna().all() else "")


def _row_major(handles: list, ncol: int) -> list:
    """Reorder legend entries so they read left to right (matplotlib fills legends column by column)."""
    rows = -(-len(handles) // ncol)
    grid = [handles[r * ncol:(r + 1) * ncol] for r in range(rows)]
    return [row[c] for c in range(ncol) for row in grid if c < len(row)]


def stacked_figure(df: pd.DataFrame, scale: Scale):
    """100 % stacked horizontal bars, one per (series, site), segments in scale order."""
    bars = _bars(df)
    colours = dict(zip(scale.labels, scale_palette(scale)))
    ncol = len(scale.levels) if len(scale.levels) <= 4 else 3
    legend_rows = -(-len(scale.levels) // ncol)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.0 + 0.55 * len(bars) + 0.25 * legend_rows), layout="constrained")
    for y, ((series, _site), part) in enumerate(bars):
        reason, left = _bar_reason(part), 0.0
        if reason:
            ax.text(1, y, wording.mark_of(reason), va="center", ha="left", fontsize=14)
        for row in part.sort_values("order").itertuples() if not reason else ():
            if pd.isna(row.pct) or row.pct <= 0:
                continue
            colour = colours[row.category]
            ax.barh(y, row.pct, left=left, color=colour, height=0.65, edgecolor="white", linewidth=0.5)
            if round_half_up(row.pct) >= HIDE_BELOW_PCT:
                ax.text(left + row.pct / 2, y, fmt_pct(row.pct), ha="center", va="center",
                        color=_text_colour(colour), fontsize=8)
            left += row.pct
        mean = part["mean"].iloc[0]
        if not reason and pd.notna(mean):
            ax.text(101.5, y, fmt_mean(mean), va="center", ha="left", fontsize=9, fontweight="bold", clip_on=False)
    ax.set_yticks(range(len(bars)), [_bar_label(df, s, p["site_label"].iloc[0]) for (s, _), p in bars])
    ax.set_ylim(len(bars) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 20), [f"{x} %" for x in range(0, 101, 20)])
    ax.tick_params(axis="y", length=0)
    handles = [Patch(facecolor=colours[label], label=label) for label in scale.labels]
    fig.legend(handles=_row_major(handles, ncol), loc="outside lower center", ncol=ncol, frameon=False, fontsize=8)
    return fig


def mentions_figure(df: pd.DataFrame):
    """Horizontal bars of % of mentions per option, in the frame's order (sorted by count)."""
    categories = list(dict.fromkeys(df["category"]))
    sites = list(dict.fromkeys(df["site"]))
    colours = mention_palette()
    height = 0.8 / len(sites)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.0 + 0.3 * len(categories) * len(sites)), layout="constrained")
    top = max(df["pct"].max(skipna=True) if df["pct"].notna().any() else 0, 10)
    for j, site in enumerate(sites):
        part = df[df["site"] == site].set_index("category").reindex(categories)
        colour = colours[ALL_SITES if site == ALL_SITES else "site"]
        for i, (category, row) in enumerate(part.iterrows()):
            y = i + (j - (len(sites) - 1) / 2) * height
            if row["reason"] or pd.isna(row["pct"]):
                ax.text(top * 0.01, y, wording.mark_of(row["reason"] or "no_answers"), va="center", fontsize=11)
                continue
            ax.barh(y, row["pct"], height=height * 0.9, color=colour)
            ax.text(row["pct"] + top * 0.01, y, fmt_pct(row["pct"]), va="center", fontsize=8)
    ax.set_yticks(range(len(categories)), categories)
    ax.set_ylim(len(categories) - 0.5, -0.5)
    ax.set_xlim(0, top * 1.15)
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{fmt_number(x)} %")
    ax.tick_params(axis="y", length=0)
    if len(sites) > 1:
        labels = list(dict.fromkeys(df["site_label"]))
        handles = [Patch(facecolor=colours[ALL_SITES if s == ALL_SITES else "site"], label=lab)
                   for s, lab in zip(sites, labels)]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=8)
    return fig


def chart_png(df: pd.DataFrame, schaubild: Schaubild, scale: Scale) -> bytes:
    with plt.rc_context(STYLE):
        fig = mentions_figure(df) if schaubild.chart == "mentions" else stacked_figure(df, scale)
        return png_bytes(fig)


# ----------------------------------------------------------------------------------------------------------------
# Text around a chart


def _n_value(part: pd.DataFrame, unit) -> str:
    """'=44'; '<5' only where the value is hidden for too few answers (a value hidden to protect another one rests
    on at least the threshold, so its N is shown exactly if the rules allow, else as '.'); '=0'; '=x'."""
    reason, n = _bar_reason(part), part["valid_n"].iloc[0]
    if reason == "primary":
        return f"={fmt_number(n)}" if unit.config.disclosure.exact_n else f"<{unit.threshold}"
    if reason == "secondary":
        return f"={fmt_number(n)}" if unit.config.disclosure.exact_n else f"={HIDDEN}"
    if reason == "not_applicable":
        return f"={NOT_APPLICABLE}"
    return f"={fmt_number(n)}" if pd.notna(n) else "=0"


def _n_parts(df: pd.DataFrame, site: str, where: str | None, unit) -> list[str]:
    """N of one site's bars: one entry if all series agree, else one per series."""
    values = {series: _n_value(part, unit) for (series, s), part in _bars(df) if s == site}
    if len(set(values.values())) == 1:
        return [f"N{next(iter(values.values()))}" + (f" ({where})" if where else "")]
    return [f"N{v} ({where + ', ' if where else ''}{series})" for series, v in values.items()]


def n_text(df: pd.DataFrame, unit: api.Unit) -> str:
    """'N=44' or, on a site page, 'N=7 (Standort), N=44 (alle Standorte)'; per series where the N differ."""
    if not unit.is_site or unit.site not in set(df["site"]):
        return ", ".join(_n_parts(df, ALL_SITES, None, unit))
    w = wording.words(unit.config)["charts"]
    return ", ".join([*_n_parts(df, unit.site, w["n_site"], unit), *_n_parts(df, ALL_SITES, w["n_all"], unit)])


def notes(df: pd.DataFrame, unit: api.Unit) -> list[str]:
    """Footnotes for the marks the chart or table shows: exactly the reasons that occur, each with its mark."""
    reasons = [r for r in api.REASONS if r and (df["reason"] == r).any()]
    return [f"{wording.mark_of(r)} {wording.reason_text(r, unit.threshold, unit.config)}" for r in reasons]


def _bar_description(part: pd.DataFrame, unit: api.Unit, chart: str) -> str:
    if reason := _bar_reason(part):
        return wording.reason_text(reason, unit.threshold, unit.config)
    shown = part if chart != "mentions" else part[part["pct"].notna()]
    values = ", ".join(f"{r.category} {fmt_pct(r.pct)}" for r in shown.itertuples() if pd.notna(r.pct))
    mean = part["mean"].iloc[0]
    if pd.isna(mean):
        return values
    return f"{values}; " + wording.words(unit.config)["charts"]["mean"].format(value=fmt_number(mean, 1))


def alt_text(df: pd.DataFrame, schaubild: Schaubild, unit: api.Unit) -> str:
    """German description of the chart and its numbers, for screen readers and the text-only report."""
    w = wording.words(unit.config)["charts"]
    if schaubild.chart == "mentions":
        head = w["alt_mentions"].format(title=schaubild.title)
        parts = [f"{site_label}: {_bar_description(df[df['site'] == site], unit, 'mentions')}."
                 for site, site_label in dict(zip(df["site"], df["site_label"])).items()]
    else:
        head = w["alt_stacked"].format(title=schaubild.title)
        parts = []
        for (series, _site), part in _bars(df):
            label = _bar_label(df, series, part["site_label"].iloc[0]).replace("\n", ", ")
            parts.append(f"{label}: {_bar_description(part, unit, 'stacked')}.")
    return " ".join([head, *parts])


# ----------------------------------------------------------------------------------------------------------------
# Site pages: what a site can show of an instrument


def site_state(unit: api.Unit, instrument: str) -> str:
    """On a site page: "not_applicable" (the site does not take part in the instrument), "below_threshold" (fewer
    returns than the threshold, so none of its values can be shown) or "" (its values are shown, marks where needed)."""
    if not unit.is_site:
        return ""
    if unit.site not in unit.config.allowed_sites(instrument):
        return "not_applicable"
    return "below_threshold" if site_returns(unit, instrument) < unit.threshold else ""


def site_returns(unit: api.Unit, instrument: str) -> int:
    """Returned questionnaires (distinct interviews) of the unit's site for `instrument`."""
    rows = unit.tables.get("responses", pd.DataFrame(columns=["instrument", "site", "n"]))
    hit = rows[(rows["instrument"].astype(str) == instrument) & (rows["site"].astype(str) == unit.site)]
    return int(hit["n"].iloc[0]) if len(hit) else 0


def _instrument_of(unit: api.Unit, items) -> str:
    return unit.codebook.items[items[0]].instrument


def _questionnaires(unit: api.Unit) -> list[str]:
    """The questionnaire instruments the unit's dimension shows, in phase.yaml order."""
    used = {unit.codebook.items[i].instrument for i in api.dimension_items(unit.codebook, unit.dimension)}
    return [i for i in unit.config.instruments if i in used and unit.codebook.instruments[i].kind == "questionnaire"]


def render_site_notices(unit: api.Unit) -> str:
    """Once per instrument on a site page: the returns, and why nothing of it is shown where that is the case."""
    if not unit.is_site:
        return ""
    words, parts = wording.words(unit.config)["site"], []
    for instrument in _questionnaires(unit):
        label = unit.codebook.instruments[instrument].label
        state, n = site_state(unit, instrument), site_returns(unit, instrument)
        if state == "not_applicable":
            parts.append(words["not_applicable"].format(instrument=label))
            continue
        shown = n >= unit.threshold or unit.config.disclosure.exact_n
        parts.append((words["responses"] if shown else words["responses_few"]).format(
            instrument=label, n=fmt_number(n), t=unit.threshold))
        if state == "below_threshold":
            parts.append(words["below_threshold"].format(instrument=label, t=unit.threshold))
    return "".join(f'<p class="hinweis standort-hinweis">{html.escape(p)}</p>' for p in parts)


def render_schaubild(unit: api.Unit, number: int) -> str:
    """One Schaubild as an HTML figure: caption, chart (PNG data URI with alt text), source line with N. On a site
    page whose site cannot show the instrument, the chart shows the overall result only, labelled as such."""
    sb = unit.codebook.schaubild(number)
    df = api.chart_data(unit, number)
    overall_only = bool(site_state(unit, _instrument_of(unit, sb.items)))
    if overall_only:
        df = df[df["site"] == ALL_SITES].reset_index(drop=True)
    scale = unit.codebook.scale_of(sb.items[0])
    uri = "data:image/png;base64," + base64.b64encode(chart_png(df, sb, scale)).decode("ascii")
    w = wording.words(unit.config)
    source = w["charts"]["source"].format(n=n_text(df, unit))
    if overall_only:
        source = f"{w['site']['overall_only']}. {source}"
    if sb.scale_note:
        source += "<br>" + w["charts"]["grade_scale"]
    note_html = "".join(f'<p class="anmerkung">{html.escape(n)}</p>' for n in notes(df, unit))
    return (
        f'<figure class="schaubild" id="schaubild-{sb.number}">'
        f'<figcaption class="schaubild-titel">{html.escape(sb.heading)}</figcaption>'
        f'<img src="{uri}" alt="{html.escape(alt_text(df, sb, unit), quote=True)}">'
        f'<p class="quelle">{html.escape(source).replace("&lt;br&gt;", "<br>")}</p>{note_html}'
        "</figure>"
    )


# ----------------------------------------------------------------------------------------------------------------
# Tables


def _table(headers: list[str], rows: list[list[str]], css: str, caption: str | None = None,
           numeric_from: int = 1, footer: list[str] | None = None) -> str:
    """An HTML table; cells from column `numeric_from` on get class "zahl" (right-aligned by the stylesheet)."""
    def cells(values, tag):
        number = ' class="zahl"'
        return "".join(
            f"<{tag}{number if i >= numeric_from else ''}>{html.escape(str(v))}</{tag}>" for i, v in enumerate(values)
        )
    head = f"<thead><tr>{cells(headers, 'th')}</tr></thead>"
    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    foot = f'<tfoot><tr class="summe">{cells(footer, "td")}</tr></tfoot>' if footer else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="{css}">{cap}{head}<tbody>{body}</tbody>{foot}</table>'


def _share_cell(row: pd.Series) -> str:
    if row["reason"]:
        return wording.mark_of(row["reason"])
    return HIDDEN if pd.isna(row["top"]) else fmt_pct(row["top"])


def _n_cell(row: pd.Series, unit) -> str:
    return _n_value(pd.DataFrame([{**row.to_dict(), "pct": row["top"]}]), unit).lstrip("=")


def render_item_table(unit: api.Unit, item_table: ItemTable) -> str:
    """Items without a chart of their own: wording, counted answer(s), N and share; on site pages site vs all."""
    df = api.item_table_data(unit, item_table)
    w = wording.words(unit.config)["item_table"]
    h = w["headers"]
    headers = [h["item"], h["counted"]]
    if site_state(unit, _instrument_of(unit, item_table.items)):
        df = df[df["site"] == ALL_SITES].reset_index(drop=True)
        headers += [h["n_all"], h["share_all"]]
    elif unit.is_site:
        headers += [h["n_site"], h["share_site"], h["n_all"], h["share_all"]]
    else:
        headers += [h["n"], h["share"]]
    rows = []
    for item_id in item_table.items:
        part = df[df["item"] == item_id]
        row = [part["wording"].iloc[0], part["top_labels"].iloc[0]]
        for _, r in part.iterrows():
            row += [_n_cell(r, unit), _share_cell(r)]
        rows.append(row)
    note_df = df.rename(columns={"top": "pct"})
    note_html = "".join(f'<p class="anmerkung">{html.escape(n)}</p>' for n in notes(note_df, unit))
    return (f'<div class="item-tabelle">{_table(headers, rows, "itemtabelle", item_table.title, numeric_from=2)}'
            f'<p class="quelle">{html.escape(w["source"])}</p>{note_html}</div>')


def _quarter_label(quarter: str) -> str:
    """'2013-Q3' → 'Q3 2013'; 'total' → thinka.wording running_statistics.total ('Gesamt')."""
    if quarter == "total":
        return wording.words()["running_statistics"]["total"]
    year, q = quarter.split("-")
    return f"{q} {year}"


def running_statistics_figure(df: pd.DataFrame, labels: dict[str, str]):
    """Grouped bars per quarter, one colour per measure (colour-blind-safe qualitative palette)."""
    quarters = df[df["quarter"] != "total"]
    measures = list(labels)
    colours = sns.color_palette("colorblind", len(measures))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.6), layout="constrained")
    width = 0.8 / max(len(measures), 1)
    for j, measure in enumerate(measures):
        xs = [i + (j - (len(measures) - 1) / 2) * width for i in range(len(quarters))]
        ax.bar(xs, quarters[measure].astype("float64"), width=width * 0.95, color=colours[j], label=labels[measure])
    ax.set_xticks(range(len(quarters)), [_quarter_label(q) for q in quarters["quarter"]], fontsize=8)
    ax.yaxis.set_major_formatter(lambda y, _pos: fmt_number(y))
    fig.legend(loc="outside lower center", ncol=len(measures), frameon=False, fontsize=8)
    return fig


def _instrument_label(unit: api.Unit, kind: str) -> str:
    """The codebook label of the unit's instrument of `kind` ("running_statistics", "interviews")."""
    iid = unit.codebook.instrument_of_kind(kind)
    return unit.codebook.instruments[iid].label if iid else ""


def render_running_statistics(unit: api.Unit) -> str:
    """The running statistics: table of quarters (with totals) and a chart; the overall unit adds totals per site.
    Its captions name the instrument by its codebook label."""
    w = wording.words(unit.config)["running_statistics"]
    label = _instrument_label(unit, "running_statistics")
    df = api.running_statistics(unit)
    if df.empty or len(df.columns) < 2:
        return f'<p class="keine-daten">{html.escape(w["none"].format(instrument=label))}</p>'
    measures = [c for c in df.columns if c != "quarter"]
    labels = {m: api.measure_label(unit, m) for m in measures}
    body = df[df["quarter"] != "total"]
    total = df[df["quarter"] == "total"]
    rows = [[_quarter_label(r["quarter"]), *(fmt_n(r[m]) for m in measures)] for _, r in body.iterrows()]
    footer = [[w["total"], *(fmt_n(r[m]) for m in measures)] for _, r in total.iterrows()]
    caption = w["caption"].format(instrument=label, site=unit.site_name)
    out = [_table([w["quarter"], *labels.values()], rows, "laufende-statistik", caption,
                  footer=footer[0] if footer else None)]
    with plt.rc_context(STYLE):
        png = png_bytes(running_statistics_figure(df, labels))
    values = "; ".join(
        f"{_quarter_label(r['quarter'])}: " + ", ".join(f"{labels[m]} {fmt_n(r[m])}" for m in measures)
        for _, r in body.iterrows())
    alt = w["alt"].format(instrument=label, values=values)
    out.append(f'<figure class="laufende-statistik-grafik"><img src="data:image/png;base64,'
               f'{base64.b64encode(png).decode("ascii")}" alt="{html.escape(alt, quote=True)}">'
               f'<p class="quelle">{html.escape(w["source"].format(instrument=label))}</p></figure>')
    by_site = api.running_statistics_by_site(unit)
    if len(by_site):
        rows = [[r["site_label"], *(fmt_n(r[m]) for m in measures)] for _, r in by_site.iterrows()
                if r["site"] != ALL_SITES]
        foot = [[api.ALL_SITES_LABEL, *(fmt_n(r[m]) for m in measures)] for _, r in by_site.iterrows()
                if r["site"] == ALL_SITES]
        out.append(_table([w["site"], *labels.values()], rows, "laufende-statistik-standorte",
                          w["by_site_caption"].format(instrument=label), footer=foot[0] if foot else None))
    return f'<div class="laufende-statistik">{"".join(out)}</div>'


def render_interviews(unit: api.Unit) -> str:
    """The interviews: partner types, themes with segment counts, statements grouped by theme — over all sites
    only: a site has a handful of interviews, so a breakdown by partner type next to the statements would point to
    a single interviewee. A site page says so and gives at most the number of its interviews."""
    label = _instrument_label(unit, "interviews")
    if unit.is_site:
        words = wording.words(unit.config)["site"]
        iid = unit.codebook.instrument_of_kind("interviews")
        n = site_returns(unit, iid) if iid else 0
        count = words["interviews_count"].format(n=fmt_number(n)) if n >= unit.threshold else ""
        notice = " ".join(filter(None, [words["interviews"].format(instrument=label), count]))
        return f'<p class="hinweis standort-hinweis">{html.escape(notice)}</p>'
    w = wording.words(unit.config)["interviews"]
    partners = api.interview_partners(unit)
    if partners["interviews"].sum() == 0:
        return f'<p class="keine-daten">{html.escape(w["none"].format(instrument=label))}</p>'
    out = [_table([w["partner"], w["interviews"]],
                  [[r["label"], fmt_number(r["interviews"])] for _, r in partners.iterrows()],
                  "interview-partner", w["partners_caption"],
                  footer=[w["total"], fmt_number(partners["interviews"].sum())])]
    themes = api.interview_themes(unit)
    out.append(_table([w["theme"], w["segments"], w["interviews"]],
                      [[r["theme_label"], fmt_n(r["segments"]), fmt_n(r["interviews"])] for _, r in themes.iterrows()],
                      "interview-themen", w["themes_caption"]))
    statements = api.interview_statements(unit)
    partner_labels = dict(zip(partners["partner"], partners["label"]))
    for theme_label, part in statements.groupby("theme_label", sort=False):
        items = "".join(
            f'<li><q>{html.escape(str(r["statement"]))}</q> <span class="partner">'
            f'({html.escape(partner_labels.get(str(r["partner"]), str(r["partner"])))})</span></li>'
            for _, r in part.iterrows()
        )
        out.append(f'<h4 class="interview-thema">{html.escape(str(theme_label))}</h4>'
                   f'<ul class="aussagen">{items}</ul>')
    return f'<div class="interviews">{"".join(out)}</div>'


# ----------------------------------------------------------------------------------------------------------------
# Pages


def render_heading(unit: api.Unit) -> str:
    """The notebook's first output: the dimension heading, on site pages with the site name."""
    dim = unit.codebook.dimension(unit.dimension)
    site = f' <span class="standortname">– {html.escape(unit.site_name)}</span>' if unit.is_site else ""
    return f'<h1 class="dimension" id="dimension-{dim.id}">{html.escape(dim.heading)}{site}</h1>' + render_site_notices(unit)


def render_section_heading(unit: api.Unit, section_id: str) -> str:
    section = next(s for s in unit.codebook.sections if s.id == section_id)
    return f'<h2 class="abschnitt" id="abschnitt-{section.id}">{html.escape(section.title)}</h2>'


# Section contents (codebook `sections[].content`) beside Schaubilder and item tables: an instrument's own tables.
SECTION_CONTENT_RENDERERS = {"running_statistics": render_running_statistics, "interviews": render_interviews}


def render_section(unit: api.Unit, section_id: str) -> str:
    """The section's Schaubilder, item tables and instrument tables, in codebook order (heading separate), one after
    the other: exactly what the generated notebook (thinka.notebook_gen) shows cell by cell."""
    parts = [render_schaubild(unit, sb.number) for sb in unit.codebook.schaubilder_of(section_id)]
    parts += [render_item_table(unit, t) for t in unit.codebook.item_tables_of(section_id)]
    content = next(s.content for s in unit.codebook.sections if s.id == section_id)
    if content is not None:
        parts.append(SECTION_CONTENT_RENDERERS[content](unit))
    return "".join(parts)
