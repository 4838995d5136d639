"""Reconstruct record-level raw files for the ThINKA phase 2013–2014 from the marginals of the 2015 report.

The survey's raw data are not public. This script writes a *labelled reconstruction*: four files whose totals
over all sites reproduce every number the 2015 Datenreport prints (count vectors from
reference/feasible_counts.yaml, hard-coded below so the script is self-contained), while the distribution over
sites, dates and respondents is invented with a fixed seed. Nothing here is survey data.

    python scripts/reconstruct_2013_2014.py [--out DIR]

Default DIR is data/raw/2013-2014/. The output is byte-identical on every run (fixed seed, no hash-ordered
iteration, "\\n" line endings) and each file is written atomically.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from thinka.codebook import Codebook, PhaseConfig, load_codebook, load_phase  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rawfiles import (  # noqa: E402  (shared with the other phase script)
    MISSING, MISSING_COUNT, OutFile, assign_by_score, distribute_mentions, expand, missing_cell, next_workday,
    pick_missing, render, spread_dates, write_atomic,
)

PHASE = "2013-2014"
SEED = 20150331  # the date of the 2015 report

# ----------------------------------------------------------------------------------------------------------------
# Targets: the published marginals (feasible count vectors, codes 1..k in codebook order; valid answers only).

EXPERT_N = 46
EXPERT_SITE_SIZES = (8, 7, 6, 5, 5, 4, 4, 4, 3)  # some sites below the disclosure threshold on purpose
EXPERT_VECTORS: dict[str, tuple[int, ...]] = {
    "anerkennung": (15, 20, 8, 2, 1),  # Schaubild 1, N=46
    "potential_einzelfall": (12, 21, 9, 1, 0),  # 2, N=43
    "potential_netzwerk": (16, 21, 5, 2, 0),  # 3, N=44 (printed 83 % impossible; closest vector)
    "froh_standort": (21, 15, 6, 2, 0),  # 4, N=44
    "feste_groesse": (12, 18, 10, 3, 1),  # 5, N=44
    "intensivierung": (13, 16, 10, 4, 1),  # 6, N=44
    "bekanntheit": (18, 14, 9, 3, 0),  # 7, N=44
    "verbesserung_infrastruktur": (3, 13, 12, 11, 5),  # 8, N=44 (printed shares impossible; closest vector)
    "ansprechpartner": (17, 13, 8, 5, 2),  # 9, N=45
    "lage_sozialraum": (14, 16, 9, 4, 2),  # 10, N=45
    "aktivierung": (2, 28, 11, 3, 1, 0),  # 13, N=45
    "netzwerkarbeit": (10, 25, 7, 3, 0, 0),  # 15, N=45
    "kooperationsaufbau": (14, 20, 6, 2, 1, 0),  # 16, N=43
    "integration_sozial": (11, 15, 12, 3, 1, 0),  # 17 soziale Integration, N=42
    "integration_beruflich": (0, 22, 16, 0, 4, 0),  # 17 berufliche Integration, N=42
    "sozialraumentwicklung": (7, 19, 13, 2, 0, 0),  # 18, N=41
    "steuerungsgruppe_nuetzlich": (14, 19, 7, 2, 1),  # 19, N=43
    "steuerungsgruppe_konstruktiv": (14, 21, 8, 2, 1),  # 76 % of 46
    "steuerungsgruppe_buerger": (15, 18, 7, 3, 1),  # three of four, N=44
    "steuerungsgruppe_stadtentwicklung": (12, 18, 9, 4, 1),  # 68 % of 44
    "zusammenarbeit_sachlich": (19, 19, 1, 0, 0),  # 97 % of 39
    "zusammenarbeit_zuverlaessig": (22, 21, 2, 1, 0),  # 93 % of 46
    "zusammenarbeit_augenhoehe": (21, 20, 4, 1, 0),  # 89 %
    "zusammenarbeit_partnerschaftlich": (20, 20, 4, 2, 0),  # 87 %
    "zusammenarbeit_entlastend": (14, 13, 13, 6, 0),  # 59 %
    "zusammenarbeit_gewinnbringend": (15, 15, 11, 5, 0),  # 65 %
}

CLIENT_N = 125
CLIENT_SITE_SIZES = (21, 17, 15, 14, 12, 11, 10, 9, 7, 5, 4)
CLIENT_VECTORS: dict[str, tuple[int, ...]] = {
    "geschlecht": (91, 34),  # knapp 73 % weiblich
    "nutzung": (31, 37, 30, 24),  # Schaubild 11, N=122
    "weiterempfehlung": (123, 2),  # 98 %
    "empathie": (84, 36, 3, 2, 0),  # top-2 96 %
    "individuelle_loesung": (78, 41, 4, 1, 1),  # top-2 95 %
    "problem_geloest": (71, 38, 12),  # ja clearly the majority; 4 missing
}
# Visits per nutzung category (the boundaries are a proposal, not printed) and the total for a mean of 7.0.
VISIT_RANGES = {1: (1, 1), 2: (2, 4), 3: (5, 10), 4: (11, 60)}
VISITS_TOTAL = 854

AUFMERKSAM = {  # Schaubild 12: 134 mentions
    "aufmerksam_behoerde": 34, "aufmerksam_bekannte": 33, "aufmerksam_oeffentlichkeit": 24,
    "aufmerksam_traeger": 14, "aufmerksam_veranstaltung": 12, "aufmerksam_wohnung": 8,
    "aufmerksam_sonstiges": 5, "aufmerksam_internet": 4,
}
AUFMERKSAM_MENTIONS_PER_RESPONDENT = (1,) * 112 + (2,) * 11  # 123 respondents, 2 item non-responses
PROBLEM = {  # Schaubild 14: 141 mentions
    "problem_behoerden": 27, "problem_arbeitssuche": 24, "problem_schulden": 22, "problem_antraege": 20,
    "problem_wohnen": 12, "problem_gesundheit": 9, "problem_familie": 8, "problem_sonstiges": 8,
    "problem_sprache": 6, "problem_kontakte": 5,
}
PROBLEM_MENTIONS_PER_RESPONDENT = (1,) * 104 + (2,) * 17 + (3,) * 1  # 122 respondents, 3 item non-responses

STAT_TOTALS = {"personen": 1457, "beratungen": 9417, "netzwerkkontakte": 4345}
# Relative intake per quarter 2013-Q1 .. 2014-Q4: start-up in 2013-Q1, then a rising trend.
STAT_QUARTER_TREND = {
    "personen": (0.25, 0.65, 0.9, 1.0, 1.1, 1.2, 1.25, 1.3),
    "netzwerkkontakte": (0.55, 0.8, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2),
}

INTERVIEW_PARTNERS = ("kommunal",) * 11 + ("jobcenter",) * 3 + ("wohnungsunternehmen",) * 3
INTERVIEWS_PER_SITE = (3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1)  # 17 interviews over the 11 sites
INTERVIEW_FIRST, INTERVIEW_LAST = dt.date(2014, 1, 13), dt.date(2014, 6, 27)
INTERVIEW_MINUTES = (40, 85)
INTERVIEW_MEAN_MINUTES = 60
INTERVIEW_SEGMENTS = (2, 5)
RECONSTRUCTED = " [rekonstruiert]"
# Public holidays in Thüringen 2013–2014: nobody fills in a questionnaire or gives an interview on these days.
HOLIDAYS = frozenset(dt.date.fromisoformat(d) for d in (
    "2013-01-01", "2013-03-29", "2013-04-01", "2013-05-01", "2013-05-09", "2013-05-20", "2013-10-03",
    "2013-10-31", "2013-12-25", "2013-12-26", "2014-01-01", "2014-04-18", "2014-04-21", "2014-05-01",
    "2014-05-29", "2014-06-09", "2014-10-03", "2014-10-31", "2014-12-25", "2014-12-26",
))

# Statements written for this reconstruction (not quotations of the 2015 report): the kind of view the report
# describes under each theme, phrased anew. Each statement is used at most once.
STATEMENTS: dict[str, tuple[str, ...]] = {
    "erwartungen": (
        "Am Anfang war nicht klar, ob das Projekt uns Arbeit abnimmt oder zusätzliche macht.",
        "Wir hatten die Sorge, dass hier ein weiteres Angebot neben die bestehenden gesetzt wird.",
        "Unsere Hoffnung war, dass endlich jemand die Lücke zwischen Amt und Bürger schließt.",
        "Skeptisch waren wir schon, weil Modellprojekte oft nach der Förderung wieder verschwinden.",
        "Erwartet haben wir vor allem hauptamtliche Kontinuität, die das Ehrenamt allein nicht leisten kann.",
        "Ich war gespannt, ob die Mitarbeiter den Stadtteil wirklich kennenlernen oder nur verwalten.",
        "Befürchtet wurde, dass man sich die Klienten gegenseitig streitig macht.",
        "Von Beginn an war die Erwartung da, dass Menschen erreicht werden, zu denen wir keinen Zugang haben.",
    ),
    "projektstart": (
        "Die ersten Monate gingen mit der Suche nach Räumen und dem Knüpfen erster Kontakte ins Land.",
        "Der Start hätte besser vorbereitet sein können, die Informationen kamen bei uns erst spät an.",
        "Weil es kein Vorgängerprojekt gab, musste praktisch alles neu aufgebaut werden.",
        "In der Anlaufphase war viel Abstimmung nötig, bis jeder seine Rolle gefunden hatte.",
        "Nach einem holprigen Beginn hat sich die Arbeit im zweiten Halbjahr deutlich eingespielt.",
        "Am Anfang wusste bei uns im Haus kaum jemand, an wen man sich wenden soll.",
        "Die Mitarbeiter haben sich zuerst bei allen Einrichtungen im Viertel persönlich vorgestellt.",
        "Die Startphase hat gezeigt, dass man für so ein Vorhaben einen langen Atem braucht.",
    ),
    "etablierung": (
        "Inzwischen ist das Büro im Stadtteil eine bekannte Adresse, die Leute fragen gezielt danach.",
        "Das Projekt gehört mittlerweile selbstverständlich zu den Angeboten, auf die wir verweisen.",
        "Man merkt, dass die Mitarbeiter angekommen sind und im Quartier ernst genommen werden.",
        "Nach einem Jahr ist ThINKA aus der sozialen Landschaft vor Ort kaum noch wegzudenken.",
        "Die Bekanntheit wächst spürbar, vor allem durch Mundpropaganda unter den Bewohnern.",
        "Es braucht noch Zeit, bis das Angebot wirklich bei allen Akteuren verankert ist.",
        "Wir nehmen das Projekt als verlässlichen Partner wahr, der nicht nach kurzer Zeit wieder weg ist.",
        "Die Kontaktstelle ist zu einem festen Treffpunkt geworden, an dem man vorbeischaut.",
    ),
    "kommunale_einbindung": (
        "Die Stadtverwaltung sitzt mit am Tisch, und das öffnet viele Türen.",
        "Für uns als Kommune ist das Projekt ein Partner, über den wir Anliegen der Bürger früher mitbekommen.",
        "Die Einbindung in die kommunalen Gremien ist noch ausbaufähig, aber auf einem guten Weg.",
        "Seit die Verwaltung das Vorhaben offen unterstützt, läuft die Zusammenarbeit mit den Ämtern leichter.",
        "Wichtig ist, dass die Kommune das Projekt als Teil ihrer eigenen Strategie versteht.",
        "Die Amtsleitungen kennen die Mitarbeiter inzwischen persönlich, das verkürzt die Wege erheblich.",
        "Ohne Rückhalt aus dem Rathaus hätte das Projekt im Stadtteil einen schweren Stand.",
        "Wir würden uns wünschen, dass die Ergebnisse stärker in die kommunale Planung einfließen.",
    ),
    "doppelstrukturen": (
        "Das Projekt achtet darauf, nichts anzubieten, was es im Viertel schon gibt.",
        "Anfangs gab es Überschneidungen mit anderen Beratungsstellen, die inzwischen geklärt sind.",
        "Durch die Abstimmung im Netzwerk wissen die Träger besser, wer was macht.",
        "Statt neue Angebote zu schaffen, verweist ThINKA gezielt an die zuständigen Stellen.",
        "Mehrfachbetreuung derselben Familie durch verschiedene Dienste kommt seltener vor als früher.",
        "Ganz vermeiden lassen sich Parallelangebote nicht, aber man redet jetzt darüber.",
        "Die Übersicht über die Angebote im Sozialraum hilft, Lücken und Dopplungen zu erkennen.",
        "Wir sehen das Projekt eher als Bindeglied denn als Konkurrenz zu bestehenden Diensten.",
    ),
    "anlaufstelle": (
        "Die Leute kommen ohne Termin vorbei, das senkt die Hemmschwelle enorm.",
        "Viele, die sich bei uns im Amt nicht trauen zu fragen, gehen erst einmal zu ThINKA.",
        "Die Mitarbeiter nehmen die Menschen an die Hand und begleiten sie zur richtigen Stelle.",
        "Als Lotse durch die Zuständigkeiten ist das Projekt für viele Bürger eine echte Hilfe.",
        "Ein kostenloses Angebot direkt im Wohnviertel erreicht Menschen, die sonst niemanden fragen würden.",
        "Wir schicken Mieter mit Briefen vom Amt, die sie nicht verstehen, gern zur Kontaktstelle.",
        "Das Büro ist erste Anlaufstelle für ganz unterschiedliche Sorgen, vom Antrag bis zur Nachbarschaft.",
        "Wichtig ist, dass dort jemand zuhört, bevor gleich auf ein Formular verwiesen wird.",
    ),
    "aktivierung": (
        "Es gelingt, Menschen zu erreichen, die sich lange aus allem zurückgezogen hatten.",
        "Einige Klienten haben über das Projekt wieder den Mut gefunden, selbst Termine wahrzunehmen.",
        "Schwer erreichbare Haushalte lassen sich nur über Vertrauen und wiederholte Kontakte gewinnen.",
        "Manche Bewohner engagieren sich inzwischen selbst bei Aktionen im Stadtteil.",
        "Die Aktivierung braucht Zeit, schnelle Vermittlungserfolge darf man nicht erwarten.",
        "Für unsere Kunden ist das ein Zwischenschritt, bevor über Arbeit überhaupt gesprochen werden kann.",
        "Gerade Alleinerziehende und Ältere nehmen das Angebot an, die wir sonst kaum erreichen.",
        "Kleine Fortschritte im Alltag sind oft die Voraussetzung für alles Weitere.",
    ),
    "verknuepfung": (
        "Aus den Einzelberatungen ergeben sich Themen, die dann im Netzwerk bearbeitet werden.",
        "Die Verbindung von Fallarbeit und Netzwerkarbeit ist das, was das Projekt besonders macht.",
        "Weil die Mitarbeiter die Partner kennen, kann ein Fall schnell an die richtige Stelle gehen.",
        "Was in der Beratung auffällt, wird in die Runden mit den Trägern zurückgespielt.",
        "Die Kontakte aus dem Netzwerk kommen direkt den Hilfesuchenden zugute.",
        "Einzelfälle zeigen, wo im Sozialraum strukturell etwas fehlt.",
        "Die Doppelrolle kostet Kraft, aber nur so entsteht der Mehrwert für beide Seiten.",
        "Wir erleben, dass aus einem einzelnen Fall eine dauerhafte Kooperation entstanden ist.",
    ),
    "sozialraumentwicklung": (
        "Das Projekt bringt Akteure zusammen, die vorher nebeneinander her gearbeitet haben.",
        "Für die Entwicklung des Viertels ist es wertvoll, dass jemand die Fäden zusammenhält.",
        "Ob sich die Lage im Stadtteil insgesamt verbessert, lässt sich nach so kurzer Zeit schwer sagen.",
        "Aus dem Netzwerk heraus sind erste gemeinsame Aktionen für das Wohnumfeld entstanden.",
        "Die Mitarbeiter moderieren zwischen Bewohnern, Vermietern und Ämtern, wenn es Konflikte gibt.",
        "Die Arbeit hat neben der Krisenhilfe auch einen vorbeugenden Charakter.",
        "Wir erhoffen uns, dass die Stadtentwicklung die Erfahrungen aus dem Projekt aufgreift.",
        "Im Quartier ist ein Netz entstanden, das auch ohne Anlass miteinander spricht.",
    ),
    "steuerungsgruppe": (
        "In der Steuerungsgruppe kann man Probleme offen ansprechen, ohne dass jemand beleidigt ist.",
        "Die regelmäßigen Treffen sorgen dafür, dass alle auf demselben Stand sind.",
        "Die Runde ist mehr als ein Berichtstermin, dort werden gemeinsam Lösungen gesucht.",
        "Es wäre gut, wenn auch engagierte Bewohner in der Steuerungsgruppe mitreden könnten.",
        "Die Steuerungsgruppe hat sich als Forum für Themen über das Projekt hinaus bewährt.",
        "Nicht jede Sitzung ist gleich ergiebig, aber der kurze Draht zu den Partnern zahlt sich aus.",
        "Dass die Koordinierungsstelle mit am Tisch sitzt, gibt den Treffen Struktur.",
        "Wir würden uns wünschen, dass auch die Stadtplanung regelmäßig teilnimmt.",
    ),
}


# ----------------------------------------------------------------------------------------------------------------
# Generic helpers of this phase (pure); the ones both phase scripts use live in scripts/rawfiles.py.


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` that sum exactly to `total` (largest remainder; ties by position)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(int)
    rest = total - int(out.sum())
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out


def site_list(sites: tuple[str, ...], sizes: tuple[int, ...], rng: np.random.Generator) -> list[str]:
    """One site code per respondent: the sizes are given to the sites in a seeded order."""
    order = [sites[int(i)] for i in rng.permutation(len(sites))]
    return [s for s, n in zip(order, sizes, strict=True) for _ in range(n)]


# ----------------------------------------------------------------------------------------------------------------
# Instruments


def build_expertenfragebogen(config: PhaseConfig, codebook: Codebook, rng: np.random.Generator) -> OutFile:
    sites = config.allowed_sites("expertenfragebogen")
    inst = config.instruments["expertenfragebogen"]
    resp_sites = site_list(sites, EXPERT_SITE_SIZES, rng)
    n = len(resp_sites)
    site_effect = {s: rng.normal(0.0, 0.6) for s in sites}
    site_code_habit = {s: float(rng.uniform(0.15, 0.85)) for s in sites}
    latent = np.array([site_effect[s] for s in resp_sites]) + rng.normal(0.0, 0.8, n)
    skip = rng.gamma(1.0, 1.0, n) + 0.05  # a few respondents skip much more often than others
    # Each site filled in its questionnaires at or shortly after one steering-group meeting.
    meeting_days = spread_dates(len(sites), inst.field_start, inst.field_end - dt.timedelta(14), rng, HOLIDAYS)
    meeting = {sites[int(i)]: d for i, d in zip(rng.permutation(len(sites)), meeting_days, strict=True)}
    dates = [next_workday(meeting[s] + dt.timedelta(int(rng.choice([0, 0, 0, 1, 2, 7, 9]))), HOLIDAYS) for s in resp_sites]

    cells: dict[str, list[str]] = {}
    for item in codebook.items_of("expertenfragebogen"):
        vector = EXPERT_VECTORS[item.id]
        missing = pick_missing(n - sum(vector), skip, rng)
        valid = [r for r in range(n) if r not in missing]
        codes = assign_by_score(expand(vector), valid, latent, rng)
        cells[item.id] = [str(codes[r]) if r in codes else missing_cell(site_code_habit[resp_sites[r]], rng)
                          for r in range(n)]

    records = sorted(range(n), key=lambda r: (dates[r], resp_sites[r], r))
    rows = []
    for number, r in enumerate(records, start=1):
        rows.append((f"EF-{number:03d}", resp_sites[r], dates[r].isoformat(),
                     *(cells[i.id][r] for i in codebook.items_of("expertenfragebogen"))))
    return OutFile("expertenfragebogen", ";", False, codebook.required_columns("expertenfragebogen"), tuple(rows))


def visits_for(nutzung: list[int | None], rng: np.random.Generator) -> list[int | None]:
    """A whole number of visits inside each respondent's nutzung category, summing to VISITS_TOTAL."""
    visits: list[int | None] = []
    for cat in nutzung:
        if cat is None:
            visits.append(None)
        elif cat == 4:  # häufig: a long right tail
            visits.append(int(min(VISIT_RANGES[4][1], VISIT_RANGES[4][0] + rng.geometric(0.1) - 1)))
        else:
            lo, hi = VISIT_RANGES[cat]
            visits.append(int(rng.integers(lo, hi + 1)))
    # Move the total onto the target one visit at a time, staying inside the categories' ranges.
    order = [i for i in rng.permutation(len(visits)) if visits[i] is not None]
    step = 0
    while (diff := VISITS_TOTAL - sum(v for v in visits if v is not None)) != 0:
        i = order[step % len(order)]
        lo, hi = VISIT_RANGES[nutzung[i]]
        new = visits[i] + (1 if diff > 0 else -1)
        if lo <= new <= hi:
            visits[i] = new
        step += 1
    return visits


