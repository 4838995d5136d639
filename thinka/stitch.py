"""Stitch stage: executed notebooks → one self-contained HTML Datenreport, one page per site, chart data as CSV.

The report is a merged notebook exported once with nbconvert (code hidden, no prompts) through thinka's own
template, which loads nothing from the network: CSS is inlined and figures are data URIs. Front and back matter
(title page, contents, list of Schaubilder, texts, methods note, colophon) are raw HTML cells around the three
overall notebooks. Optional stages (texts, facts, published figures, chart data) are imported lazily and their
sections left out while they are absent.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from thinka import ALL_SITES, COMPARISON, __version__
from thinka.paths import PhasePaths
from thinka.wording import and_list, german_date, words

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_FILE = "datenreport.html"
TOC_MARK = "<!--thinka:toc-->"
DEVIATION_STATUS = "deviation (registered)"

Notebooks = Mapping[tuple[str, str], Path]
# phase.yaml switches for a note on the data (thinka.wording `data_notes`) -> the note's CSS class.
DATA_NOTES = {"reconstruction": "rekonstruktion", "synthetic": "synthetisch"}


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# ----------------------------------------------------------------------------------------------------------------
# Dates


def build_date(config) -> dt.datetime:
    """SOURCE_DATE_EPOCH if set (reproducible builds), else the report date from phase.yaml."""
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    value = config.report["date"]
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def _report_day(config) -> dt.date:
    value = config.report["date"]
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# ----------------------------------------------------------------------------------------------------------------
# Headings: stable ids and the table of contents (pure)

_HEADING = re.compile(r"<h([1-4])((?:\s[^>]*)?)>(.*?)</h\1>", re.S | re.I)
_ATTR_ID = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""", re.I)
_ATTR_CLASS = re.compile(r"""\sclass\s*=\s*["']([^"']*)["']""", re.I)
_ANCHOR_LINK = re.compile(r"<a[^>]*class=\"anchor-link\"[^>]*>.*?</a>", re.S)
_TAG = re.compile(r"<[^>]+>")
_ANY_ID = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str
    in_toc: bool


def slugify(text: str) -> str:
    """'Kapitel B – Befragungsergebnisse' → 'kapitel-b-befragungsergebnisse' (German umlauts transliterated)."""
    text = text.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].rstrip("-") or "abschnitt"


