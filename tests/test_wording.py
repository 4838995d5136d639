"""thinka.wording: the words around the data come from templates/wording.de.yaml; a programme overrides single
entries under report.wording (any depth); an unknown key is refused with the allowed ones."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from thinka import stitch, wording
from thinka.errors import ConfigError


def _with_wording(config, overrides):
    return dataclasses.replace(config, report={**config.report, "wording": overrides})


@pytest.mark.parametrize(("overrides", "where", "key", "allowed"), [
    ({"titelseite": {}}, "report.wording:", "'titelseite'", "marks, legend_title"),
    ({"front": {"autoren": "Von:"}}, "report.wording.front:", "'autoren'", "authors, contributors, and"),
    ({"methods": {"deviation_columns": {"seite": "S."}}}, "report.wording.methods.deviation_columns:", "'seite'",
     "schaubild, where"),
])
def test_an_unknown_key_names_itself_its_place_and_the_allowed_ones(cfg, overrides, where, key, allowed):
    with pytest.raises(ConfigError) as err:
        wording.words(_with_wording(cfg[0], overrides))
    text = str(err.value)
    assert where in text and f"unknown key {key}" in text and allowed in text and "wording.de.yaml" in text


def test_a_section_must_stay_a_mapping(cfg):
    with pytest.raises(ConfigError, match=r"report\.wording\.front: expected a mapping of authors"):
        wording.words(_with_wording(cfg[0], {"front": "Autoren"}))


def test_an_override_reaches_the_page_and_leaves_its_neighbours(cfg):
    config = _with_wording(cfg[0], {"front": {"authors": "Verfasst von:"}, "colophon": {"heading": "Impressum"}})
    page = stitch.title_page(config)
    assert "<p>Verfasst von:</p>" in page and "unter Mitwirkung von" in page
    colophon = stitch.colophon(config, build=dt.datetime(2015, 3, 31), code_hash="h", inputs=[])
    assert '<h1 id="kolophon">Impressum</h1>' in colophon and "Erstellt mit thinka" in colophon
    assert wording.words()["front"]["authors"] == "Autoren:"  # the defaults stay as they were


def test_dates_and_lists_in_german():
    assert wording.german_date(dt.date(2015, 3, 31)) == "31. März 2015"
    assert wording.and_list(["A"]) == "A" and wording.and_list(["A", "B", "C"]) == "A, B und C"


def test_one_function_serves_both_notes_on_the_data(cfg):
    config = dataclasses.replace(cfg[0], reconstruction=True, synthetic=True,
                                 report={k: v for k, v in cfg[0].report.items() if not k.endswith("_note")})
    notes = stitch.data_notes(config)
    w = wording.words()["data_notes"]
    assert [n.split('"')[1] for n in notes] == ["hinweis rekonstruktion", "hinweis synthetisch"]
    assert w["reconstruction"]["heading"] in notes[0] and w["reconstruction"]["text"] in notes[0]
    assert w["synthetic"]["heading"] in notes[1] and w["synthetic"]["text"] in notes[1]
    own = dataclasses.replace(config, report={**config.report, "synthetic_note": "Alles erfunden."})
    assert "Alles erfunden." in stitch.data_note(own, "synthetic")
    with pytest.raises(ValueError, match="'erfunden'.*reconstruction, synthetic"):
        stitch.data_note(config, "erfunden")
