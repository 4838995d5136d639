"""thinka.plots: house-style charts and tables from hand-made tidy tables (schemas of docs/architecture.md)."""

from __future__ import annotations

import base64
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import SUPPRESSED_SITE

from thinka import ALL_SITES, api, plots

NBSP = "\u00a0"


def _png(html_text: str) -> bytes:
    return base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html_text).group(1))


def _alt(html_text: str) -> str:
    return re.search(r'alt="([^"]*)"', html_text).group(1)


# ----------------------------------------------------------------------------------------------------------------
# Formats


@pytest.mark.parametrize(("value", "digits", "text"), [(1457, 0, "1.457"), (2.25, 1, "2,3"), (82.5, 0, "83"),
                                                      (0.145 * 100, 0, "15"), (2.0, 1, "2,0")])
def test_german_number_format_rounds_half_up(value, digits, text):
    assert plots.fmt_number(value, digits) == text


def test_percent_and_mean_formats():
    assert plots.fmt_pct(82.4) == f"82{NBSP}%"
    assert plots.fmt_pct(float("nan")) == ""
    assert plots.fmt_mean(2.24) == "Ø 2,2"


def test_palettes_diverge_for_agreement_and_grades_only(cfg):
    codebook = cfg[1]
    assert plots.is_diverging(codebook.scales["likert5"]) and plots.is_diverging(codebook.scales["schulnote"])
    assert not plots.is_diverging(codebook.scales["nutzung4"])
    likert = plots.scale_palette(codebook.scales["likert5"])
    assert len(likert) == 5 and likert[0][2] > likert[0][0] and likert[-1][0] > likert[-1][2]  # blue … red


# ----------------------------------------------------------------------------------------------------------------
# Schaubilder


def test_render_is_deterministic_png_without_software_stamp(unit):
    u = unit("verwaltung", "S01")
    first, second = plots.render_schaubild(u, 17), plots.render_schaubild(u, 17)
    assert first == second
    png = _png(first)
    assert png.startswith(b"\x89PNG") and b"Matplotlib" not in png and b"Software" not in png
    assert png[16:24] == (1200).to_bytes(4, "big") + png[20:24]  # width 8 in × 150 dpi


def test_figure_structure_caption_and_source(unit):
    u = unit("sozialraum", ALL_SITES)
    out = plots.render_schaubild(u, 4)
    assert out.startswith('<figure class="schaubild" id="schaubild-4">')
    sb = u.codebook.schaubild(4)
    assert f'<figcaption class="schaubild-titel">{sb.heading}</figcaption>' in out
    n = int(api.chart_data(u, 4)["valid_n"].iloc[0])
    assert (f'<p class="quelle">Daten: eigene Erhebung, Grafik: eigene Darstellung, N={n}, Angaben in Prozent</p>'
            in out)
    assert "Schulnotensystem" not in out and "<script" not in out and "http" not in out


def test_alt_text_names_the_numbers(unit):
    u = unit("sozialraum", ALL_SITES)
    df = api.chart_data(u, 1)
    alt = _alt(plots.render_schaubild(u, 1))
    assert alt.startswith("Gestapeltes Balkendiagramm „Anerkennungsgrad des Vorhabens“")
    for row in df.itertuples():
        assert f"{row.category} {plots.fmt_pct(row.pct)}" in alt


