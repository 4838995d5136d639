"""PDF stage: A4 pages, page numbers, outline and the Schaubild list with page numbers; deterministic bytes."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from thinka import pdf

A4 = (595.28, 841.89)


def test_pdf_identifier_is_derived_from_the_html():
    assert pdf.pdf_identifier(b"<html>") == pdf.pdf_identifier(b"<html>")
    assert pdf.pdf_identifier(b"<html>") != pdf.pdf_identifier(b"<html >")


SMALL_PAGE = (
    '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Kleiner Bericht</title>'
    '<meta name="dcterms.created" content="2015-03-31T00:00:00Z"><style>@page { size: A4 }</style></head>'
    '<body><main><h1 id="a">Kapitel</h1><p>Text mit Umlauten: Größe.</p>'
    '<figure><img alt="Balken: 82 % Zustimmung" src="data:image/png;base64,'
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="'
    ' style="width:3cm"><figcaption>Schaubild 1</figcaption></figure>'
    '<table><caption>Tabelle</caption><thead><tr><th scope="col">Standort</th><th scope="col">N</th></tr></thead>'
    '<tbody><tr><td>S01</td><td>7</td></tr></tbody></table></main></body></html>'
)


@pytest.fixture
def small_page(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(SMALL_PAGE, encoding="utf-8")
    return page


def test_small_page_prints_reproducibly_without_any_environment_variable(small_page, tmp_path, monkeypatch):
    """Two prints hours apart give the same bytes, with SOURCE_DATE_EPOCH unset (fontTools would stamp the clock
    into every subset font's head table otherwise) — and the variable is not left behind."""
    import time

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    one = pdf.write_pdf(small_page, tmp_path / "a.pdf")
    later = time.time() + 7 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    two = pdf.write_pdf(small_page, tmp_path / "b.pdf")
    assert one.read_bytes() == two.read_bytes()
    assert "SOURCE_DATE_EPOCH" not in __import__("os").environ
    reader = PdfReader(str(one))
    assert reader.trailer["/ID"][0] == pdf.pdf_identifier(small_page.read_bytes()).decode()
    assert reader.metadata["/CreationDate"].startswith("D:20150331")


def _structure(reader: PdfReader) -> list:
    """Every structure element of the tag tree, depth first."""
    out = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, list) or hasattr(node, "__iter__") and not hasattr(node, "keys"):
            for child in node:
                walk(child)
            return
        if hasattr(node, "keys") and "/S" in node:
            out.append(node)
        if hasattr(node, "keys") and "/K" in node:
            kids = node["/K"]
            kids = kids.get_object() if hasattr(kids, "get_object") else kids
            for child in kids if isinstance(kids, list) else [kids]:
                if hasattr(child, "get_object"):
                    walk(child)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return out


def check_accessible(reader: PdfReader, language: str = "de") -> list:
    """PDF/UA essentials: tagged, language, title shown, every figure with alt text, header cells; the tags."""
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"] in (True, "true")
    assert root["/Lang"] == language
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] in (True, "true")
    assert reader.metadata.title
    tags = _structure(reader)
    figures = [t for t in tags if t["/S"] == "/Figure"]
    assert figures and all(str(t.get("/Alt", "")).strip() for t in figures), "every figure needs alt text"
    assert any(t["/S"] == "/TH" for t in tags)
    return tags


def test_small_page_is_tagged_pdf_ua(small_page, tmp_path):
    reader = PdfReader(str(pdf.write_pdf(small_page, tmp_path / "a.pdf")))
    tags = check_accessible(reader)
    assert next(t for t in tags if t["/S"] == "/Figure")["/Alt"] == "Balken: 82 % Zustimmung"
    assert "pdfuaid" in reader.xmp_metadata.xmp_metadata_text if hasattr(reader.xmp_metadata, "xmp_metadata_text") \
        else b"pdfuaid" in reader.trailer["/Root"]["/Metadata"].get_object().get_data()


def test_pdf_a_variant_on_request(small_page, tmp_path):
    reader = PdfReader(str(pdf.write_pdf(small_page, tmp_path / "a.pdf", variant="pdf/a-3a")))
    check_accessible(reader)
    assert b"pdfaid" in reader.trailer["/Root"]["/Metadata"].get_object().get_data()


def test_unknown_variant_is_a_user_error(small_page, tmp_path):
    from thinka.errors import ThinkaError

    with pytest.raises(ThinkaError, match="pdf/ua-1"):
        pdf.write_pdf(small_page, tmp_path / "a.pdf", variant="pdf/x-9")


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
def test_report_pdf_is_accessible(reader):
    """The whole report: tagged PDF/UA-1, German, titled, every chart with its alt text, tables with header cells."""
    tags = check_accessible(reader)
    assert len([t for t in tags if t["/S"] == "/Figure"]) >= 19


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
