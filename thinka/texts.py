"""The report's German prose: load `texte/*.md`, substitute numbers bound to computed facts, check stale numbers.

Binding syntax
--------------
The prose of a phase lives as editable Markdown in ``data/raw/<phase>/texte/``. Every number that comes from the
data is written as a *binding*::

    {{82|item.froh_standort.top2}} Prozent der Befragten ...

The part before ``|`` is the number as the author wrote it (German format: ``82``, ``2,2``, ``1.457``; a rank fact
may bind a label instead: ``{{Schulden|item.problem.rank.1}}``); the part after it is a fact key of
:mod:`thinka.facts` (``item.<id>.top2``, ``stats.<measure>``, ``instrument.<id>.n``, ...).

* :func:`render` replaces each binding with the formatted computed value (``thinka.facts.format_fact``), so the
  report always prints the current data.
* :func:`check_texts` compares the written number with the computed one and reports

  - ``stale number``: the written number differs from the formatted computed value (the data changed, the prose
    did not);
  - ``unknown fact``: the key is not a fact of this phase (with the closest keys as suggestions);
  - ``knapp not below``: ``knapp {{X|key}}`` ("just under X") while the exact computed value is not below X;
  - ``unbound number``: any other digit in the prose. Allowed without a binding are years (``2014``), dates
    (``31. März 2015``, ``01/2013``, ``31.03.2015``), quarter names (``Quartal 3``, ``3. Quartal``, ``2014-Q3``),
    numbers of chapters, sections, Schaubilder and Tabellen (``Schaubild 4``, ``Schaubilder 9 und 10``,
    ``Tabelle 1``, ``Abschnitt 2.1``), Markdown list numbers and footnote marks (``[^1]``).

``{{tabelle_1}}`` on a line of its own marks where :func:`tabelle_1` goes (see :func:`render_document_part`).
HTML comments (``<!-- ... -->``) are notes for editors: neither rendered nor checked.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from thinka import ALL_SITES
from thinka.errors import ThinkaError

TABELLE_1 = "tabelle_1"
README = "README.md"

PROBLEMS = ("stale number", "unknown fact", "unbound number", "knapp not below", "unsupported change")
_CHANGE_KEY = re.compile(r"change\.(\w+)\.\w+")

# {{written|key}}; written and key must not contain braces or a pipe.
_BINDING = re.compile(r"\{\{\s*(?P<written>[^{}|]*?)\s*\|\s*(?P<key>[^{}|]*?)\s*\}\}")
# Any {{...}}: used to find malformed bindings and placeholders.
_PLACEHOLDER = re.compile(r"\{\{\s*(?P<body>[^{}]*?)\s*\}\}")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_KNAPP_BEFORE = re.compile(r"\bknapp\s+$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_GERMAN_NUMBER = re.compile(r"^[+\-−]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$|^[+\-−]?\d+(?:,\d+)?$|^[+\-−]?\d+\.\d+$")

_MONTHS = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
_RANGE = r"(?:\s*(?:,|und|bis|sowie|oder|&|–|-)\s*\d+(?:\.\d+)*)*"
# Digits a reader expects without a binding. Order does not matter: all spans are masked before the search.
_ALLOWED_DIGITS = tuple(
    re.compile(p, re.IGNORECASE | re.MULTILINE)
    for p in (
        r"\b\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)\d{2}\b",  # 31.03.2015
        r"\b\d{1,2}\.\s+(?:" + _MONTHS + r")\b",  # 31. März
        r"\b\d{1,2}/(?:19|20)\d{2}\b",  # 01/2013
        r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b",  # 2015-03-31
        r"\b(?:19|20)\d{2}-Q[1-4]\b",  # 2014-Q3
        r"\bQ[1-4]\b",
        r"\bQuartal(?:e|en|s)?\s+[1-4]" + _RANGE,  # Quartal 1 & 2
        r"\b[1-4]\.\s*(?:und\s+[1-4]\.\s*)?Quartal",  # 3. Quartal, 1. und 2. Quartal
        r"\b(?:19|20)\d{2}\b",  # years
        r"\b(?:Schaubild(?:er|ern|s)?|Tabellen?|Kapitel|Abschnitt(?:e|en)?|Abbildung(?:en)?|Fußnote)\s+"
        r"(?:[A-C]|\d+(?:\.\d+)*)" + _RANGE,
        r"^\s*(?:[-*+]\s+)?\d+[.)]\s",  # ordered list item
        r"^\s*#{1,6}\s+\d+(?:\.\d+)*\.?\s",  # numbered heading
        r"\[\^[^\]]+\]",  # footnote mark
    )
)

Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class Binding:
    written: str
    key: str
    start: int
    end: int


@dataclass(frozen=True)
class TextIssue:
    """One problem in a text file; `line` is 1-based, `sentence` the sentence the problem sits in."""

    file: str
    line: int
    sentence: str
    written: str
    computed: str | None
    key: str | None
    problem: str
    suggestions: tuple[str, ...] = ()


# ----------------------------------------------------------------------------------------------------------------
# Loading


def _file_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ThinkaError(f"Invalid text name {name!r}.", hint="Give the file name inside texte/, e.g. 'kapitel_a'.")
    return name if name.endswith(".md") else f"{name}.md"


def load_text(texts_dir: Path, name: str) -> str | None:
    """The Markdown of `texts_dir/<name>.md`, or None if the phase has no such text."""
    path = Path(texts_dir) / _file_name(name)
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ThinkaError(
            f"{path}: not UTF-8 (byte {exc.start}).", hint="Save the text as UTF-8 in your editor."
        ) from None


def text_files(texts_dir: Path) -> list[Path]:
    """The prose files of a phase in name order (README.md documents the syntax and is no prose)."""
    texts_dir = Path(texts_dir)
    if not texts_dir.is_dir():
        return []
    return sorted(p for p in texts_dir.glob("*.md") if p.name != README)


# ----------------------------------------------------------------------------------------------------------------
# Bindings


def _strip_comments(text: str) -> str:
    # Keep newlines so that line numbers stay right.
    return _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def iter_bindings(text: str) -> Iterator[Binding]:
    """Every `{{written|key}}` in `text`, in order (HTML comments excluded)."""
    for m in _BINDING.finditer(_strip_comments(text)):
        yield Binding(m.group("written"), m.group("key"), m.start(), m.end())


def _default_formatter() -> Formatter:
    from thinka.facts import format_fact  # imported late: facts imports pandas, texts must stay light

    return format_fact


def close_keys(key: str, facts: Mapping[str, Any], n: int = 3) -> tuple[str, ...]:
    """The fact keys most similar to `key` (for 'did you mean')."""
    keys = list(facts.keys())
    out = difflib.get_close_matches(key, keys, n=n, cutoff=0.6)
    # A wrong measure of a right item (item.x.top3) is better served by the item's own keys.
    stem = key.rsplit(".", 1)[0]
    out += [k for k in keys if k.startswith(stem + ".") and k not in out]
    return tuple(out[:n])


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _unknown_key_error(key: str, facts: Mapping[str, Any], where: str) -> ThinkaError:
    close = close_keys(key, facts)
    allowed = f" Close keys: {', '.join(close)}." if close else ""
    return ThinkaError(
        f"{where}: unknown fact key {key!r}.{allowed}",
        hint="Fact keys follow thinka.facts (item.<id>.top2, stats.<measure>, ...); run `thinka check-texts`.",
    )


def render(text: str, facts: Mapping[str, Any], *, source: str = "text", formatter: Formatter | None = None) -> str:
    """`text` with every binding replaced by its formatted computed value; comments removed.

    `{{tabelle_1}}` is left in place (render_document_part puts the table there). An unknown key raises a
    ThinkaError naming `source`, the line and the closest keys.
    """
    fmt = formatter or _default_formatter()
    text = _strip_comments(text)

    def substitute(m: re.Match) -> str:
        key = m.group("key")
        try:
            fact = facts[key]
        except KeyError:
            raise _unknown_key_error(key, facts, f"{source}, line {_line_of(text, m.start())}") from None
        return fmt(fact)

    return _BINDING.sub(substitute, text)


# ----------------------------------------------------------------------------------------------------------------
# Checking


def _to_number(s: str) -> Decimal | None:
    """A German-formatted number ('1.457', '2,2', '82') as Decimal; None if `s` is no number."""
    s = s.strip().replace("\u202f", "").replace("\xa0", "").rstrip("%").strip()
    if not _GERMAN_NUMBER.match(s):
        return None
    if "," in s or re.match(r"^[+\-−]?\d{1,3}(?:\.\d{3})+$", s):
        s = s.replace(".", "").replace(",", ".")
    try:
        return Decimal(s.replace("−", "-"))
    except InvalidOperation:
        return None


def _same(written: str, computed: str) -> bool:
    a, b = _to_number(written), _to_number(computed)
    if a is not None and b is not None:
        return a == b
    # Labels (rank facts) compare as text.
    return " ".join(written.split()).casefold() == " ".join(computed.split()).casefold()


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around text[start:end]: bounded by a paragraph break, a list item or '. ' + capital."""
    left = max(text.rfind("\n\n", 0, start), text.rfind("\n- ", 0, start), text.rfind("\n* ", 0, start))
    for m in re.finditer(r"[.!?:]\s+(?=[A-ZÄÖÜ„\"(*{])", text[max(left, 0) : start]):
        left = max(left, 0) + m.end() - 1
    stops = [i for i in (text.find("\n\n", end), text.find("\n- ", end), text.find("\n* ", end)) if i >= 0]
    right = min(stops) if stops else len(text)
    m = re.search(r"[.!?](?=\s+[A-ZÄÖÜ„\"(*{]|\s*$)", text[end:right])
    if m:
        right = end + m.end()
    return " ".join(text[left + 1 : right].split()).lstrip("-*# ").strip()


