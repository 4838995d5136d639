"""Write the SYNTHETIC raw files of ThINKA's second Förderphase 2015–2016 (a demonstration phase).

Nothing here is survey data, and nothing is reconstructed from a report: there is no published 2015–2016 edition.
The four files are invented with a fixed seed so that thinka can demonstrate how two Förderphasen are compared.
phase.yaml says `synthetic: true`, and the report says so on its title page, on every site page and in the
methods note.

    python scripts/make_phase_2015_2016.py [--out DIR]

Default DIR is data/raw/2015-2016/. The output is byte-identical on every run (fixed seed, no hash-ordered
iteration, "\\n" line endings) and each file is written atomically. The column layout and the export styles
(encoding, separator) are those of the 2013–2014 files; the columns follow data/raw/2015-2016/codebook.yaml.

What a second wave looks like here
----------------------------------
Sites: S07 left the programme after 2014, S12 joined in 2015, S10 formed a steering group (it now returns the
expert questionnaire; S11 and S12 have none).

Returns per site (2013–2014 -> 2015–2016; "-" not in the programme or no steering group):

    site                  S01 S02 S03 S04 S05 S06 S07 S08 S09 S10 S11 S12  total
    Einzelfallfragebogen    5   4  10  14   7  11  21   9  12  15  17   -    125
                  ->        9   4  15  20   7  18   -  25  10  24  15   3    150
    Expertenfragebogen      5   4   5   4   7   8   3   4   6   -   -   -     46
                  ->        6   4   7   5   6   8   -   5   5   4   -   -     50

More questionnaires at S01, S03, S04, S06, S08 and S10, fewer at S09 and S11; S02 and the new S12 stay below the
disclosure threshold of 5 on the client questionnaire, S02 and S10 on the expert questionnaire (and item
non-response takes some more site values below it). S12's client questionnaires date from 2016, its second year.

Answers are fixed count vectors (valid answers per code, below), handed out to respondents by a seeded latent
score so that sites differ while the totals are exact. The intended changes against 2013–2014, as top-2 shares
(likert: codes 1+2; grades: 1+2; yes/no and solved: code 1), with the 95 % Newcombe hybrid-score interval of the
difference (new minus old) that these vectors give:

    clearly changed (interval excludes 0)
      bekanntheit      72.7 % (n=44) -> 93.9 % (n=49)   +21.2 points  [+6.1, +36.3]   (wording revised)
      feste_groesse    68.2 % (n=44) -> 89.6 % (n=48)   +21.4 points  [+4.7, +37.3]
      intensivierung   65.9 % (n=44) -> 41.7 % (n=48)   -24.2 points  [-41.9, -3.9]
    visible but not proven (interval includes 0)
      verbesserung_infrastruktur 36.4 % -> 48.9 %  +12.6  [-7.5, +31.3]
      steuerungsgruppe_nuetzlich 76.7 % -> 83.3 %   +6.6  [-9.8, +23.1]
      sozialraumentwicklung      63.4 % -> 69.6 %   +6.2
      problem_geloest (ja)       58.7 % -> 63.4 %   +4.8  [-6.9, +16.4]
      nutzung einmal/gelegentlich 55.7 % -> 47.9 %  -7.8  [-19.4, +4.2]  (more regular visitors; mean visits 7.0 -> 7.6)
    essentially unchanged (|difference| <= 2.5 points)
      froh_standort 81.8 -> 81.2, weiterempfehlung 98.4 -> 97.3, empathie 96.0 -> 95.3,
      individuelle_loesung 95.2 -> 94.6, potential_einzelfall 76.7 -> 76.6, kooperationsaufbau 79.1 -> 79.2,
      steuerungsgruppe_buerger 75.0 -> 75.0, the four "Zusammenarbeit verläuft ..." items within 2 points,
      geschlecht (weiblich) 72.8 -> 70.3
    everything else moves by 0.1 to 4.8 points (noise).
    new item erreichbarkeit: 80.8 % agree (n=146); dropped: steuerungsgruppe_stadtentwicklung.
    mentions: word of mouth (aufmerksam_bekannte) becomes the most frequent way to the office, and
      Sprache/Migration/Aufenthalt rises from 6 of 141 to 19 of 172 mentions (the arrivals of 2015).

Interviews: 15 interviews (9 kommunal, 3 Jobcenter, 3 Wohnungsunternehmen) in Q3 2015 with 55 coded segments; the
statements below were written for this script and each ends with "[synthetisch]".

Projektstatistik: every site x quarter 2015-Q1 .. 2016-Q4, continuing each site's level at the end of 2014 (mean
of 2014-Q3/Q4 of the 2013–2014 files, hard-coded below) with a mild rise and a summer dip; S12 starts low and
grows towards a small site's level.
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

PHASE = "2015-2016"
SEED = 20170331  # the report date of the synthetic phase
SYNTHETIC = " [synthetisch]"

# ----------------------------------------------------------------------------------------------------------------
# Returns per site (see the table in the docstring).

EXPERT_SITE_SIZES = {"S01": 6, "S02": 4, "S03": 7, "S04": 5, "S05": 6, "S06": 8, "S08": 5, "S09": 5, "S10": 4}
CLIENT_SITE_SIZES = {"S01": 9, "S02": 4, "S03": 15, "S04": 20, "S05": 7, "S06": 18, "S08": 25, "S09": 10,
                     "S10": 24, "S11": 15, "S12": 3}

# Valid answers per code 1..k (codebook order). The rest of the respondents skip the item.
EXPERT_VECTORS: dict[str, tuple[int, ...]] = {
    "anerkennung": (17, 22, 7, 2, 1),
    "potential_einzelfall": (13, 23, 9, 2, 0),
    "potential_netzwerk": (19, 22, 5, 2, 0),
    "froh_standort": (23, 16, 7, 2, 0),  # unchanged
    "feste_groesse": (18, 25, 4, 1, 0),  # +21 points
    "intensivierung": (7, 13, 14, 11, 3),  # -24 points
    "bekanntheit": (26, 20, 3, 0, 0),  # +21 points (revised wording)
    "verbesserung_infrastruktur": (5, 18, 13, 8, 3),  # +13 points, not proven
    "ansprechpartner": (18, 15, 9, 5, 2),
    "lage_sozialraum": (16, 18, 9, 4, 2),
    "aktivierung": (4, 31, 10, 3, 1, 0),
    "netzwerkarbeit": (13, 27, 6, 3, 0, 0),
    "kooperationsaufbau": (16, 22, 7, 2, 1, 0),
    "integration_sozial": (12, 18, 11, 4, 1, 0),
    "integration_beruflich": (1, 22, 15, 3, 4, 0),
    "sozialraumentwicklung": (10, 22, 11, 3, 0, 0),
    "steuerungsgruppe_nuetzlich": (18, 22, 6, 1, 1),
    "steuerungsgruppe_konstruktiv": (16, 23, 7, 2, 1),
    "steuerungsgruppe_buerger": (17, 19, 8, 3, 1),
    "zusammenarbeit_sachlich": (22, 20, 2, 0, 0),
    "zusammenarbeit_zuverlaessig": (24, 22, 3, 1, 0),
    "zusammenarbeit_augenhoehe": (22, 22, 5, 1, 0),
    "zusammenarbeit_partnerschaftlich": (21, 22, 4, 2, 0),
    "zusammenarbeit_entlastend": (15, 16, 12, 6, 0),
    "zusammenarbeit_gewinnbringend": (17, 17, 10, 5, 0),
}

CLIENT_VECTORS: dict[str, tuple[int, ...]] = {
    "geschlecht": (104, 44),
    "nutzung": (30, 40, 42, 34),
    "weiterempfehlung": (145, 4),  # unchanged
    "empathie": (96, 45, 4, 2, 1),  # unchanged
    "individuelle_loesung": (88, 51, 5, 2, 1),
    "problem_geloest": (92, 39, 14),
    "erreichbarkeit": (71, 47, 17, 8, 3),  # new item
}
# Visits per nutzung category (as in 2013-2014) and the total for a mean of 7.6 over 146 answers.
VISIT_RANGES = {1: (1, 1), 2: (2, 4), 3: (5, 10), 4: (11, 60)}
VISITS_TOTAL = 1110

AUFMERKSAM = {  # 160 mentions
    "aufmerksam_behoerde": 36, "aufmerksam_bekannte": 44, "aufmerksam_oeffentlichkeit": 25,
    "aufmerksam_traeger": 17, "aufmerksam_veranstaltung": 14, "aufmerksam_wohnung": 9,
    "aufmerksam_internet": 10, "aufmerksam_sonstiges": 5,
}
AUFMERKSAM_MENTIONS_PER_RESPONDENT = (1,) * 134 + (2,) * 13  # 147 respondents, 3 item non-responses
PROBLEM = {  # 172 mentions
    "problem_behoerden": 30, "problem_arbeitssuche": 22, "problem_schulden": 24, "problem_antraege": 25,
    "problem_wohnen": 16, "problem_gesundheit": 11, "problem_familie": 10, "problem_sonstiges": 8,
    "problem_sprache": 19, "problem_kontakte": 7,
}
PROBLEM_MENTIONS_PER_RESPONDENT = (1,) * 123 + (2,) * 20 + (3,) * 3  # 146 respondents, 4 item non-responses

# Projektstatistik: each site's quarterly level at the end of 2014 (persons, consultations, network contacts; mean
# of 2014-Q3 and 2014-Q4 in data/raw/2013-2014/projektstatistik.csv). S12 is new: the level it grows towards.
STAT_LEVELS: dict[str, tuple[float, float, float]] = {
    "S01": (18.5, 185.0, 61.5), "S02": (11.5, 91.0, 45.0), "S03": (25.0, 246.5, 54.0),
    "S04": (25.0, 274.0, 55.0), "S05": (9.0, 92.5, 37.5), "S06": (25.0, 210.0, 68.5),
    "S08": (41.0, 302.0, 53.0), "S09": (10.0, 58.5, 59.0), "S10": (14.0, 148.0, 101.0),
    "S11": (17.5, 90.5, 74.0), "S12": (12.0, 80.0, 45.0),
}
NEW_SITE_RAMP = (0.25, 0.45, 0.6, 0.75, 0.85, 0.95, 1.0, 1.05)  # S12, 2015-Q1 .. 2016-Q4
TREND = np.linspace(1.0, 1.12, 8)  # established sites: a mild rise over the phase
SEASON = {1: 1.0, 2: 1.0, 3: 0.9, 4: 1.05}  # fewer first contacts in the summer quarter

INTERVIEW_PARTNERS = ("kommunal",) * 9 + ("jobcenter",) * 3 + ("wohnungsunternehmen",) * 3
INTERVIEWS_PER_SITE = (2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1)  # 15 interviews over the 11 sites
INTERVIEW_FIRST, INTERVIEW_LAST = dt.date(2015, 7, 2), dt.date(2015, 9, 29)
INTERVIEW_MINUTES = (35, 80)
INTERVIEW_MEAN_MINUTES = 55
INTERVIEW_SEGMENTS = (2, 6)
INTERVIEW_SEGMENTS_TOTAL = 55
# Public holidays in Thüringen 2015–2016: nobody fills in a questionnaire or gives an interview on these days.
HOLIDAYS = frozenset(dt.date.fromisoformat(d) for d in (
    "2015-01-01", "2015-04-03", "2015-04-06", "2015-05-01", "2015-05-14", "2015-05-25", "2015-10-03",
    "2015-10-31", "2015-12-25", "2015-12-26", "2016-01-01", "2016-03-25", "2016-03-28", "2016-05-01",
    "2016-05-05", "2016-05-16", "2016-10-03", "2016-10-31", "2016-12-25", "2016-12-26",
))

# Statements invented for this script (no quotations; the kind of view a second wave would hear under each theme).
# Each statement is used at most once and gets the suffix " [synthetisch]".
STATEMENTS: dict[str, tuple[str, ...]] = {
    "erwartungen": (
        "Für die zweite Förderphase erwarten wir vor allem, dass die Arbeit ohne Bruch weitergeht.",
        "Unsere größte Sorge war, dass eingespielte Mitarbeiter nach der ersten Phase gehen.",
        "Wir hoffen, dass die Vorhaben jetzt stärker in die Fläche des Landkreises wirken.",
        "Bedenken gab es, ob die Förderung lange genug reicht, um Strukturen dauerhaft zu sichern.",
        "Von der neuen Phase erwarten wir klarere Absprachen darüber, wer im Netzwerk welche Aufgabe übernimmt.",
        "Viele im Haus fragen, was aus den Kontakten wird, wenn das Programm einmal endet.",
        "Ich erwarte, dass die Erfahrungen aus den ersten beiden Jahren jetzt systematisch genutzt werden.",
    ),
    "projektstart": (
        "Wo ein Vorhaben neu hinzukam, begann alles wieder bei null, mit Raumsuche und ersten Antrittsbesuchen.",
        "Der Übergang in die zweite Phase verlief bei uns nahtlos, das Büro war keinen Tag geschlossen.",
        "Weil das Team aus der ersten Phase geblieben ist, mussten wir keine Kontakte neu aufbauen.",
        "Die Verzögerung bei den Bescheiden zu Jahresbeginn hat einige Wochen Planung gekostet.",
        "Das neue Vorhaben konnte von den Erfahrungen der anderen Standorte spürbar profitieren.",
        "In den ersten Monaten mussten wir vielen erklären, dass das Angebot weiterläuft.",
        "Ein Personalwechsel zu Beginn der Phase hat den Start am Standort etwas gebremst.",
    ),
    "etablierung": (
        "Heute fragt im Viertel niemand mehr, was ThINKA eigentlich ist.",
        "Die Kontaktstelle steht inzwischen in jedem Wegweiser, den die Stadt herausgibt.",
        "Wir verweisen ganz selbstverständlich dorthin, so wie auf andere feste Beratungsstellen.",
        "Das Büro gehört zum Stadtteil wie der Bäcker an der Ecke.",
        "An einem neuen Standort braucht es trotzdem wieder Zeit, bis man als Adresse gilt.",
        "Der Name ist bekannt, aber nicht jeder weiß genau, wobei das Projekt helfen kann.",
        "Dass das Vorhaben weiterläuft, hat sein Ansehen bei den Partnern gestärkt.",
    ),
    "kommunale_einbindung": (
        "Die Stadt hat das Vorhaben in ihr Konzept für die Stadtteilentwicklung aufgenommen.",
        "Im Sozialausschuss wird inzwischen regelmäßig über die Arbeit vor Ort berichtet.",
        "Die Kommune beteiligt sich jetzt auch mit eigenen Mitteln an den Räumen.",
        "Mit dem Landkreis ist die Abstimmung noch mühsam, mit der Stadt läuft sie gut.",
        "Die Verwaltung nutzt die Rückmeldungen aus der Kontaktstelle für ihre Sozialplanung.",
        "Nach dem Wechsel in der Amtsleitung mussten wir das Projekt erneut vorstellen.",
        "Die Fachämter holen das Team inzwischen von sich aus zu ihren Runden dazu.",
    ),
    "doppelstrukturen": (
        "Die Träger im Viertel haben ihre Sprechzeiten inzwischen aufeinander abgestimmt.",
        "Mit den neuen Angeboten für Geflüchtete gab es zuerst Überschneidungen, die im Netzwerk geklärt wurden.",
        "Das Projekt sammelt die Angebote im Sozialraum und hält die Übersicht aktuell.",
        "Wenn dieselbe Familie parallel beraten wird, fällt das heute schneller auf als früher.",
        "Wir nutzen gemeinsame Fallbesprechungen, damit nicht drei Stellen dasselbe tun.",
        "Ganz ohne Doppelungen geht es nicht, aber sie werden offen angesprochen.",
        "Die Kontaktstelle verweist weiter, statt eigene Kurse neben bestehende zu setzen.",
    ),
    "anlaufstelle": (
        "Viele kommen zuerst mit einem Brief vom Amt und bleiben dann für weitere Fragen.",
        "Die offene Sprechstunde ohne Termin wird nach wie vor am stärksten genutzt.",
        "Inzwischen kommen auch Geflüchtete mit ihren Fragen in die Kontaktstelle.",
        "Für ältere Menschen ist der kurze Weg ins Büro entscheidend.",
        "Die Mitarbeiter wissen, wer in welchem Amt zuständig ist, und das erspart den Leuten viele Wege.",
        "Abends und am Samstag ist die Kontaktstelle geschlossen, das passt nicht für alle Berufstätigen.",
        "Wer einmal gut beraten wurde, bringt beim nächsten Mal Nachbarn oder Verwandte mit.",
    ),
    "aktivierung": (
        "Einige Besucher haben über das Projekt den Weg in eine Maßnahme des Jobcenters gefunden.",
        "Aus einer Gruppe von Bewohnern ist ein kleiner Nachbarschaftstreff entstanden.",
        "Menschen, die jahrelang keinen Termin wahrgenommen haben, kommen jetzt regelmäßig.",
        "Aktivierung heißt hier oft zuerst, dass jemand seine Post wieder öffnet.",
        "Bei Langzeitarbeitslosen sind die Fortschritte klein, aber sie halten länger an.",
        "Ehrenamtliche aus dem Quartier übernehmen inzwischen eigene Aufgaben im Projekt.",
        "Schnelle Vermittlungen in Arbeit sind die Ausnahme und sollten nicht der Maßstab sein.",
    ),
    "verknuepfung": (
        "Aus wiederkehrenden Fragen zu Mietschulden ist eine gemeinsame Sprechstunde mit dem Vermieter entstanden.",
        "Fälle, die allein nicht zu lösen sind, landen in der Netzwerkrunde und nicht in der Schublade.",
        "Das Team kennt die Menschen und die Partner, deshalb klappt die Vermittlung so schnell.",
        "Was in den Einzelberatungen auffällt, fließt in die Berichte an die Steuerungsgruppe ein.",
        "Die Netzwerkarbeit kostet Zeit, die dann in der Beratung fehlt, das muss man ehrlich sagen.",
        "Über die Kontakte im Netzwerk bekommt ein Klient oft noch in derselben Woche einen Termin.",
        "Einzelfälle haben gezeigt, dass im Viertel ein Angebot für junge Mütter fehlt.",
    ),
    "sozialraumentwicklung": (
        "Im Quartier gibt es wieder mehr gemeinsame Aktivitäten der Bewohner.",
        "Die Konflikte zwischen alten und neuen Nachbarn haben spürbar abgenommen.",
        "Ob sich die soziale Lage verbessert hat, lässt sich an Zahlen noch nicht ablesen.",
        "Das Projekt hat den Anstoß für die Neugestaltung des Spielplatzes gegeben.",
        "Die Stadtentwicklung fragt das Team inzwischen nach seiner Einschätzung zum Viertel.",
        "Leerstand und Wegzug bleiben Probleme, die ein einzelnes Projekt nicht lösen kann.",
        "Von außen wird der Stadtteil weniger als Problemviertel wahrgenommen als früher.",
    ),
    "steuerungsgruppe": (
        "Nach einigen Wechseln in der Besetzung musste die Runde ihre Arbeitsweise neu finden.",
        "In der Runde werden Entscheidungen getroffen, nicht nur Berichte vorgelesen.",
        "Seit die Wohnungswirtschaft mit am Tisch sitzt, sind die Wege kürzer geworden.",
        "Manche Mitglieder schicken wechselnde Vertreter, das erschwert die Kontinuität.",
        "Die Steuerungsgruppe hat eigene Arbeitsgruppen zu Wohnen und Arbeit gebildet.",
        "Eine Bewohnerin bringt seit Kurzem die Sicht des Quartiers in die Sitzungen ein.",
        "Ohne die Vorbereitung durch die Koordinierungsstelle wären die Sitzungen weniger ergiebig.",
    ),
}


# ----------------------------------------------------------------------------------------------------------------
# Generic helpers of this phase (pure); the ones both phase scripts use live in scripts/rawfiles.py.


def site_sequence(sizes: dict[str, int], allowed: tuple[str, ...]) -> list[str]:
    """One site code per respondent, in the phase's site order; the sizes must name exactly the allowed sites."""
    if set(sizes) != set(allowed):
        raise RuntimeError(f"site sizes {sorted(sizes)} do not match the phase's sites {sorted(allowed)}")
    return [s for s in allowed for _ in range(sizes[s])]


