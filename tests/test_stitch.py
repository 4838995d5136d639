"""Stitch stage: the self-contained HTML report, the site pages and the chart data beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import PHASE

from thinka import stitch
from thinka.codebook import load_codebook, load_phase

RAW = Path(__file__).resolve().parent.parent / "data" / "raw" / PHASE
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.I)


@pytest.fixture(scope="module")
def config_codebook():
    return load_phase(RAW / "phase.yaml"), load_codebook(RAW / "codebook.yaml")


# ----------------------------------------------------------------------------------------------------------------
# Pure parts


def test_heading_ids_are_stable_unique_and_listed():
    doc = "<h1>Kapitel B – Ergebnisse</h1><h2 id='own'>Teil</h2><h2>Größe</h2><h2>Größe</h2><h3 class='no-toc'>x</h3>"
    out, headings = stitch.assign_heading_ids(doc)
    assert [h.id for h in headings] == ["kapitel-b-ergebnisse", "own", "groesse", "groesse-2", "x"]
    assert stitch.assign_heading_ids(doc)[0] == out
    toc = stitch.render_toc(headings)
    assert 'href="#groesse-2"' in toc and 'href="#x"' not in toc


def test_demote_headings_shifts_open_and_close_tags():
    assert stitch.demote_headings('<h1 class="d">A</h1><h2>B</h2>') == '<h2 class="d">A</h2><h3>B</h3>'
    assert stitch.demote_headings("<h3>C</h3><header>", -1) == "<h2>C</h2><header>"


def test_title_page_carries_metadata_and_reconstruction_note(config_codebook):
    config, _ = config_codebook
    page = stitch.title_page(config)
    for text in (config.report["title"], config.report["phase_line"], "31. März 2015", "rekonstruiert"):
        assert text in page
    for person in [*config.report["authors"], *config.report["contributors"]]:
        assert person in page
    assert ("hinweis rekonstruktion" in page) == config.reconstruction


def test_schaubild_list_links_every_schaubild_in_order(config_codebook):
    _, codebook = config_codebook
    markup = stitch.schaubild_list(codebook)
    numbers = [int(n) for n in re.findall(r'href="#schaubild-(\d+)"', markup)]
    assert numbers == list(range(1, 20))
    assert "Schaubild 4 – Zufriedenheit mit ThINKA-Vorhaben am Standort" in markup


def test_build_date_honours_source_date_epoch(config_codebook, monkeypatch):
    config, _ = config_codebook
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert stitch.build_date(config).date().isoformat() == "2015-03-31"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert stitch.build_date(config).date().isoformat() == "2023-11-14"


def test_deviation_rows_keep_only_registered_deviations():
    import pandas as pd

    table = pd.DataFrame([
        {"schaubild": 4, "where": "S. 15", "printed_shown": "82 %", "shown": "81 %", "note": "I1: Summe", "status": "deviation (registered)"},
        {"schaubild": 5, "where": "S. 17", "printed_shown": "68 %", "shown": "68 %", "note": "", "status": "ok"},
    ])
    header, rows = stitch.deviation_rows(table)
    assert header == ["Schaubild", "Fundstelle", "gedruckt", "Neu berechnet", "Begründung"]
    assert rows == [["4", "S. 15", "82 %", "81 %", "I1: Summe"]]


# ----------------------------------------------------------------------------------------------------------------
# The stitched report of the session build


@pytest.fixture(scope="module")
def report(full_build):
    paths, result, _ = full_build
    assert result.ok, result.summary()
    return paths, (paths.report / "datenreport.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_has_all_schaubilder_in_order_with_caption_and_n(report, config_codebook):
    _, html = report
    _, codebook = config_codebook
    figures = re.findall(r'<figure class="schaubild" id="schaubild-(\d+)">(.*?)</figure>', html, re.S)
    assert [int(n) for n, _ in figures] == [s.number for s in codebook.schaubilder]
    for (number, body), sb in zip(figures, codebook.schaubilder):
        assert f"Schaubild {number}:" in body and sb.caption[:30] in body
        assert re.search(r"N\s*=\s*\d+", body), f"Schaubild {number} without N"
        assert "data:image/png;base64," in body


@pytest.mark.slow
def test_report_is_self_contained(report):
    _, html = report
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "mathjax" not in html.lower() and "require.js" not in html.lower()
    assert "<script" not in html.lower()
    assert "<style>" in html and "<link" not in html.lower()


@pytest.mark.slow
def test_report_structure_front_and_back_matter(report, config_codebook):
    paths, html = report
    config, codebook = config_codebook
    order = ["titelseite", "inhaltsverzeichnis", "schaubildverzeichnis", "kapitel-b", "dimension-sozialraum",
             "dimension-individual", "dimension-verwaltung", "methodische-hinweise", "kolophon"]
    positions = [html.find(f'id="{anchor}"') for anchor in order]
    assert all(p >= 0 for p in positions), dict(zip(order, positions))
    assert positions == sorted(positions)
    # Every link inside the document points at an id that exists.
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    targets = set(re.findall(r'href="#([^"]+)"', html))
    assert targets and targets <= ids, targets - ids
    # Code and prompts are hidden.
    assert "api.load_unit" not in html and "In&nbsp;[" not in html
    assert html.count('class="zeichenerklaerung"') >= 1 and "•" not in html
    # Methods note: threshold and the colophon's input hashes.
    assert f"weniger als {config.disclosure_threshold} gültigen Antworten" in html
    manifest = stitch.manifest_inputs(paths.processed)
    assert manifest and all(sha in html for _, sha in manifest)


@pytest.mark.slow
def test_site_pages_and_chart_data(report, config_codebook):
    paths, _ = report
    config, codebook = config_codebook
    for site in config.sites:
        page = (paths.report / "standorte" / f"{site.code}.html").read_text(encoding="utf-8")
        assert site.name in page and 'href="../datenreport.html"' in page
        assert not EXTERNAL.search(page)
        assert 'class="zeichenerklaerung"' in page and "•" not in page  # the legend of the marks on every page
        assert 'class="interview-partner"' not in page and "<q>" not in page  # no interviewee can be singled out
    for sb in codebook.schaubilder:
        csv = paths.report / "daten" / f"schaubild_{sb.number:02d}.csv"
        head = csv.read_text(encoding="utf-8").splitlines()[0]
        assert ";" in head and "pct" in head
        assert (paths.report / "daten" / "standorte" / "S01" / f"schaubild_{sb.number:02d}.csv").is_file()


@pytest.mark.slow
def test_two_clean_builds_are_byte_identical(full_build, second_full_build, tree_digest):
    first, _, _ = full_build
    second, result, _ = second_full_build
    assert result.ok, result.summary()
    a, b = tree_digest(first.report), tree_digest(second.report)
    assert a.keys() == b.keys()
    differ = [name for name in a if a[name] != b[name]]
    assert differ == []


def test_methods_note_explains_the_configured_rules(config_codebook):
    import dataclasses

    config, _ = config_codebook
    strict = stitch.disclosure_paragraphs(config)
    assert any("Auch eine Null wird geschützt" in p for p in strict) and any("N<5" in p for p in strict)
    loose = stitch.disclosure_paragraphs(dataclasses.replace(
        config, disclosure=dataclasses.replace(config.disclosure, protect_zeros=False, exact_n=True, threshold=3)))
    assert any("Nullen werden nicht eigens geschützt" in p for p in loose)
    assert any("auch bei zurückgehaltenen Werten genannt" in p for p in loose)
    assert any("weniger als 3 gültigen Antworten" in p for p in loose)
    legend = stitch.marks_legend(config)
    assert all(f"<dt>{m}</dt>" in legend for m in (".", "–", "x"))


def test_suppression_matrix_marks_primary_and_secondary():
    from thinka.stitch import suppression_matrix

    html = suppression_matrix([
        ["Schaubild 1: Anerkennung", "S04", "secondary"],
        ["Schaubild 1: Anerkennung", "S02", "primary"],
        ["Geschlecht", "S02", "primary"],
    ], ("S01", "S02", "S03", "S04"))
    assert "<th scope=\"col\">S02</th><th scope=\"col\">S04</th>" in html
    assert "<td>Schaubild 1: Anerkennung</td><td>.</td><td>(.)</td>" in html
    assert "<td>Geschlecht</td><td>.</td><td></td>" in html