def _binding_issues(name: str, text: str, facts: Mapping[str, Any], fmt: Formatter, numbers: bool = True) -> list[TextIssue]:
    issues = []
    for m in _PLACEHOLDER.finditer(text):
        body = m.group("body")
        line, sentence = _line_of(text, m.start()), _sentence(text, m.start(), m.end())
        if body == TABELLE_1:
            continue
        b = _BINDING.fullmatch(m.group(0))
        if b is None:  # {{82}} or {{foo}}: a binding without key
            issues.append(TextIssue(name, line, sentence, body, None, None, "unknown fact"))
            continue
        written, key = b.group("written"), b.group("key")
        try:
            fact = facts[key]
        except KeyError:
            issues.append(TextIssue(name, line, sentence, written, None, key, "unknown fact", close_keys(key, facts)))
            continue
        if not numbers:
            continue  # keys only: there are no data to compare the written number with yet
        computed = fmt(fact)
        if not _same(written, computed):
            issues.append(TextIssue(name, line, sentence, written, computed, key, "stale number"))
        elif _KNAPP_BEFORE.search(text[max(0, m.start() - 20) : m.start()]):
            exact, target = getattr(fact, "value", None), _to_number(written)
            if exact is not None and target is not None and not Decimal(str(exact)) < target:
                issues.append(TextIssue(name, line, sentence, written, str(exact), key, "knapp not below"))
    return issues


