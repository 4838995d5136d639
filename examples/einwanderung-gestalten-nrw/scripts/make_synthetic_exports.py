"""Write the SYNTHETIC exports of the example project "Einwanderung gestalten NRW" (fixed seed, same files every run).

Nobody answered these questionnaires: answers, case numbers and dates are drawn from a random generator so that
the example can be built end to end. The files imitate what the municipalities' offices would deliver:

- fallfragebogen.csv      client questionnaire, UTF-8 with BOM, separator ';' (as German Excel saves CSV)
- partnerbefragung.xlsx   partner survey keyed into a workbook (first sheet, one header row)
- fallstatistik.csv       case statistics per municipality and quarter, UTF-8, separator ','

    python scripts/make_synthetic_exports.py [--out DIR]     (default: data/raw/2016-2017 of this project)
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent.parent
PHASE = "2016-2017"
SEED = 20180331
SITES = [f"K{i:02d}" for i in range(1, 13)]
STEERING = SITES[:10]
# Questionnaires per municipality: large cities, small towns and two with very few returns (below the threshold).
CLIENTS = [46, 38, 41, 22, 18, 15, 12, 9, 7, 30, 4, 3]
PARTNERS = [12, 9, 10, 6, 5, 4, 3, 8, 7, 6]
ANLIEGEN = ["anliegen_wohnen", "anliegen_arbeit", "anliegen_sprache", "anliegen_aufenthalt", "anliegen_gesundheit"]
QUARTERS = [f"{y}-Q{q}" for y in (2016, 2017) for q in (1, 2, 3, 4)]


def _dates(rng, n: int, start: dt.date, end: dt.date) -> list[str]:
    days = (end - start).days
    return [(start + dt.timedelta(days=int(d))).isoformat() for d in np.sort(rng.integers(0, days + 1, n))]


def _ordinal(rng, tendency: float, levels: int, size: int) -> np.ndarray:
    """Codes 1..levels around a site's tendency (1 = best)."""
    return np.clip(np.rint(rng.normal(tendency, 0.9, size)), 1, levels).astype(int)


def _with_missing(rng, codes: np.ndarray, missing: str | None, share: float = 0.05) -> list[str]:
    out = [str(c) for c in codes]
    for i in np.flatnonzero(rng.random(len(out)) < share):
        out[i] = missing if missing is not None and rng.random() < 0.5 else ""
    return out


def clients(rng) -> pd.DataFrame:
    rows = []
    for site, n in zip(SITES, CLIENTS, strict=True):
        tendency = rng.uniform(1.1, 1.7)
        language = _with_missing(rng, np.where(rng.random(n) < 0.88 - 0.1 * (tendency - 1.1), 1, 2), "99")
        visits = rng.integers(1, 25, n)
        mentions = np.zeros((n, len(ANLIEGEN)), dtype=int)
        weights = rng.dirichlet(np.full(len(ANLIEGEN), 2.0))
        for i in range(n):
            picked = rng.choice(len(ANLIEGEN), size=int(rng.integers(1, 4)), replace=False, p=weights)
            mentions[i, picked] = 1
        dates = _dates(rng, n, dt.date(2016, 4, 1), dt.date(2017, 12, 31))
        for i in range(n):
            skipped = rng.random() < 0.04
            rows.append({
                "bogen_nr": "", "standort": site, "datum": dates[i], "sprache": language[i],
                **{col: "" if skipped else str(mentions[i, j]) for j, col in enumerate(ANLIEGEN)},
                "kontakte": "" if rng.random() < 0.03 else str(visits[i]),
            })
    frame = pd.DataFrame(rows)
    frame["bogen_nr"] = [f"FB-{i:04d}" for i in range(1, len(frame) + 1)]
    return frame


def partners(rng) -> pd.DataFrame:
    rows = []
    for site, n in zip(STEERING, PARTNERS, strict=True):
        tendency = rng.uniform(1.4, 2.6)
        answers = {
            "ressourcen": _with_missing(rng, _ordinal(rng, tendency, 4, n), "99"),
            "erkundung": _with_missing(rng, _ordinal(rng, tendency + 0.4, 4, n), "99"),
            "zusammenarbeit_note": _with_missing(rng, _ordinal(rng, tendency + 0.3, 6, n), "99"),
            "leistungen_aus_einer_hand": _with_missing(rng, _ordinal(rng, tendency + 0.2, 4, n), "99"),
        }
        dates = _dates(rng, n, dt.date(2017, 4, 1), dt.date(2017, 9, 30))
        rows += [{"bogen_nr": "", "standort": site, "datum": dates[i], **{k: v[i] for k, v in answers.items()}}
                 for i in range(n)]
    frame = pd.DataFrame(rows)
    frame["bogen_nr"] = [f"PB-{i:03d}" for i in range(1, len(frame) + 1)]
    return frame


def statistics(rng) -> pd.DataFrame:
    rows = []
    for site, size in zip(SITES, CLIENTS, strict=True):
        for q, quarter in enumerate(QUARTERS):
            ramp = min(1.0, 0.35 + 0.15 * q)  # the model project starts slowly in 2016
            profilings = int(rng.poisson(size * 1.6 * ramp))
            rows.append({"standort": site, "quartal": quarter, "profilings": profilings,
                         "fallberatungen": int(rng.poisson(profilings * 3.2 + 2)),
                         "uebergaben": int(rng.binomial(profilings, 0.08))})
    return pd.DataFrame(rows)


def write(out: Path) -> list[Path]:
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "fallfragebogen.csv", out / "partnerbefragung.xlsx", out / "fallstatistik.csv"]
    clients(rng).to_csv(written[0], sep=";", index=False, encoding="utf-8-sig", lineterminator="\n")
    partners(rng).to_excel(written[1], index=False, sheet_name="Partnerbefragung")
    statistics(rng).to_csv(written[2], index=False, encoding="utf-8", lineterminator="\n")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "data" / "raw" / PHASE)
    for path in write(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