def build_einzelfallfragebogen(config: PhaseConfig, codebook: Codebook, rng: np.random.Generator) -> OutFile:
    sites = config.allowed_sites("einzelfallfragebogen")
    inst = config.instruments["einzelfallfragebogen"]
    resp_sites = site_list(sites, CLIENT_SITE_SIZES, rng)
    n = len(resp_sites)
    site_effect = {s: rng.normal(0.0, 0.5) for s in sites}
    site_regulars = {s: rng.normal(0.0, 0.7) for s in sites}  # some sites see the same people more often
    site_code_habit = {s: float(rng.uniform(0.15, 0.85)) for s in sites}
    site_women = {s: rng.normal(0.0, 0.5) for s in sites}
    satisfaction = np.array([site_effect[s] for s in resp_sites]) + rng.normal(0.0, 0.8, n)
    regular = np.array([site_regulars[s] for s in resp_sites]) + rng.normal(0.0, 0.8, n)
    female = np.array([site_women[s] for s in resp_sites])
    skip = rng.gamma(1.0, 1.0, n) + 0.05
    dates = spread_dates(n, inst.field_start, inst.field_end, rng, HOLIDAYS, trend=1.5)
    dates = [dates[int(i)] for i in rng.permutation(n)]
    habit = [site_code_habit[s] for s in resp_sites]

    def coded(item: str, score: np.ndarray, missing: list[int], noise: float = 1.0) -> dict[int, int]:
        valid = [r for r in range(n) if r not in missing]
        return assign_by_score(expand(CLIENT_VECTORS[item]), valid, score, rng, noise)

    cells: dict[str, list[str]] = {}
    for item in ("geschlecht", "weiterempfehlung", "empathie", "individuelle_loesung", "problem_geloest"):
        score = female if item == "geschlecht" else satisfaction
        codes = coded(item, score, pick_missing(n - sum(CLIENT_VECTORS[item]), skip, rng))
        cells[item] = [str(codes[r]) if r in codes else missing_cell(habit[r], rng) for r in range(n)]

    # nutzung and besuche: the same respondents answer both, visits inside the chosen category.
    nutz_missing = pick_missing(n - sum(CLIENT_VECTORS["nutzung"]), skip, rng)
    nutz = coded("nutzung", -regular, nutz_missing)  # code 1 = einmal goes to the least regular visitors
    nutzung = [nutz.get(r) for r in range(n)]
    visits = visits_for(nutzung, rng)
    cells["nutzung"] = [str(c) if c is not None else missing_cell(habit[r], rng) for r, c in enumerate(nutzung)]
    cells["besuche"] = [str(v) if v is not None else missing_cell(habit[r], rng, MISSING_COUNT)
                        for r, v in enumerate(visits)]

    for counts, per in ((AUFMERKSAM, AUFMERKSAM_MENTIONS_PER_RESPONDENT), (PROBLEM, PROBLEM_MENTIONS_PER_RESPONDENT)):
        non_response = pick_missing(n - len(per), skip, rng)
        answering = [r for r in range(n) if r not in non_response]
        per_resp = [per[int(i)] for i in rng.permutation(len(per))]
        site_pref = {s: rng.normal(0.0, 1.0, len(counts)) for s in sites}
        affinity = np.array([site_pref[resp_sites[r]] for r in answering]) + rng.normal(0.0, 0.7, (len(answering), len(counts)))
        chosen = dict(zip(answering, distribute_mentions(counts, per_resp, affinity), strict=True))
        for col in counts:
            cells[col] = [("1" if col in chosen[r] else "0") if r in chosen else "" for r in range(n)]

    records = sorted(range(n), key=lambda r: (dates[r], resp_sites[r], r))
    columns = codebook.required_columns("einzelfallfragebogen")
    rows = []
    for number, r in enumerate(records, start=1):
        rows.append((f"EZ-{number:03d}", resp_sites[r], dates[r].isoformat(), *(cells[c][r] for c in columns[3:])))
    return OutFile("einzelfallfragebogen", ";", True, columns, tuple(rows))


