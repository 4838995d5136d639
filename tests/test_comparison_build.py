"""The shipped 2015-2016 phase builds with its comparison chapter (slow: one full build of the phase)."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from thinka import build
from thinka.paths import MARKER, PhasePaths

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("phase-2015-2016")
    for phase in ("2013-2014", "2015-2016"):
        shutil.copytree(REPO / "data" / "raw" / phase, root / "data" / "raw" / phase)
    shutil.copy2(REPO / MARKER, root / MARKER)
    paths = PhasePaths(root, "2015-2016")
    result = build.build_phase(paths, progress=False)
    assert result.ok, result.summary()
    return paths


def test_the_report_has_the_comparison_chapter(built):
    page = (built.report / "datenreport.html").read_text(encoding="utf-8")
    assert re.search(r'<h1[^>]*class="kapitel"[^>]*>Veränderungen gegenüber der Förderphase 2013–2014</h1>', page)
    for dimension in ("sozialraum", "individual", "verwaltung"):
        assert f'id="vergleich-{dimension}"' in page and f'href="#vergleich-{dimension}"' in page
    assert "lautete die Aussage" in page  # the revised wording of bekanntheit, footnoted
    assert 'id="vergleich-methode"' in page and "Newcombe" in page
    assert page.index("Veränderungen gegenüber") < page.index('id="methodische-hinweise"')


def test_site_pages_say_why_they_cannot_compare(built):
    new_site = (built.report / "standorte" / "S12.html").read_text(encoding="utf-8")
    assert "neu hinzugekommen" in new_site
    gained = (built.report / "standorte" / "S10.html").read_text(encoding="utf-8")
    assert "keine Steuerungsgruppe, ein Vorwert fehlt" in gained
    assert not (built.report / "standorte" / "S07.html").exists()  # S07 left after 2014


def test_the_pdf_has_the_comparison(built):
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(built.report / "datenreport.pdf").pages)
    text = " ".join(text.split())
    assert "Veränderungen gegenüber der Förderphase 2013–2014" in text
    assert "Newcombe" in text


def test_comparison_csvs_carry_both_phases(built):
    frame = pd.read_csv(built.report / "daten" / "vergleich_sozialraum.csv", sep=";", dtype=str,
                        keep_default_na=False)
    assert set(frame["phase"]) == {"2013-2014", "2015-2016"}
    site = pd.read_csv(built.report / "daten" / "standorte" / "S03" / "vergleich_verwaltung.csv", sep=";", dtype=str,
                       keep_default_na=False)
    assert set(site["site"]) == {"all", "S03"} and set(site["phase"]) == {"2013-2014", "2015-2016"}
    series = pd.read_csv(built.report / "daten" / "vergleich_laufende_statistik.csv", sep=";", dtype=str)
    assert series["quarter"].min() == "2013-Q1" and series["quarter"].max() == "2016-Q4"


def test_the_audit_finds_nothing_to_derive(built):
    from thinka import cli

    assert cli.main(["audit", "--phase", "2015-2016", "--root", str(built.root)]) == 0