def _claim_patterns(config) -> dict[str, re.Pattern[str]]:
    from thinka.wording import words

    claims = words(config)["comparison"]["claims"]
    return {d: re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in claims[d]) + ")", re.IGNORECASE)
            for d in ("up", "down")}


def _claim_issues(name: str, text: str, facts: Mapping[str, Any]) -> list[TextIssue]:
    """A sentence that binds change.<item>.* and calls it a rise or a fall the change rule does not support."""
    config = getattr(facts, "config", None)
    if config is None or not getattr(config, "previous_phase", None):
        return []
    from thinka.facts import change_verdict_words

    patterns, verdicts = _claim_patterns(config), {w: code for code, w in change_verdict_words(config).items()}
    issues, seen = [], set()
    for b in iter_bindings(text):
        m = _CHANGE_KEY.fullmatch(b.key)
        if m is None:
            continue
        sentence = _sentence(text, b.start, b.end)
        words_only = _BINDING.sub(lambda x: x.group("written"), sentence)  # not the fact keys' own words
        claimed = [d for d, p in patterns.items() if p.search(words_only)]
        verdict_key = f"change.{m.group(1)}.verdict"
        try:
            verdict = facts[verdict_key]
        except KeyError:
            continue  # reported as unknown fact already
        actual = verdicts.get(getattr(verdict, "value", None), "hidden")
        for direction in claimed:
            if direction != actual and (sentence, m.group(1)) not in seen:
                seen.add((sentence, m.group(1)))
                word = patterns[direction].search(words_only).group(0)
                issues.append(TextIssue(name, _line_of(text, b.start), sentence, word,
                                        getattr(verdict, "value", None) or "nicht ausgewiesen", verdict_key,
                                        "unsupported change"))
    return issues