def build_projektstatistik(config: PhaseConfig, codebook: Codebook, rng: np.random.Generator) -> OutFile:
    sites, quarters = config.allowed_sites("projektstatistik"), config.quarters
    size = rng.lognormal(0.0, 0.5, len(sites))  # sites differ in size; the smallest are small
    noise = lambda sd: rng.lognormal(0.0, sd, (len(sites), len(quarters)))  # noqa: E731
    w_pers = size[:, None] * np.array(STAT_QUARTER_TREND["personen"])[None, :] * noise(0.25)
    personen = apportion(STAT_TOTALS["personen"], w_pers.ravel()).reshape(w_pers.shape)
    # Consultations follow the active caseload: this quarter's new persons plus a share of earlier ones.
    caseload = personen + 0.3 * (np.cumsum(personen, axis=1) - personen)
    intensity = rng.lognormal(0.0, 0.2, len(sites))[:, None]
    beratungen = apportion(STAT_TOTALS["beratungen"], (caseload * intensity * noise(0.15)).ravel()).reshape(w_pers.shape)
    if (beratungen < personen).any():  # every new person has had at least one consultation
        raise RuntimeError("reconstruction produced fewer consultations than new persons; change the seed")
    w_net = (size ** 0.5)[:, None] * np.array(STAT_QUARTER_TREND["netzwerkkontakte"])[None, :] * noise(0.3)
    netz = apportion(STAT_TOTALS["netzwerkkontakte"], w_net.ravel()).reshape(w_net.shape)
    rows = tuple((s, q, str(personen[i, j]), str(beratungen[i, j]), str(netz[i, j]))
                 for i, s in enumerate(sites) for j, q in enumerate(quarters))
    return OutFile("projektstatistik", ";", False, codebook.required_columns("projektstatistik"), rows)


