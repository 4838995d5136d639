"""PDF stage: A4 pages, page numbers, outline and the Schaubild list with page numbers; deterministic bytes."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from thinka import pdf

from test_build import full_build  # noqa: F401 (fixture)

A4 = (595.28, 841.89)


def test_pdf_identifier_is_derived_from_the_html():
    assert pdf.pdf_identifier(b"<html>") == pdf.pdf_identifier(b"<html>")
    assert pdf.pdf_identifier(b"<html>") != pdf.pdf_identifier(b"<html >")


def test_small_page_prints_reproducibly(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        '<html><head><meta name="dcterms.created" content="2015-03-31T00:00:00Z">'
        '<style>@page { size: A4 }</style></head><body><h1 id="a">Kapitel</h1><p>Text</p></body></html>',
        encoding="utf-8",
    )
    one, two = pdf.write_pdf(page, tmp_path / "a.pdf"), pdf.write_pdf(page, tmp_path / "b.pdf")
    assert one.read_bytes() == two.read_bytes()
    reader = PdfReader(str(one))
    assert reader.trailer["/ID"][0] == pdf.pdf_identifier(page.read_bytes()).decode()
    assert reader.metadata["/CreationDate"].startswith("D:20150331")


def test_missing_html_is_a_user_error(tmp_path):
    from thinka.errors import ThinkaError

    with pytest.raises(ThinkaError):
        pdf.write_pdf(tmp_path / "nope.html", tmp_path / "x.pdf")


@pytest.fixture(scope="module")
def reader(full_build):
    paths, result, _ = full_build
    assert result.ok, result.summary()
    return PdfReader(str(paths.report / "datenreport.pdf"))


@pytest.mark.slow
def test_report_pdf_is_a4_with_page_numbers(reader):
    assert len(reader.pages) >= 20
    for page in reader.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1
    # Footer page number on a page after the title page.
    assert re.search(r"(^|\n)\s*5\s*$", reader.pages[4].extract_text())


@pytest.mark.slow
def test_report_pdf_outline_has_the_chapters(reader):
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(reader.outline)
    for chapter in ("Vorwort", "Kapitel B", "Methodische Hinweise", "Kolophon"):
        assert any(t.startswith(chapter) for t in titles), (chapter, titles[:20])
    assert not any(t.startswith("Befragungsergebnisse der") for t in titles), "the title page is not a bookmark"


@pytest.mark.slow
def test_schaubild_list_has_page_numbers(reader):
    text = "\n".join(p.extract_text() for p in reader.pages[:6])
    pages = {}
    for n in range(1, 20):
        m = re.search(rf"Schaubild {n} – .*?(\d+)\s*$", text, re.M)
        assert m, f"Schaubild {n} not in the list with a page number"
        pages[n] = int(m.group(1))
    assert list(pages.values()) == sorted(pages.values()) and pages[1] > 3
    # The listed page really holds the Schaubild.
    assert "Schaubild 19:" in reader.pages[pages[19] - 1].extract_text()