def nudge_to_total(values: list[int], total: int, lo: int, hi: int, order: list[int]) -> list[int]:
    """Move `values` onto `total` one unit at a time in `order`, each value staying inside [lo, hi]."""
    values = list(values)
    if not len(values) * lo <= total <= len(values) * hi:
        raise RuntimeError(f"total {total} not reachable with {len(values)} values in [{lo}, {hi}]")
    step = 0
    while (diff := total - sum(values)) != 0:
        i = order[step % len(order)]
        new = values[i] + (1 if diff > 0 else -1)
        if lo <= new <= hi:
            values[i] = new
        step += 1
    return values


def round_half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


# ----------------------------------------------------------------------------------------------------------------
# Instruments


def build_expertenfragebogen(config: PhaseConfig, codebook: Codebook, rng: np.random.Generator) -> OutFile:
    sites = config.allowed_sites("expertenfragebogen")
    inst = config.instruments["expertenfragebogen"]
    items = codebook.items_of("expertenfragebogen")
    if {i.id for i in items} != set(EXPERT_VECTORS):
        raise RuntimeError(f"expert items {sorted(i.id for i in items)} differ from EXPERT_VECTORS")
    resp_sites = site_sequence(EXPERT_SITE_SIZES, sites)
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
    for item in items:
        vector = EXPERT_VECTORS[item.id]
        missing = pick_missing(n - sum(vector), skip, rng)
        valid = [r for r in range(n) if r not in missing]
        codes = assign_by_score(expand(vector), valid, latent, rng)
        cells[item.id] = [str(codes[r]) if r in codes else missing_cell(site_code_habit[resp_sites[r]], rng)
                          for r in range(n)]

    records = sorted(range(n), key=lambda r: (dates[r], resp_sites[r], r))
    rows = [(f"EF-{number:03d}", resp_sites[r], dates[r].isoformat(), *(cells[i.id][r] for i in items))
            for number, r in enumerate(records, start=1)]
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
    order = [int(i) for i in rng.permutation(len(visits)) if visits[int(i)] is not None]
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
    coded_items = [i.id for i in codebook.items_of("einzelfallfragebogen") if not i.is_multiple_response]
    if set(coded_items) - {"besuche"} != set(CLIENT_VECTORS):
        raise RuntimeError(f"client items {sorted(coded_items)} differ from CLIENT_VECTORS (+ besuche)")
    resp_sites = site_sequence(CLIENT_SITE_SIZES, sites)
    n = len(resp_sites)
    site_effect = {s: rng.normal(0.0, 0.5) for s in sites}
    site_regulars = {s: rng.normal(0.0, 0.7) for s in sites}  # some sites see the same people more often
    site_code_habit = {s: float(rng.uniform(0.15, 0.85)) for s in sites}
    site_women = {s: rng.normal(0.0, 0.5) for s in sites}
    site_access = {s: rng.normal(0.0, 0.8) for s in sites}  # offices differ in location and opening hours
    satisfaction = np.array([site_effect[s] for s in resp_sites]) + rng.normal(0.0, 0.8, n)
    regular = np.array([site_regulars[s] for s in resp_sites]) + rng.normal(0.0, 0.8, n)
    female = np.array([site_women[s] for s in resp_sites])
    access = np.array([site_access[s] for s in resp_sites]) + 0.5 * satisfaction
    skip = rng.gamma(1.0, 1.0, n) + 0.05
    # S12 joined in 2015: its questionnaires come from its second year.
    dates: list[dt.date] = [dt.date.min] * n
    late = [r for r in range(n) if resp_sites[r] == "S12"]
    rest = [r for r in range(n) if resp_sites[r] != "S12"]
    for group, start in ((rest, inst.field_start), (late, dt.date(2016, 1, 1))):
        drawn = spread_dates(len(group), start, inst.field_end, rng, HOLIDAYS, trend=1.0)
        for r, i in zip(group, rng.permutation(len(group)), strict=True):
            dates[r] = drawn[int(i)]
    habit = [site_code_habit[s] for s in resp_sites]

    def coded(item: str, score: np.ndarray, missing: list[int], noise: float = 1.0) -> dict[int, int]:
        valid = [r for r in range(n) if r not in missing]
        return assign_by_score(expand(CLIENT_VECTORS[item]), valid, score, rng, noise)

    cells: dict[str, list[str]] = {}
    scores = {"geschlecht": female, "erreichbarkeit": access}
    for item in ("geschlecht", "weiterempfehlung", "empathie", "individuelle_loesung", "problem_geloest",
                 "erreichbarkeit"):
        codes = coded(item, scores.get(item, satisfaction), pick_missing(n - sum(CLIENT_VECTORS[item]), skip, rng))
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
    rows = [(f"EZ-{number:03d}", resp_sites[r], dates[r].isoformat(), *(cells[c][r] for c in columns[3:]))
            for number, r in enumerate(records, start=1)]
    return OutFile("einzelfallfragebogen", ";", True, columns, tuple(rows))


