"""Shared, generic fixtures. Keep this file small: stage-specific fixtures live in the stage's test file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from thinka.paths import MARKER, PhasePaths

PHASE = "2013-2014"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout under test, itself the ThINKA project (read-only: never write below it in a test)."""
    return REPO


def copy_phase_project(root: Path, phase: str = PHASE, files: tuple[str, ...] | None = None) -> PhasePaths:
    """A project folder at `root`: the checkout's thinka.yaml plus a copy of data/raw/<phase> (all of it, or only
    `files`). Every tmp project needs the marker: thinka reads programme-wide settings from it."""
    src, dst = REPO / "data" / "raw" / phase, Path(root) / "data" / "raw" / phase
    if files is None:
        shutil.copytree(src, dst)
    else:
        dst.mkdir(parents=True)
        for name in files:
            shutil.copy2(src / name, dst / name)
    shutil.copy2(REPO / MARKER, Path(root) / MARKER)
    return PhasePaths(Path(root), phase)


@pytest.fixture
def phase_copy(repo_root: Path, tmp_path: Path) -> PhasePaths:
    """A private copy of data/raw/2013-2014 under tmp_path, as PhasePaths(tmp_path, "2013-2014").

    Tests may modify or break the copy freely; the shipped raw data stay untouched.
    """
    return copy_phase_project(tmp_path)