def _masked(text: str) -> str:
    """`text` with bindings, placeholders and allowed digits replaced by blanks of the same length."""
    chars = list(text)
    for pattern in (_PLACEHOLDER, *_ALLOWED_DIGITS):
        for m in pattern.finditer(text):
            chars[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(chars)


def _unbound_issues(name: str, text: str) -> list[TextIssue]:
    masked = _masked(text)
    return [
        TextIssue(name, _line_of(text, m.start()), _sentence(text, m.start(), m.end()), m.group(0), None, None, "unbound number")
        for m in _DIGITS.finditer(masked)
    ]


def check_text(name: str, text: str, facts: Mapping[str, Any], *, formatter: Formatter | None = None,
               numbers: bool = True) -> list[TextIssue]:
    """The issues of one text (`name` is what the issues report as file). `numbers=False` checks fact keys and
    unbound digits only (facts = `thinka.facts.FactKeys`, before the data are in)."""
    text = _strip_comments(text)
    fmt = formatter or _default_formatter()
    issues = _binding_issues(name, text, facts, fmt, numbers) + _unbound_issues(name, text)
    if numbers:
        issues += _claim_issues(name, text, facts)
    return sorted(issues, key=lambda i: (i.line, PROBLEMS.index(i.problem)))


def check_texts(texts_dir: Path, facts: Mapping[str, Any], *, formatter: Formatter | None = None,
                numbers: bool = True) -> list[TextIssue]:
    """Stale, unknown, unbound and not-'knapp' numbers in every `texte/*.md` of a phase (README.md excluded)."""
    issues: list[TextIssue] = []
    for path in text_files(texts_dir):
        issues += check_text(path.name, load_text(path.parent, path.name) or "", facts, formatter=formatter,
                             numbers=numbers)
    return issues


def format_text_issues(issues: list[TextIssue]) -> str:
    """The issues as lines for the terminal, one block per issue."""
    if not issues:
        return "Texts: no stale, unknown or unbound numbers, no unsupported claims of change."
    out = []
    for i in issues:
        if i.problem == "stale number":
            what = f"written {i.written}, computed {i.computed} ({i.key})"
        elif i.problem == "knapp not below":
            what = f"'knapp {i.written}' but the exact value is {i.computed} ({i.key})"
        elif i.problem == "unsupported change":
            what = (f"the text says '{i.written}', but the change rule's verdict ({i.key}) is '{i.computed}'; "
                    "reword the sentence or bind the verdict: {{" + f"{i.computed}|{i.key}" + "}}")
        elif i.problem == "unknown fact":
            what = f"{{{{{i.written}|{i.key}}}}}: no fact {i.key!r}" if i.key is not None else f"{{{{{i.written}}}}} has no fact key"
            if i.suggestions:
                what += f"; close keys: {', '.join(i.suggestions)}"
        else:
            what = f"{i.written} has no binding; write {{{{{i.written}|<fact key>}}}}"
        out.append(f"{i.file}:{i.line}: {i.problem}: {what}\n    „{i.sentence}“")
    return "\n".join(out) + f"\n{len(issues)} issue(s) in the texts."


# ----------------------------------------------------------------------------------------------------------------
# Tabelle 1


def _labels(config) -> dict[str, str]:
    """The words of Tabelle 1's frame (everything else comes from phase.yaml): thinka.wording `table1`, single ones
    overridden by report.table1_labels."""
    from thinka.wording import words

    return {**words(config)["table1"], **((config.report or {}).get("table1_labels") or {})}


def _table1_instruments(config, codebook) -> list:
    """The instruments with a Tabelle-1 entry, ordered like the codebook's dimensions."""
    order = [d.id for d in codebook.dimensions]
    chosen = [i for i in config.instruments.values() if i.table1]
    return sorted(chosen, key=lambda i: order.index(i.dimension) if i.dimension in order else len(order))


def _zeit_cell(inst, facts: Mapping[str, Any], fmt: Formatter) -> str:
    zeit = html.escape(inst.table1.get("zeit", ""))
    status = inst.table1.get("status", "")
    cell = f"<b>{zeit}*</b>" if status == "realisiert" else f"<i>{zeit}</i>" if status == "geplant" else zeit
    key = f"instrument.{inst.id}.n"
    if key in facts:
        cell += f" n={html.escape(fmt(facts[key]))}"
    return cell


def _wiederholung_cell(inst) -> str:
    text = html.escape(inst.table1.get("wiederholung", ""))
    return f"<i>{text}</i>" if inst.table1.get("wiederholung_status") == "geplant" else text


def tabelle_1(config, codebook, facts: Mapping[str, Any], *, formatter: Formatter | None = None) -> str:
    """HTML of 'Tabelle 1: Überblick über die Erhebungsmethodik' from phase.yaml (instruments with `table1`).

    One column per survey instrument, headed by its dimension's label; realised field periods bold with '*',
    planned ones in italics, as in the 2015 report; n from the facts `instrument.<id>.n`.
    """
    fmt = formatter or _default_formatter()
    lab = {k: html.escape(v) for k, v in _labels(config).items()}
    insts = _table1_instruments(config, codebook)
    head = "".join(f"<th>{html.escape(codebook.dimension(i.dimension).label)}</th>" for i in insts)
    rows = [
        (lab["methode"], [html.escape(i.method) for i in insts]),
        (lab["zeit"], [_zeit_cell(i, facts, fmt) for i in insts]),
        (lab["wiederholung"], [_wiederholung_cell(i) for i in insts]),
    ]
    body = "".join(f"<tr><th>{label}</th>{''.join(f'<td>{c}</td>' for c in cells)}</tr>" for label, cells in rows)
    span = len(insts)
    body += f'<tr class="legende"><td></td><td colspan="{span}"><b>{lab["realisiert"]}</b> <i>{lab["geplant"]}</i></td></tr>'
    if config.supplementary_activities:
        items = "<br>".join(html.escape(a) for a in config.supplementary_activities)
        body += f'<tr><th>{lab["ergaenzend"]}</th><td colspan="{span}">{items}</td></tr>'
    return (
        f'<table class="tabelle-1">\n<caption>{lab["caption"]}</caption>\n'
        f"<thead><tr><th></th>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>\n"
    )


# ----------------------------------------------------------------------------------------------------------------
# HTML


def markdown_to_html(text: str) -> str:
    import mistune  # bundled with nbconvert

    md = mistune.create_markdown(escape=False, plugins=["strikethrough", "footnotes", "table"])
    return md(text)


def render_document_part(paths, name: str, facts: Mapping[str, Any], *, formatter: Formatter | None = None) -> str | None:
    """HTML of `texte/<name>.md` with bindings substituted and `{{tabelle_1}}` replaced; None if there is no such text."""
    text = load_text(paths.texts, name)
    if text is None:
        return None
    md = render(text, facts, source=str(Path(paths.texts) / _file_name(name)), formatter=formatter)
    parts = re.split(r"^[ \t]*\{\{\s*" + TABELLE_1 + r"\s*\}\}[ \t]*$", md, flags=re.MULTILINE)
    if len(parts) == 1:
        return markdown_to_html(md)
    from thinka.codebook import load_codebook, load_phase

    table = tabelle_1(load_phase(paths.config), load_codebook(paths.codebook), facts, formatter=formatter)
    return table.join(markdown_to_html(p) for p in parts)


SECTION_PARTS = ("abschnitt", "zusammenfassung")
"""Texts a Kapitel-B section may have: `abschnitt_<id>.md` before its charts, `zusammenfassung_<id>.md` after them."""


def render_section(unit, section_id: str, *, part: str = "abschnitt", formatter: Formatter | None = None) -> str | None:
    """HTML of a Kapitel-B section text for its notebook (`display(HTML(...))`), numbers substituted; None on a
    site's unit or if the phase has no `texte/<part>_<section_id>.md`. The summary part comes as an <aside>.
    The numbers come from `unit.facts` (computed once per unit from its own tables).

    Prose appears only once, on the overall unit (site 'all'). The facts come from the unit's own tables, so a
    section text may bind only facts of its dimension (the unit fingerprint then covers every number it shows).
    """
    known = [s.id for s in unit.codebook.sections]
    if section_id not in known:
        close = difflib.get_close_matches(section_id, known, n=3)
        raise ThinkaError(
            f"Unknown section {section_id!r}; known sections: {', '.join(known)}."
            + (f" Did you mean {', '.join(close)}?" if close else ""),
            hint="Section ids are listed under `sections:` in codebook.yaml.",
        )
    if part not in SECTION_PARTS:
        raise ThinkaError(f"Unknown section text part {part!r}; allowed: {', '.join(SECTION_PARTS)}.")
    if unit.site != ALL_SITES:
        return None
    name = f"{part}_{section_id}"
    text = load_text(unit.paths.texts, name)
    if text is None:
        return None
    body = markdown_to_html(render(text, unit.facts, source=str(Path(unit.paths.texts) / _file_name(name)), formatter=formatter))
    return f'<aside class="zusammenfassung">{body}</aside>' if part == "zusammenfassung" else body