def build_projektstatistik(config: PhaseConfig, codebook: Codebook, rng: np.random.Generator) -> OutFile:
    sites, quarters = config.allowed_sites("projektstatistik"), config.quarters
    if set(STAT_LEVELS) != set(sites) or len(quarters) != len(NEW_SITE_RAMP):
        raise RuntimeError("STAT_LEVELS / NEW_SITE_RAMP do not fit the phase's sites and quarters")
    season = np.array([SEASON[int(q[-1])] for q in quarters])
    rows = []
    for s in sites:
        base = np.array(STAT_LEVELS[s])
        shape = np.array(NEW_SITE_RAMP) if s == "S12" else TREND
        noise = rng.lognormal(0.0, (0.2, 0.12, 0.2), (len(quarters), 3))
        values = base[None, :] * shape[:, None] * noise
        values[:, 0] *= season
        personen = [max(1, round_half_up(v)) for v in values[:, 0]]
        beratungen = [round_half_up(v) for v in values[:, 1]]
        netz = [round_half_up(v) for v in values[:, 2]]
        if any(b < p for b, p in zip(beratungen, personen, strict=True)):
            raise RuntimeError(f"fewer consultations than new persons at {s}; change the seed")
        rows += [(s, q, str(p), str(b), str(k)) for q, p, b, k in zip(quarters, personen, beratungen, netz, strict=True)]
    return OutFile("projektstatistik", ";", False, codebook.required_columns("projektstatistik"), tuple(rows))