def interview_themes(n_segments: list[int], themes: tuple[str, ...], rng: np.random.Generator) -> list[list[str]]:
    """Distinct themes per interview, every theme at least twice, none more often than it has statements."""
    total = sum(n_segments)
    cap = min(len(v) for v in STATEMENTS.values())
    demand = {t: 2 for t in themes}
    popularity = rng.dirichlet(np.full(len(themes), 2.0))
    while sum(demand.values()) < total:
        t = themes[int(rng.choice(len(themes), p=popularity))]
        if demand[t] < cap:
            demand[t] += 1
    out: list[list[str]] = [[] for _ in n_segments]
    # Interviews with the most segments choose first; each takes the themes with the most demand left.
    for i in sorted(range(len(n_segments)), key=lambda i: (-n_segments[i], i)):
        pick = sorted(themes, key=lambda t: (-demand[t], rng.random()))[: n_segments[i]]
        for t in pick:
            demand[t] -= 1
        out[i] = [t for t in themes if t in pick]  # the interview guide's order
    if any(v != 0 for v in demand.values()):
        raise RuntimeError("theme distribution infeasible")
    return out


def build_experteninterviews(config: PhaseConfig, codebook: Codebook, rng: np.random.Generator) -> OutFile:
    sites = config.allowed_sites("experteninterviews")
    iv_sites = site_list(sites, INTERVIEWS_PER_SITE, rng)
    partners = [INTERVIEW_PARTNERS[int(i)] for i in rng.permutation(len(INTERVIEW_PARTNERS))]
    n = len(iv_sites)
    inner = spread_dates(n - 2, INTERVIEW_FIRST + dt.timedelta(1), INTERVIEW_LAST - dt.timedelta(1), rng, HOLIDAYS)
    # Interviews at the same site were held on different days, not back to back.
    dates = [[INTERVIEW_FIRST, *inner, INTERVIEW_LAST][int(i)] for i in rng.permutation(n)]
    lo, hi = INTERVIEW_MINUTES
    minutes = [int(np.clip(round(m), lo, hi)) for m in rng.normal(INTERVIEW_MEAN_MINUTES, 12.0, n)]
    # Nudge the durations onto an exact mean of INTERVIEW_MEAN_MINUTES, one minute at a time.
    step = 0
    while (diff := INTERVIEW_MEAN_MINUTES * n - sum(minutes)) != 0:
        i = step % n
        new = minutes[i] + (1 if diff > 0 else -1)
        if lo <= new <= hi:
            minutes[i] = new
        step += 1
    n_segments = [int(k) for k in rng.integers(INTERVIEW_SEGMENTS[0], INTERVIEW_SEGMENTS[1] + 1, n)]
    themes = codebook.scales["interviewthema"].codes
    per_interview = interview_themes(n_segments, themes, rng)
    pool = {t: [STATEMENTS[t][int(i)] for i in rng.permutation(len(STATEMENTS[t]))] for t in themes}

    order = sorted(range(n), key=lambda i: (dates[i], i))
    rows = []
    for number, i in enumerate(order, start=1):
        for seg, theme in enumerate(per_interview[i], start=1):
            rows.append((f"IV-{number:02d}", str(seg), iv_sites[i], partners[i], dates[i].isoformat(),
                         str(minutes[i]), theme, pool[theme].pop() + RECONSTRUCTED))
    return OutFile("experteninterviews", ",", False, codebook.required_columns("experteninterviews"), tuple(rows))


def reconstruct(config: PhaseConfig, codebook: Codebook, seed: int = SEED) -> list[OutFile]:
    """All four files. Each instrument draws from its own child stream, so changing one leaves the others."""
    builders = (build_experteninterviews, build_einzelfallfragebogen, build_expertenfragebogen, build_projektstatistik)
    streams = np.random.SeedSequence(seed).spawn(len(builders))
    return [b(config, codebook, np.random.default_rng(s)) for b, s in zip(builders, streams, strict=True)]


# ----------------------------------------------------------------------------------------------------------------
# Output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    raw = ROOT / "data" / "raw" / PHASE
    parser.add_argument("--out", type=Path, default=raw, help=f"output folder (default {raw})")
    args = parser.parse_args(argv)
    config = load_phase(raw / "phase.yaml")
    codebook = load_codebook(raw / "codebook.yaml")
    for out in reconstruct(config, codebook):
        path = args.out / config.instruments[out.instrument].file
        data = render(out)
        write_atomic(path, data)
        print(f"wrote {path} ({len(out.rows)} rows, {len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