def write_synthetic_instruments(paths: PhasePaths, rows: int = 60, seed: int = 0) -> None:
    """Write a valid, seeded CSV for every instrument of `paths`, generated from its phase.yaml and codebook.yaml.

    Generic over the codebook: sites cycle through the allowed sites, dates through the field period, codes through
    their scale (with some blanks and missing codes), `constant_within` groups have three rows each and `complete`
    instruments get one row per site × quarter. Overwrites the instrument files named in phase.yaml.
    """
    import datetime as dt
    import itertools

    import numpy as np
    import pandas as pd

    from thinka.codebook import load_codebook, load_phase

    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    rng = np.random.default_rng(seed)
    for iid, inst in config.instruments.items():
        spec = codebook.instruments[iid]
        sites = config.allowed_sites(iid)
        groups = set(spec.constant_within)
        n = len(sites) * len(config.quarters) if spec.complete else rows
        combos = list(itertools.product(sites, config.quarters))
        days = (inst.field_end - inst.field_start).days + 1
        data: dict[str, list] = {}
        for col in spec.columns:
            g = [i // 3 if groups else i for i in range(n)]  # rows of one constant_within group share g
            if col.type == "id":
                data[col.name] = [f"{iid[:2].upper()}{(g[i] if col.name in groups else i):04d}" for i in range(n)]
            elif col.type == "site":
                data[col.name] = [combos[i][0] if spec.complete else sites[g[i] % len(sites)] for i in range(n)]
            elif col.type == "quarter":
                data[col.name] = [combos[i][1] if spec.complete else config.quarters[i % len(config.quarters)] for i in range(n)]
            elif col.type == "date":
                data[col.name] = [(inst.field_start + dt.timedelta(days=(g[i] * 7) % days)).isoformat() for i in range(n)]
            elif col.type == "integer":
                lo = col.min if col.min is not None else 0
                span = (col.max if col.max is not None else lo + 100) - lo + 1
                in_key = col.name in spec.key and groups
                data[col.name] = [str(lo + (i % 3 if in_key else (g[i] * 7) % span)) for i in range(n)]
            elif col.type == "code":
                codes = codebook.scales[col.scale].codes
                data[col.name] = [str(codes[(g[i] if col.name in sum(spec.constant_within.values(), ()) else i) % len(codes)]) for i in range(n)]
            else:
                data[col.name] = [f"Aussage {i}" for i in range(n)]
        for item in codebook.items_of(iid):
            scale = codebook.scales[item.scale]
            for colname in item.columns:
                if scale.kind == "count":
                    values = [str(v) for v in rng.integers(scale.min, min(scale.max, scale.min + 20) + 1, n)]
                elif scale.kind == "mention":
                    values = [str(v) for v in rng.integers(0, 2, n)]
                else:
                    values = [str(scale.codes[v]) for v in rng.integers(0, len(scale.codes), n)]
                if n > 4:
                    values[1] = ""  # a blank and a missing code: both must become NA
                    if scale.missing:
                        values[2] = str(scale.missing_codes[0])
                data[colname] = values
        pd.DataFrame(data).to_csv(paths.raw / inst.file, index=False, encoding="utf-8")


@pytest.fixture
def synthetic_phase(phase_copy: PhasePaths) -> PhasePaths:
    """`phase_copy` with every instrument file replaced by valid seeded synthetic data (60 rows each)."""
    write_synthetic_instruments(phase_copy)
    return phase_copy


EXPORTS = Path(__file__).resolve().parent / "fixtures" / "exports"


def use_export(paths: PhasePaths, export: str, mapping: str, instrument: str = "einzelfallfragebogen",
               source: Path = EXPORTS) -> PhasePaths:
    """Point `instrument` of a phase copy at a survey-tool export and its mapping (copied into the phase folder).

    The export goes to data/raw/<phase>/<export>, the mapping to data/raw/<phase>/mappings/<mapping>; phase.yaml is
    rewritten with `file:` and `mapping:` for the instrument (and the canonical file removed, so nothing reads it).
    """
    import yaml

    shutil.copyfile(source / export, paths.raw / export)
    (paths.raw / "mappings").mkdir(exist_ok=True)
    shutil.copyfile(source / mapping, paths.raw / "mappings" / mapping)
    config = yaml.safe_load(paths.config.read_text(encoding="utf-8"))
    old = config["instruments"][instrument]["file"]
    config["instruments"][instrument].update(file=export, mapping=f"mappings/{mapping}")
    paths.config.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if old != export:
        (paths.raw / old).unlink()
    return paths


@pytest.fixture(scope="session")
def exports_dir() -> Path:
    """tests/fixtures/exports: synthetic survey-tool exports of the shipped client questionnaire, with mappings."""
    return EXPORTS


SECOND_PHASE = "2015-2016"


def _shift_years(text: str) -> str:
    return text.replace("2014-", "2016-").replace("2013-", "2015-")


def _edit_csv(path: Path, edit) -> None:
    """Rewrite an instrument file through `edit(frame) -> frame`, keeping its separator and BOM."""
    import pandas as pd

    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    sep = ";" if b";" in raw.splitlines()[0] else ","
    frame = edit(pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
    text = frame.to_csv(sep=sep, index=False, lineterminator="\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def make_two_phase_project(root: Path) -> tuple[PhasePaths, PhasePaths]:
    """A project with the shipped 2013-2014 phase and a second phase 2015-2016 derived from it by known edits.

    The second phase: site S07 left (its client questionnaires and statistics now come from the new site S12, its
    steering-group questionnaires from S10, which gained a steering group); every date two years later;
    `bekanntheit` revised in wording and every answer 3–5 moved to 1 (a clear rise); `intensivierung` every 1 moved
    to 4 (a fall); new item `erreichbarkeit`; `steuerungsgruppe_stadtentwicklung` dropped; all other answers as
    in 2013-2014 (no change)."""
    import yaml

    first = copy_phase_project(root)
    second = PhasePaths(Path(root), SECOND_PHASE)
    shutil.copytree(first.raw, second.raw, ignore=shutil.ignore_patterns("published_figures.yaml"))
    config = yaml.safe_load(second.config.read_text(encoding="utf-8"))
    config.update(phase=SECOND_PHASE, previous_phase=PHASE,
                  period={"start": "2015-01-01", "end": "2016-12-31"})
    config["report"].update(date="2017-03-31", phase_line="2. Förderphase 01/2015 bis 12/2016")
    config["sites"] = [s for s in config["sites"] if s["code"] != "S07"]
    config["sites"].append({"code": "S12", "name": "Standort 12 (Platzhalter)", "steering_group": False})
    for site in config["sites"]:
        if site["code"] == "S10":
            site["steering_group"] = True
    for spec in config["instruments"].values():
        spec["field_period"] = {k: _shift_years(str(v)) for k, v in spec["field_period"].items()}
    second.config.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")

    book = yaml.safe_load(second.codebook.read_text(encoding="utf-8"))
    dropped = "steuerungsgruppe_stadtentwicklung"
    book["items"] = [i for i in book["items"] if i["id"] != dropped]
    for item in book["items"]:
        if item["id"] == "bekanntheit":
            item["earlier_wording"] = item["wording"]
            item["wording"] = "Das ThINKA-Vorhaben ist im Sozialraum gut bekannt."
    book["items"].append({"id": "erreichbarkeit", "instrument": "einzelfallfragebogen", "dimension": "individual",
                          "scale": "likert5", "wording": "Die Kontaktstelle ist gut erreichbar."})
    for table in book["item_tables"]:
        table["items"] = [i for i in table["items"] if i != dropped]
    # the section text binds the dropped item's numbers: this phase's office would rewrite it
    (second.texts / "abschnitt_steuerungsgruppe.md").unlink()
    second.codebook.write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def dates(frame):
        for column in ("erhebungsdatum", "datum", "quartal"):
            if column in frame.columns:
                frame[column] = frame[column].map(_shift_years)
        return frame

    def moved(frame, to: str):
        frame["standort"] = frame["standort"].replace("S07", to)
        return dates(frame)

    def experts(frame):
        frame = moved(frame, "S10").drop(columns=[dropped])
        frame["bekanntheit"] = frame["bekanntheit"].replace({"3": "1", "4": "1", "5": "1"})
        frame["intensivierung"] = frame["intensivierung"].replace({"1": "4"})
        return frame

    def clients(frame):
        frame = moved(frame, "S12")
        frame["erreichbarkeit"] = [str(1 + i % 3) for i in range(len(frame))]
        return frame

    _edit_csv(second.raw / "expertenfragebogen.csv", experts)
    _edit_csv(second.raw / "einzelfallfragebogen.csv", clients)
    _edit_csv(second.raw / "projektstatistik.csv", lambda f: moved(f, "S12"))
    _edit_csv(second.raw / "experteninterviews.csv", lambda f: moved(f, "S12"))
    return first, second


@pytest.fixture
def two_phases(tmp_path: Path) -> tuple[PhasePaths, PhasePaths]:
    """(2013-2014, 2015-2016) in a tmp project, the second derived from the first by `make_two_phase_project`."""
    return make_two_phase_project(tmp_path)