def interview_themes(n_segments: list[int], themes: tuple[str, ...], rng: np.random.Generator,
                     excluded: list[frozenset[str]] | None = None) -> list[list[str]]:
    """Distinct themes per interview, every theme at least twice, none more often than it has statements.

    `excluded[i]`: themes interview i cannot touch (the steering group where the site has none).
    """
    total = sum(n_segments)
    cap = min(len(v) for v in STATEMENTS.values())
    demand = {t: 2 for t in themes}
    popularity = rng.dirichlet(np.full(len(themes), 2.0))
    while sum(demand.values()) < total:
        t = themes[int(rng.choice(len(themes), p=popularity))]
        if demand[t] < cap:
            demand[t] += 1
    excluded = excluded or [frozenset()] * len(n_segments)
    out: list[list[str]] = [[] for _ in n_segments]
    # Restricted interviews choose first, then those with the most segments; each takes the allowed themes with
    # the most demand left.
    for i in sorted(range(len(n_segments)), key=lambda i: (-len(excluded[i]), -n_segments[i], i)):
        allowed = [t for t in themes if t not in excluded[i]]
        pick = sorted(allowed, key=lambda t: (-demand[t], rng.random()))[: n_segments[i]]
        for t in pick:
            demand[t] -= 1
        out[i] = [t for t in themes if t in pick]  # the interview guide's order
    if any(v != 0 for v in demand.values()):
        raise RuntimeError("theme distribution infeasible; change the seed")
    return out