def heading_text(inner: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", _ANCHOR_LINK.sub("", inner))).split())


def assign_heading_ids(doc: str) -> tuple[str, list[Heading]]:
    """Give every h1–h4 without an id a stable id derived from its text; list them in document order."""
    taken = set(_ANY_ID.findall(doc))
    headings: list[Heading] = []

    def fix(match: re.Match) -> str:
        level, attrs, inner = int(match.group(1)), match.group(2) or "", match.group(3)
        text = heading_text(inner)
        classes = (_ATTR_CLASS.search(attrs).group(1) if _ATTR_CLASS.search(attrs) else "").split()
        existing = _ATTR_ID.search(attrs)
        if existing:
            hid = existing.group(1)
        else:
            base = slugify(text)
            hid, n = base, 2
            while hid in taken:
                hid, n = f"{base}-{n}", n + 1
            taken.add(hid)
            attrs = f' id="{hid}"{attrs}'
        headings.append(Heading(level, hid, text, "no-toc" not in classes))
        return f"<h{level}{attrs}>{_ANCHOR_LINK.sub('', inner)}</h{level}>"

    return _HEADING.sub(fix, doc), headings


def render_toc(headings: Iterable[Heading], max_level: int = 3, config=None) -> str:
    items = [
        f'<li class="ebene-{h.level}"><a href="#{esc(h.id)}">{esc(h.text)}</a></li>'
        for h in headings if h.in_toc and h.level <= max_level
    ]
    return (
        '<nav class="verzeichnis inhalt" id="inhaltsverzeichnis" aria-labelledby="inhaltsverzeichnis-titel">'
        f'<h1 class="no-toc" id="inhaltsverzeichnis-titel">{esc(words(config)["front"]["toc"])}</h1>'
        f"<ol>{''.join(items)}</ol></nav>"
    )


# ----------------------------------------------------------------------------------------------------------------
# Front and back matter (pure: config, codebook and plain data in, HTML out)


def title_page(config) -> str:
    r, w = config.report, words(config)["front"]
    parts = ['<section class="titelseite" id="titelseite">', f'<h1 class="no-toc titel">{esc(r["title"])}</h1>']
    if r.get("subtitle"):
        parts.append(f'<p class="untertitel">{esc(r["subtitle"])}</p>')
    if r.get("phase_line"):
        parts.append(f'<p class="phase">{esc(r["phase_line"])}</p>')
    parts.extend(data_notes(config))
    if r.get("authors"):
        parts.append(f'<div class="autoren"><p>{esc(w["authors"])}</p><p><strong>{esc(", ".join(r["authors"]))}</strong></p>')
        if r.get("contributors"):
            parts.append(f"<p>{esc(w['contributors'].format(names=and_list(r['contributors'], config)))}</p>")
        parts.append("</div>")
    parts.append(f'<p class="berichtsdatum">{esc(german_date(_report_day(config), config))}</p></section>')
    return "".join(parts)


def data_note_text(config, kind: str) -> str:
    """The text of the note on the data: phase.yaml report.<kind>_note, else thinka.wording data_notes.<kind>.text."""
    return str(config.report.get(f"{kind}_note", words(config)["data_notes"][kind]["text"]))


def data_note(config, kind: str) -> str:
    """The note on the data of `kind` (a key of DATA_NOTES: "reconstruction" or "synthetic"), as on the title page
    and on every site page."""
    if kind not in DATA_NOTES:
        raise ValueError(f"Unknown data note {kind!r}; allowed: {', '.join(DATA_NOTES)}.")
    heading = words(config)["data_notes"][kind]["heading"]
    return (f'<div class="hinweis {DATA_NOTES[kind]}" role="note"><p><strong>{esc(heading)}</strong> '
            f"{esc(data_note_text(config, kind))}</p></div>")


def data_notes(config) -> list[str]:
    """The notes the phase's switches (`reconstruction`, `synthetic`) call for, in that order."""
    return [data_note(config, kind) for kind in DATA_NOTES if getattr(config, kind)]


def schaubild_list(codebook, tabellen: list[tuple[str, str]] = (), extra: list[tuple[str, str]] = (),
                   config=None) -> str:
    """The linked list of Tabellen and Schaubilder ('Schaubild n – title'), figures found by id schaubild-n; `extra`
    (anchor, label) pairs follow, e.g. the comparison charts."""
    items = [f'<li><a href="#{esc(anchor)}">{esc(label)}</a></li>' for anchor, label in tabellen]
    items += [f'<li><a href="#schaubild-{s.number}">{esc(s.label)}</a></li>' for s in codebook.schaubilder]
    items += [f'<li><a href="#{esc(anchor)}">{esc(label)}</a></li>' for anchor, label in extra]
    return (
        '<nav class="verzeichnis schaubilder" id="schaubildverzeichnis" aria-labelledby="schaubildverzeichnis-titel">'
        f'<h1 class="no-toc" id="schaubildverzeichnis-titel">{esc(words(config)["front"]["figures"])}</h1>'
        f"<ol>{''.join(items)}</ol></nav>"
    )


def chapter(title: str, anchor: str, body: str = "") -> str:
    return f'<h1 class="kapitel" id="{esc(anchor)}">{esc(title)}</h1>{body}'


def site_links(config) -> str:
    items = "".join(
        f'<li><a href="standorte/{esc(s.code)}.html">{esc(s.name)}</a></li>' for s in config.sites
    )
    w = words(config)["site_links"]
    return (
        f'<section class="standortberichte"><h1 id="standortberichte">{esc(w["heading"])}</h1>'
        f"<p>{esc(w['intro'])}</p><ul>{items}</ul></section>"
    )


def html_table(header: list[str], rows: list[list[Any]], caption: str | None = None, numeric: Iterable[int] = ()) -> str:
    numeric = set(numeric)

    def cls(i: int) -> str:
        return ' class="zahl"' if i in numeric else ""

    head = "".join(f'<th scope="col"{cls(i)}>{esc(h)}</th>' for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{esc(v)}</td>" for i, v in enumerate(r)) + "</tr>" for r in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def methods_note(config, suppressed: list[list[str]], deviations: tuple[list[str], list[list[Any]]] | None,
                 chart_files: list[str], codebook=None) -> str:
    """Methodische Hinweise: data basis, rounding, suppression (with the suppressed values), deviations, CSVs."""
    m = words(config)["methods"]
    notes = words(config)["data_notes"]
    parts = ['<section class="methoden">', f'<h1 id="methodische-hinweise">{esc(m["heading"])}</h1>']
    parts.append(f'<h2 id="datengrundlage">{esc(m["data_heading"])}</h2>')
    for kind in DATA_NOTES:
        if getattr(config, kind):
            parts.append(f"<p>{esc(data_note_text(config, kind))} {esc(notes[kind]['methods'])}</p>")
    if not any(getattr(config, kind) for kind in DATA_NOTES):
        parts.append(f"<p>{esc(m['data_default'])}</p>")
    parts.append(f'<h2 id="rundung">{esc(m["rounding_heading"])}</h2>')
    parts.append(f"<p>{esc(m['rounding'])}</p>")
    parts.append(f'<h2 id="geheimhaltung">{esc(m["disclosure_heading"])}</h2>')
    parts.extend(f"<p>{esc(p)}</p>" for p in disclosure_paragraphs(config, codebook))
    parts.append(marks_legend(config))
    if suppressed:
        parts.append(suppression_matrix(suppressed, config.site_codes, config))
    else:
        parts.append(f"<p>{esc(m['nothing_suppressed'])}</p>")
    if config.previous_phase:
        parts.append(comparison_methods(config))
    if deviations is not None:
        header, rows = deviations
        heading = m["deviations_heading"].format(edition=previous_edition(config))
        parts.append(f'<h2 id="abweichungen">{esc(heading)}</h2>')
        if rows:
            parts.append(f"<p>{esc(m['deviations'])}</p>")
            parts.append(html_table(header, rows, caption=m["deviations_caption"]))
        else:
            parts.append(f"<p>{esc(m['deviations_none'])}</p>")
    if chart_files:
        links = "".join(f'<li><a href="{esc(f)}">{esc(f)}</a></li>' for f in chart_files)
        parts.append(f'<h2 id="daten-zu-den-schaubildern">{esc(m["chart_data_heading"])}</h2>')
        parts.append(f'<p>{esc(m["chart_data"])}</p><ul class="dateien">{links}</ul>')
    parts.append("</section>")
    return "".join(parts)


def colophon(config, *, build: dt.datetime, code_hash: str, inputs: list[tuple[str, str]]) -> str:
    w = words(config)["colophon"]
    rows = [[name, sha] for name, sha in inputs]
    table = html_table([w["input_file"], w["checksum"]], rows, caption=w["inputs_caption"]) if rows else ""
    text = w["text"].format(version=__version__, date=german_date(build.date(), config), phase=config.phase)
    return (
        f'<section class="kolophon"><h1 id="kolophon">{esc(w["heading"])}</h1><p>{esc(text)}</p>'
        f'<p>{esc(w["code_hash"])} <span class="hash">{esc(code_hash)}</span></p>'
        f"{table}</section>"
    )


# ----------------------------------------------------------------------------------------------------------------
# Data from the other stages (imported when stitching: they pull in pandas and matplotlib)


@dataclass
class ReportInputs:
    tables: Any = None
    facts: Any = None
    parts: dict[str, str] | None = None
    tabelle_1: str | None = None
    deviations: tuple[list[str], list[list[Any]]] | None = None


def gather_inputs(paths: PhasePaths, config, codebook) -> ReportInputs:
    from thinka import api, published, texts
    from thinka.facts import compute_facts

    out = ReportInputs()
    if not (paths.processed / "manifest.json").is_file():
        return out
    out.tables = api.load_tables(paths.phase, root=paths.root)
    out.facts = compute_facts(out.tables, config, codebook)
    out.parts = {}
    for name in ("vorwort", "kapitel_a", "kapitel_c", "auf_einen_blick"):
        if (part := texts.render_document_part(paths, name, out.facts)) is not None:
            out.parts[name] = part
    out.tabelle_1 = texts.tabelle_1(config, codebook, out.facts)
    if paths.published.is_file():
        table = published.compare(published.load_register(paths.published), out.facts, out.tables)
        out.deviations = deviation_rows(table, config)
    return out


# Columns of the comparison table shown in the report, in this order (headers: thinka.wording methods.deviation_columns).
DEVIATION_COLUMNS = ("schaubild", "where", "printed_shown", "shown", "note")


def previous_edition(config) -> str:
    """Name of the printed edition the register compares with (phase.yaml report.previous_edition)."""
    return str(config.report.get("previous_edition", words(config)["methods"]["previous_edition"]))


def deviation_rows(table, config=None) -> tuple[list[str], list[list[Any]]]:
    """Rows of `published.compare` with status 'deviation (registered)', as (header, rows) for the report."""
    records = table.to_dict("records") if hasattr(table, "to_dict") else [r if isinstance(r, dict) else vars(r) for r in table]
    records = [r for r in records if str(r.get("status")) == DEVIATION_STATUS]
    present = set().union(*(r.keys() for r in records)) if records else set()
    cols, headers = [], []
    labels = words(config)["methods"]["deviation_columns"]
    for key in DEVIATION_COLUMNS:
        label = labels[key]
        if key in present and label not in headers:
            cols.append(key)
            headers.append(label)
    if not cols:
        cols = sorted(k for k in present if k != "status")
        headers = cols
    return headers, [[_cell(r.get(c)) for c in cols] for r in records]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return str(value)


def suppressed_values(processed: Path, config, codebook) -> list[list[str]]:
    """One row per suppressed (item, site): read from the `suppressed` columns of the processed tables."""
    import pandas as pd

    found: dict[tuple[str, str], set[str]] = {}
    for path in sorted(processed.glob("*.parquet")):
        df = pd.read_parquet(path)
        if "suppressed" not in df.columns or "site" not in df.columns:
            continue
        label_col = "item" if "item" in df.columns else ("measure" if "measure" in df.columns else None)
        hit = df[df["suppressed"].fillna(False).astype(bool)]
        for _, row in hit.iterrows():
            name = str(row[label_col]) if label_col else path.stem
            kind = str(row["suppression"]) if "suppression" in df.columns and pd.notna(row["suppression"]) else "primary"
            found.setdefault((name, str(row["site"])), set()).add(kind)
    order = {code: i for i, code in enumerate(config.site_codes)}
    rows = []
    for (name, site), ks in sorted(found.items(), key=lambda kv: (_item_order(codebook, kv[0][0]), order.get(kv[0][1], 99), kv[0])):
        # Primary wins where an item's value is suppressed for both reasons (several tables per item).
        rows.append([_item_label(codebook, name, config), site, "primary" if "primary" in ks else "secondary"])
    return rows


def disclosure_paragraphs(config, codebook=None) -> list[str]:
    """The methods note's account of the disclosure rules of `config.disclosure`, in the wording of thinka.wording;
    with `codebook`, the paragraph on interviews when it has an interview instrument (named by its label)."""
    m, rules = words(config)["methods"], config.disclosure
    chosen = [m["disclosure_rule"], m["zeros_protected" if rules.protect_zeros else "zeros_open"],
              m["exact_n_shown" if rules.exact_n else "exact_n_hidden"], m["residual"]]
    interviews = codebook.instrument_of_kind("interviews") if codebook is not None else None
    if interviews:
        chosen.append(m["interviews"])
    label = codebook.instruments[interviews].label if interviews else ""
    return [p.format(t=rules.threshold, instrument=label) for p in chosen]


def comparison_methods(config) -> str:
    """The methods note's account of the change rule, in the wording of thinka.wording (comparison)."""
    from thinka.comparison import phase_words

    w, fmt = words(config)["comparison"], phase_words(config)
    return (f'<h2 id="vergleich-methode">{esc(w["methods_heading"].format(**fmt))}</h2>'
            f'<p>{esc(w["methods"].format(**fmt))}</p><p>{esc(w["methods_sites"].format(**fmt))}</p>')


def marks_legend(config) -> str:
    """The legend of the marks (DIN 55301), on every page."""
    w = words(config)
    items = "".join(f"<dt>{esc(w['marks'][k])}</dt><dd>{esc(w['legend'][k])}</dd>" for k in w["legend"])
    return f'<aside class="zeichenerklaerung"><p class="legende-titel">{esc(w["legend_title"])}</p><dl>{items}</dl></aside>'


SUPPRESSION_MARKS = {"primary": ".", "secondary": "(.)"}


def suppression_matrix(rows: list[list[str]], site_codes: tuple[str, ...], config=None) -> str:
    """The suppressed site values as one compact table: Merkmal × Standort (in `site_codes` order),
    . primary, (.) secondary; `rows` are (label, site, kind) from `suppressed_values`."""
    present = {site for _, site, _ in rows}
    sites = [s for s in site_codes if s in present]
    labels = list(dict.fromkeys(label for label, _, _ in rows))
    marks = {(label, site): SUPPRESSION_MARKS[kind] for label, site, kind in rows}
    body = [[label, *(marks.get((label, site), "") for site in sites)] for label in labels]
    m = words(config)["methods"]
    table = html_table([m["matrix_header"], *sites], body, caption=m["matrix_caption"])
    legend = f'<p class="legende">{esc(m["matrix_legend"])}</p>'
    return f'<div class="geheimhaltung">{table}{legend}</div>'


def _item_order(codebook, item: str) -> int:
    keys = list(codebook.items)
    return keys.index(item) if item in keys else len(keys)


def _item_label(codebook, item: str, config=None) -> str:
    for sb in codebook.schaubilder:
        if item in sb.items:
            return words(config)["methods"]["matrix_item"].format(number=sb.number,
                                                                  label=codebook.items[item].short or sb.title)
    if item in codebook.items:
        it = codebook.items[item]
        return it.short or it.wording
    return item


def manifest_inputs(processed: Path) -> list[tuple[str, str]]:
    """(file, sha256) of every raw input listed in data/processed/<phase>/manifest.json."""
    path = processed / "manifest.json"
    if not path.is_file():
        return []
    inputs = json.loads(path.read_text(encoding="utf-8")).get("inputs", {})
    if isinstance(inputs, dict):
        pairs = [(k, (v.get("sha256") if isinstance(v, dict) else v) or "–") for k, v in inputs.items()]
    else:
        pairs = [(i.get("file") or i.get("path") or i.get("name", ""), i.get("sha256", "")) for i in inputs]
    return sorted((str(a), str(b)) for a, b in pairs)


# ----------------------------------------------------------------------------------------------------------------
# Notebooks → HTML (nbconvert)


def raw_html(source: str):
    import nbformat

    return nbformat.v4.new_raw_cell(source, metadata={"raw_mimetype": "text/html"})


NOTEBOOK_ONLY = "notebook-only"  # cell tag: shown in JupyterLab, left out of the report

_HEADING_TAG = re.compile(r"<(/?)h([1-6])(?=[\s>])", re.I)


def demote_headings(markup: str, by: int = 1) -> str:
    """h1 → h2 etc. (`by` may be negative): a notebook's page heading becomes a section of the chapter around it."""
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{max(1, min(int(m.group(2)) + by, 6))}", markup)


def report_cells(path: Path, demote: int = 1) -> list:
    """The cells of an executed notebook that belong in the report: outputs only, no warnings on stderr,
    headings one level down (the report's chapters and site pages are the h1)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cells = []
    for cell in nb.cells:
        if NOTEBOOK_ONLY in cell.metadata.get("tags", []):
            continue  # explanations for researchers in JupyterLab, not report text
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.get("name") == "stderr")]
            for o in cell.outputs:
                if "data" in o and "text/html" in o.data:
                    o.data["text/html"] = demote_headings(_joined(o.data["text/html"]), demote)
            if not cell.outputs:
                continue
        elif cell.cell_type == "markdown":
            cell.source = re.sub(r"^(#{1,5}) ", lambda m: "#" * (len(m.group(1)) + demote) + " ", cell.source, flags=re.M)
        cells.append(cell)
    return cells


_COMPARISON_FIGURE = re.compile(
    r'<figure class="schaubild vergleich" id="([^"]+)"><figcaption class="schaubild-titel">(.*?)</figcaption>', re.S)


def comparison_figures(path: Path) -> list[tuple[str, str]]:
    """(anchor, caption) of every comparison chart an executed comparison notebook shows, in order."""
    import nbformat

    found = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        for output in cell.get("outputs", []):
            markup = _joined(output.get("data", {}).get("text/html", ""))
            found += [(a, heading_text(c)) for a, c in _COMPARISON_FIGURE.findall(markup)]
    return found


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def merge_cells(cells: list, metadata: dict | None = None):
    """One notebook from many cells, with fresh sequential ids (merged notebooks would repeat ids)."""
    import copy

    import nbformat

    nb = nbformat.v4.new_notebook(metadata=metadata or {})
    for i, cell in enumerate(cells):
        cell = copy.deepcopy(cell)
        cell["id"] = f"c{i:04d}"
        nb.cells.append(cell)
    return nb


def page_meta(config, build: dt.datetime) -> list[tuple[str, str]]:
    stamp = build.strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = [("generator", f"thinka {__version__}"), ("dcterms.created", stamp), ("dcterms.modified", stamp)]
    if config.report.get("authors"):
        meta += [("author", a) for a in config.report["authors"]]
    return meta


def export_html(nb, *, title: str, lang: str, meta: list[tuple[str, str]], body_class: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="thinka", extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
    )
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    resources = {"thinka": {"title": title, "lang": lang, "meta": meta, "css": css, "body_class": body_class}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def finish_html(doc: str, config=None) -> str:
    """Stable heading ids, then the table of contents in place of its marker."""
    doc, headings = assign_heading_ids(doc)
    start = doc.find(TOC_MARK)
    if start >= 0:
        doc = doc.replace(TOC_MARK, render_toc((h for h in headings), config=config), 1)
    return doc


# ----------------------------------------------------------------------------------------------------------------
# Assembly


def _tabelle_1_block(markup: str) -> tuple[str, tuple[str, str]]:
    cap = re.search(r"<caption[^>]*>(.*?)</caption>", markup, re.S)
    label = heading_text(cap.group(1)) if cap else "Tabelle 1"
    label = re.sub(r"^(Tabelle \d+):\s*", r"\1 – ", label)  # the list's form: 'Tabelle 1 – title'
    if 'id="tabelle-1"' not in markup:
        markup = f'<div class="tabelle" id="tabelle-1">{markup}</div>'
    return markup, ("tabelle-1", label)


def chapter_title(config, name: str) -> str:
    """report.chapters.<name> of thinka.yaml / phase.yaml, else thinka.wording chapters.<name>."""
    return str((config.report.get("chapters") or {}).get(name, words(config)["chapters"][name]))


def _text_part(name: str, markup: str, title: str) -> str:
    """A chapter from thinka.texts under its h1; the text's own top headings become h2."""
    levels = [int(x) for x in re.findall(r"<h([1-6])[\s>]", markup)]
    if levels and min(levels) != 2:
        markup = demote_headings(markup, 2 - min(levels))
    return chapter(title, slugify(name.replace("_", "-")), markup)


def main_report_cells(config, codebook, notebooks: Notebooks, inputs: ReportInputs, *, suppressed, chart_files,
                      build: dt.datetime, code_hash: str, manifest: list) -> list:
    parts = inputs.parts or {}
    tabellen, kapitel_a = [], parts.get("kapitel_a")
    if kapitel_a is not None and inputs.tabelle_1:
        block, entry = _tabelle_1_block(inputs.tabelle_1)
        # thinka.texts may already have placed the table inside Kapitel A; then only its anchor is added.
        if 'id="tabelle-1"' not in kapitel_a:
            kapitel_a = kapitel_a.replace(inputs.tabelle_1, block, 1) if inputs.tabelle_1 in kapitel_a else kapitel_a + block
        tabellen.append(entry)
    comparison = notebooks.get((COMPARISON, ALL_SITES))
    extra = comparison_figures(comparison) if comparison else []
    cells = [raw_html(title_page(config)),
             raw_html(TOC_MARK + schaubild_list(codebook, tabellen, extra, config) + marks_legend(config))]
    if "vorwort" in parts:
        cells.append(raw_html(_text_part("vorwort", parts["vorwort"], chapter_title(config, "vorwort"))))
    if kapitel_a is not None:
        cells.append(raw_html(_text_part("kapitel_a", kapitel_a, chapter_title(config, "kapitel_a"))))
    cells.append(raw_html(chapter(chapter_title(config, "kapitel_b"), "kapitel-b")))
    for dim in codebook.dimensions:  # each notebook opens with its dimension heading
        cells.extend(report_cells(notebooks[(dim.id, ALL_SITES)]))
    if comparison:  # its own chapter: the notebook's h1 stays an h1
        cells.extend(report_cells(comparison, demote=0))
    for name in ("kapitel_c", "auf_einen_blick"):
        if name in parts:
            cells.append(raw_html(_text_part(name, parts[name], chapter_title(config, name))))
    cells.append(raw_html(site_links(config)))
    cells.append(raw_html(methods_note(config, suppressed, inputs.deviations, chart_files, codebook)))
    cells.append(raw_html(colophon(config, build=build, code_hash=code_hash, inputs=manifest)))
    return cells


def site_cells(config, codebook, notebooks: Notebooks, site: str) -> list:
    s, w = config.site(site), words(config)["site_page"]
    back = f'<p class="zurueck"><a href="../datenreport.html">{esc(w["back"])}</a></p>'
    subtitle = w["subtitle"].format(phase_line=config.report.get("phase_line", config.phase))
    head = (
        f'<header class="standort-kopf">{back}'
        f'<h1 id="standort-{esc(site)}">{esc(s.name)}</h1>'
        f"<p>{esc(subtitle)}</p>"
    )
    head += "".join(data_notes(config))
    cells = [raw_html(head + "</header>")]
    for dim in codebook.dimensions:
        cells.extend(report_cells(notebooks[(dim.id, site)]))
    if (COMPARISON, site) in notebooks:
        cells.extend(report_cells(notebooks[(COMPARISON, site)]))
    cells.append(raw_html(marks_legend(config) + back))
    return cells


def write_chart_data(paths: PhasePaths, out_dir: Path, codebook, config) -> list[Path]:
    """Every CSV of daten/ (charts, item tables, returned questionnaires): see thinka.publish_csv."""
    from thinka.publish_csv import write_published_csvs

    return write_published_csvs(paths, out_dir, codebook, config)


def _write_page(path: Path, nb, *, title: str, config, build: dt.datetime, body_class: str, within: Path) -> Path:
    from thinka.io import atomic_write_text

    lang = str(config.report.get("language", "de"))
    doc = export_html(nb, title=title, lang=lang, meta=page_meta(config, build), body_class=body_class)
    atomic_write_text(path, finish_html(doc, config), within=within)
    return path


def stitch_phase(paths: PhasePaths, out_dir: Path, notebooks: Notebooks, *, code_hash: str) -> list[Path]:
    """Write datenreport.html, standorte/<site>.html and daten/*.csv into `out_dir`; return the files written."""
    from thinka.codebook import load_codebook, load_phase
    from thinka.io import safe_join

    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    build = build_date(config)
    inputs = gather_inputs(paths, config, codebook)
    written = write_chart_data(paths, out_dir, codebook, config)
    chart_files = [p.relative_to(out_dir).as_posix() for p in written if p.parent == out_dir / "daten"]
    suppressed = suppressed_values(paths.processed, config, codebook) if paths.processed.is_dir() else []
    cells = main_report_cells(config, codebook, notebooks, inputs, suppressed=suppressed, chart_files=chart_files,
                              build=build, code_hash=code_hash, manifest=manifest_inputs(paths.processed))
    title = config.report["title"]
    written.insert(0, _write_page(out_dir / REPORT_FILE, merge_cells(cells), title=title, config=config,
                                  build=build, body_class="datenreport", within=out_dir))
    for site in config.site_codes:
        nb = merge_cells(site_cells(config, codebook, notebooks, site))
        name = config.site(site).name
        written.append(_write_page(safe_join(out_dir / "standorte", f"{site}.html"), nb, title=f"{name} – {title}",
                                   config=config, build=build, body_class="standortseite", within=out_dir))
    return written