def test_grade_chart_has_scale_note_and_mean(unit):
    u = unit("verwaltung", ALL_SITES)
    out = plots.render_schaubild(u, 15)
    assert "<br>Bewertungsskala war das Schulnotensystem</p>" in out
    mean = api.chart_data(u, 15)["mean"].iloc[0]
    assert f"Durchschnittsnote {plots.fmt_number(mean, 1)}" in _alt(out)
    fig = plots.stacked_figure(api.chart_data(u, 15), u.codebook.scales["schulnote"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert plots.fmt_mean(mean) in texts


def test_small_segments_have_no_label():
    from thinka.codebook import Level, Scale

    scale = Scale("t", "ordinal", (Level(1, "ja"), Level(2, "teils"), Level(3, "nein")), top=(1,), bottom=(3,))
    df = pd.DataFrame({"series": "s", "site": ALL_SITES, "site_label": "Alle Standorte",
                       "category": ["ja", "teils", "nein"], "order": [1, 2, 3], "pct": [60.0, 36.5, 3.49],
                       "count": [1.0, 1.0, 1.0], "valid_n": 3.0, "mean": float("nan"), "suppressed": False,
                       "reason": ""})
    fig = plots.stacked_figure(df, scale)
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert texts == [f"60{NBSP}%", f"37{NBSP}%"]  # 36.5 rounds half up; 3.49 shows as 3 %: hidden
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["ja", "teils", "nein"]


def test_site_page_shows_site_and_all_bars(unit):
    u = unit("verwaltung", "S01")
    df = api.chart_data(u, 17)
    out = plots.render_schaubild(u, 17)
    site_n = {int(v) for v in df[df["site"] == "S01"]["valid_n"]}
    all_n = {int(v) for v in df[df["site"] == ALL_SITES]["valid_n"]}
    if len(site_n) == 1 and len(all_n) == 1:
        assert f"N={site_n.pop()} (Standort), N={all_n.pop()} (alle Standorte)" in out
    alt = _alt(out)
    assert "soziale Integration, Standort 01 (Platzhalter):" in alt and "berufliche Integration, Alle Standorte:" in alt


def test_suppressed_site_shows_the_mark_and_the_true_reason(unit):
    u = unit("sozialraum", SUPPRESSED_SITE)
    out = plots.render_schaubild(u, 4)
    assert '<p class="anmerkung">. weniger als 5 gültige Antworten</p>' in out
    assert "N&lt;5 (Standort)" in out
    assert "Standort 03 (Platzhalter): weniger als 5 gültige Antworten" in _alt(out)
    fig = plots.stacked_figure(api.chart_data(u, 4), u.codebook.scales["likert5"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert "." in texts and "•" not in texts


def test_secondary_suppression_is_never_labelled_too_few_answers(unit):
    """A value hidden to protect another one rests on at least the threshold: no "<5", its own reason."""
    u = unit("sozialraum", SUPPRESSED_SITE)
    df = api.chart_data(u, 4).copy()
    df.loc[df["site"] == SUPPRESSED_SITE, "reason"] = "secondary"
    assert plots.n_text(df, u).startswith("N=. (Standort)")
    assert plots.notes(df, u) == [". zum Schutz anderer Werte nicht ausgewiesen"]


def test_site_without_instrument_shows_overall_only_with_a_note(unit):
    u = unit("verwaltung", "S10")  # no steering group: no Expertenfragebogen
    out = plots.render_schaubild(u, 19)
    assert "Ergebnis über alle Standorte (zur Orientierung)" in out and "(Standort)" not in out
    assert "Standort 10" not in _alt(out) and "•" not in out
    notice = plots.render_site_notices(u)
    assert notice.count("nicht erhoben") == 1


def test_site_below_threshold_says_so_once_and_shows_returns(unit, tables):
    responses = tables["responses"]
    few = responses.assign(n=responses["n"].where(responses["site"] != "S01", 3))
    u = unit("verwaltung", "S01")
    u.tables["responses"] = few[few["site"].isin(["S01", ALL_SITES])]
    notice = plots.render_site_notices(u)
    assert "weniger als 5 Rückläufe am Standort" in notice and notice.count("weniger als 5 ausgefüllte") == 1
    out = plots.render_schaubild(u, 15)
    assert "zur Orientierung" in out and "Standort 01" not in _alt(out)


def test_true_zero_is_a_dash_and_missing_is_x():
    assert plots.fmt_n(0) == "–" and plots.fmt_n(float("nan")) == "x" and plots.fmt_n(1457) == "1.457"


def test_mentions_chart_sorted_and_described(unit):
    u = unit("individual", ALL_SITES)
    df = api.chart_data(u, 14)
    alt = _alt(plots.render_schaubild(u, 14))
    positions = [alt.index(f"{c} {plots.fmt_pct(p)}") for c, p in zip(df["category"], df["pct"])]
    assert positions == sorted(positions)
    assert f"N={int(df['valid_n'].iloc[0])}," in plots.render_schaubild(u, 14)


def test_mentions_site_page_renders(unit):
    out = plots.render_schaubild(unit("individual", "S01"), 12)
    assert "Standort 01 (Platzhalter):" in _alt(out) and "Alle Standorte:" in _alt(out)


# ----------------------------------------------------------------------------------------------------------------
# Tables and sections


def test_item_table_site_vs_all(unit, tables):
    u = unit("individual", "S01")
    table = u.codebook.item_tables_of("anlaufstelle")[0]
    out = plots.render_item_table(u, table)
    assert "<th class=\"zahl\">N (Standort)</th>" in out and "Anteil (alle Standorte)" in out
    s = tables["summaries"]
    top = s[(s["item"] == "empathie") & (s["site"] == ALL_SITES)]["top2"].iloc[0]
    assert f"<td class=\"zahl\">{plots.fmt_pct(top)}</td>" in out
    assert "stimme voll und ganz zu / stimme eher zu" in out


def test_item_table_suppressed_site(unit):
    u = unit("verwaltung", SUPPRESSED_SITE)
    out = plots.render_item_table(u, u.codebook.item_tables_of("zusammenarbeit")[0])
    assert '<td class="zahl">.</td>' in out and "weniger als 5 gültige Antworten" in out and "•" not in out


def test_running_statistics_table_and_chart(unit):
    u = unit("individual", ALL_SITES)
    out = plots.render_running_statistics(u)
    wide = api.running_statistics(u)
    total = wide[wide["quarter"] == "total"]["beratungen"].iloc[0]
    assert f"<td class=\"zahl\">{plots.fmt_number(total)}</td>" in out
    assert "<td>Q1 2013</td>" in out and '<tr class="summe"><td>Gesamt</td>' in out
    label = u.codebook.instruments[u.codebook.instrument_of_kind("running_statistics")].label
    assert f"{label} im Förderzeitraum je Standort</caption>" in out and _png(out).startswith(b"\x89PNG")
    assert f"<caption>{label} je Quartal – {api.ALL_SITES_LABEL}</caption>" in out
    assert f"Daten: {label} der Standorte" in out and f"Säulendiagramm „{label}“ je Quartal: Q1 2013:" in _alt(out)
    site_out = plots.render_running_statistics(unit("individual", "S02"))
    assert "je Standort" not in site_out and "Standort 02 (Platzhalter)" in site_out


def test_interviews_grouped_and_escaped(unit):
    out = plots.render_interviews(unit("sozialraum", ALL_SITES))
    assert "&lt;zitiert&gt; [rekonstruiert]" in out and "<zitiert>" not in out
    assert '<h4 class="interview-thema">' in out and "Kommunale Akteure" in out
    site_unit = unit("sozialraum", "S01")
    site = plots.render_interviews(site_unit)
    assert "nur standortübergreifend" in site and "Kommunale Akteure" not in site and "<q>" not in site
    label = site_unit.codebook.instruments[site_unit.codebook.instrument_of_kind("interviews")].label
    assert f"„{label}“ wird nur standortübergreifend ausgewertet" in site


def test_sections_follow_the_codebook(unit):
    u = unit("verwaltung", ALL_SITES)
    out = "".join(plots.render_section(u, s.id) for s in u.codebook.sections_of("verwaltung"))
    assert re.findall(r'id="schaubild-(\d+)"', out) == ["15", "16", "17", "18", "19"]
    assert out.count('class="itemtabelle"') == 2
    heading = plots.render_heading(unit("verwaltung", "S01"))
    assert heading.startswith('<h1 class="dimension" id="dimension-verwaltung">Verwaltungsbezug')
    assert "Standort 01 (Platzhalter)" in heading