def build_experteninterviews(config: PhaseConfig, codebook: Codebook, rng: np.random.Generator) -> OutFile:
    sites = config.allowed_sites("experteninterviews")
    order = [sites[int(i)] for i in rng.permutation(len(sites))]
    iv_sites = [s for s, k in zip(order, INTERVIEWS_PER_SITE, strict=True) for _ in range(k)]
    partners = [INTERVIEW_PARTNERS[int(i)] for i in rng.permutation(len(INTERVIEW_PARTNERS))]
    n = len(iv_sites)
    inner = spread_dates(n - 2, INTERVIEW_FIRST + dt.timedelta(1), INTERVIEW_LAST - dt.timedelta(1), rng, HOLIDAYS)
    dates = [[INTERVIEW_FIRST, *inner, INTERVIEW_LAST][int(i)] for i in rng.permutation(n)]
    lo, hi = INTERVIEW_MINUTES
    minutes = [int(np.clip(round_half_up(m), lo, hi)) for m in rng.normal(INTERVIEW_MEAN_MINUTES, 11.0, n)]
    minutes = nudge_to_total(minutes, INTERVIEW_MEAN_MINUTES * n, lo, hi, list(range(n)))
    seg_lo, seg_hi = INTERVIEW_SEGMENTS
    n_segments = [int(k) for k in rng.integers(seg_lo, seg_hi + 1, n)]
    n_segments = nudge_to_total(n_segments, INTERVIEW_SEGMENTS_TOTAL, seg_lo, seg_hi,
                                [int(i) for i in rng.permutation(n)])
    themes = codebook.scales["interviewthema"].codes
    if set(themes) != set(STATEMENTS):
        raise RuntimeError("the codebook's interview themes differ from STATEMENTS")
    no_group = frozenset({"steuerungsgruppe"})
    excluded = [frozenset() if config.site(s).steering_group else no_group for s in iv_sites]
    per_interview = interview_themes(n_segments, themes, rng, excluded)
    pool = {t: [STATEMENTS[t][int(i)] for i in rng.permutation(len(STATEMENTS[t]))] for t in themes}

    rows = []
    for number, i in enumerate(sorted(range(n), key=lambda i: (dates[i], i)), start=1):
        for seg, theme in enumerate(per_interview[i], start=1):
            rows.append((f"IV-{number:02d}", str(seg), iv_sites[i], partners[i], dates[i].isoformat(),
                         str(minutes[i]), theme, pool[theme].pop() + SYNTHETIC))
    return OutFile("experteninterviews", ",", False, codebook.required_columns("experteninterviews"), tuple(rows))


def synthesise(config: PhaseConfig, codebook: Codebook, seed: int = SEED) -> list[OutFile]:
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
    if not config.synthetic:
        raise SystemExit(f"{raw / 'phase.yaml'} must say `synthetic: true` before this script writes invented data.")
    for out in synthesise(config, codebook):
        path = args.out / config.instruments[out.instrument].file
        data = render(out)
        write_atomic(path, data)
        print(f"wrote {path} ({len(out.rows)} rows, {len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
