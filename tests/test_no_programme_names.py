"""House rule: no programme's names in thinka's code. Measures, chapters, scales and column roles come from the
configuration (codebook.yaml, phase.yaml, thinka.yaml); the package's Python source names none of them.

The guard reads the names a programme chose — instruments, their columns, measures and ratios, scales, items and
their option columns, dimensions, sections — from ThINKA's codebook and from the second programme's example, and
looks for each as a word in every string literal of thinka/*.py (docstrings aside: they may give an example). A word
is a run of letters, digits, '_' and '-', so a column name inside a fact key (`"interviews.partnertyp."`), a regular
expression or a CSS class is found as well as a bare `"standort"`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "thinka"
CODEBOOKS = {
    "ThINKA 2013-2014": REPO / "data" / "raw" / "2013-2014" / "codebook.yaml",
    "NRW example": REPO / "examples" / "einwanderung-gestalten-nrw" / "data" / "raw" / "2016-2017" / "codebook.yaml",
}
# Words of thinka's own vocabulary that a programme happens to use as a name too. Each is defined by thinka, not
# taken from a programme: extend this only with such a word, never with a name a codebook introduced.
THINKA_VOCABULARY = {
    "interviews": "instrument kind, section content, processed table and fact family (ThINKA: a section id)",
    "segment": "interview role and column of the processed interview tables (ThINKA: a column name)",
}
# Ordinary German words that happen to stand in an instrument label too; the wording may use them.
GENERIC_LABEL_WORDS = {
    "Befragung": "the report's plain word for a survey (NRW: 'Befragung der Kooperationspartner')",
}
WORD = re.compile(r"[A-Za-z0-9_-]+")


def programme_names(path: Path) -> dict[str, str]:
    """name -> what it is in the codebook at `path`, for every name the programme chose."""
    cb = yaml.safe_load(path.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for iid, spec in cb["instruments"].items():
        names[iid] = "instrument"
        for column in spec["columns"]:
            kind = "measure" if column["type"] == "integer" and "quarter" in {c["type"] for c in spec["columns"]} else "column"
            names[column["name"]] = f"{kind} of {iid}"
        for ratio in spec.get("ratios") or {}:
            names[ratio] = f"ratio of {iid}"
    for sid in cb["scales"]:
        names[sid] = "scale"
    for item in cb["items"]:
        names[item["id"]] = "item"
        for option in item.get("options") or []:
            names[option["column"]] = f"option of {item['id']}"
    for dim in cb["dimensions"]:
        names[dim["id"]] = "dimension"
    for section in cb.get("sections") or []:
        names[section["id"]] = "section"
    return {str(k): v for k, v in names.items()}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def names_in_literals(source: str, names: dict[str, str]) -> list[tuple[int, str]]:
    """(line, name) for every programme name that is a word of a string literal (f-string parts included)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    hits = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for word in WORD.findall(node.value):
                if word in names and word not in THINKA_VOCABULARY:
                    hits.add((node.lineno, word))
    return sorted(hits)


def test_the_codebooks_give_the_names_the_guard_looks_for():
    thinka = programme_names(CODEBOOKS["ThINKA 2013-2014"])
    for name in ("partnertyp", "interviewthema", "dauer_min", "aussage", "standort", "quartal", "personen",
                 "beratungen_je_person", "froh_standort", "aufmerksam_behoerde", "sozialraum", "steuerungsgruppe",
                 "projektstatistik"):
        assert name in thinka, name
    assert {"fallstatistik", "uebergaben", "zustimmung4"} <= set(programme_names(CODEBOOKS["NRW example"]))


def test_the_guard_finds_a_name_in_a_key_a_regex_and_a_class_but_not_in_a_docstring():
    names = {"partnertyp": "column", "dauer_mean": "x", "standort": "column", "thema": "column"}
    source = '''
def f(df, c):
    """Docstrings may say partnertyp."""
    key = f"interviews.partnertyp.{c}"
    pattern = r"interviews\\.(n|dauer_mean)"
    html = '<span class="standort">'
    ok = '<h4 class="interview-thema">'  # another word: 'interview-thema'
    return df["thema"], key, pattern, html, ok
'''
    assert names_in_literals(source, names) == [(4, "partnertyp"), (5, "dauer_mean"), (6, "standort"), (8, "thema")]


def label_words(path: Path) -> set[str]:
    """The longer words of the instrument labels a programme chose ('Projektstatistik', 'Fallstatistik')."""
    cb = yaml.safe_load(path.read_text(encoding="utf-8"))
    words = {w for spec in cb["instruments"].values() for w in re.findall(r"\w{6,}", spec.get("label", ""))}
    return words - set(GENERIC_LABEL_WORDS)


@pytest.mark.parametrize("programme", sorted(CODEBOOKS))
def test_no_instrument_name_in_thinka_wording(programme):
    """thinka's default words name an instrument through its label ({instrument}), never by a programme's word."""
    text = (PACKAGE / "templates" / "wording.de.yaml").read_text(encoding="utf-8")
    found = sorted(w for w in label_words(CODEBOOKS[programme]) if re.search(rf"\b{w}\b", text))
    assert "Projektstatistik" in label_words(CODEBOOKS["ThINKA 2013-2014"])
    assert not found, f"Words of the {programme} instrument labels in thinka/templates/wording.de.yaml: {found}"


@pytest.mark.parametrize("programme", sorted(CODEBOOKS))
def test_no_programme_name_in_thinka_code(programme):
    names = programme_names(CODEBOOKS[programme])
    found = [
        f"thinka/{path.name}:{line}: {name!r} ({names[name]})"
        for path in sorted(PACKAGE.glob("*.py"))
        for line, name in names_in_literals(path.read_text(encoding="utf-8"), names)
    ]
    assert not found, (
        f"Names from the {programme} codebook in thinka's code (take them from the configuration, e.g. a column's "
        "type or role, instead):\n" + "\n".join(found)
    )
