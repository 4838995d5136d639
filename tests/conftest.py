"""Fixtures and helpers shared by several test modules (a test module never imports another one).

A fixture only one module uses lives in that module. Sections: project copies and synthetic data; survey-tool
exports; the build stage (scratch projects, one full build per session); hand-made tidy tables and units.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from thinka import ALL_SITES
from thinka.paths import MARKER, PhasePaths

if TYPE_CHECKING:
    from thinka.build import BuildResult

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

# ----------------------------------------------------------------------------------------------------------------
# Build stage: scratch projects and one full build per session (test_build, test_stitch, test_pdf, test_browser,
# test_cli, test_audit)


def make_project(root: Path) -> PhasePaths:
    """A project folder with a copy of the phase's raw data and no notebooks/ folder: builds run the notebooks
    generated from the codebook (thinka.notebook_gen), as in any project that keeps no copies of its own."""
    return copy_phase_project(root)


_BUILDS: dict[str, tuple[PhasePaths, BuildResult, float]] = {}
_PINNED: dict[str, str] = {}


@contextlib.contextmanager
def pinned_source():
    """Builds in this session see one thinka source hash, taken at the first build.

    Several engineers edit thinka/*.py while tests run; an edit would (correctly) invalidate every cached unit
    and fail the cache tests for a reason that has nothing to do with the build. test_package_source_hash_*
    covers the hash itself.
    """
    from thinka import build

    pinned = _PINNED.setdefault("hash", build.package_source_hash())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "package_source_hash", lambda *a, **k: pinned)
        yield


def run_build(paths: PhasePaths, **kwargs) -> BuildResult:
    from thinka import build

    with pinned_source():
        return build.build_phase(paths, progress=False, **kwargs)


def _session_build(tmp_path_factory, name: str) -> tuple[PhasePaths, BuildResult, float]:
    """One full build per session and name (memoized here, so every test module shares it)."""
    if name not in _BUILDS:
        paths = make_project(tmp_path_factory.mktemp(f"build-{name}"))
        started = time.perf_counter()
        result = run_build(paths)
        _BUILDS[name] = (paths, result, time.perf_counter() - started)
    return _BUILDS[name]


@pytest.fixture(scope="session")
def full_build(tmp_path_factory) -> tuple[PhasePaths, BuildResult, float]:
    """(paths, result, seconds) of a full build of the shipped phase in a scratch project, once per session."""
    return _session_build(tmp_path_factory, "full")


@pytest.fixture(scope="session")
def second_full_build(tmp_path_factory) -> tuple[PhasePaths, BuildResult, float]:
    """A second, independent full build (another scratch project), e.g. to compare bytes with `full_build`."""
    return _session_build(tmp_path_factory, "second")


def copy_project(paths: PhasePaths, dst: Path) -> PhasePaths:
    shutil.copytree(paths.root, dst, symlinks=True)
    return PhasePaths(dst, paths.phase)


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def tree_digest():
    """`tree_digest(folder)`: relative path -> sha256 of every file below `folder` (to prove files unchanged)."""
    return _tree_digest


# ----------------------------------------------------------------------------------------------------------------
# Hand-made tidy tables in the schemas of docs/architecture.md, for the shipped configuration (test_api, test_plots)

SUPPRESSED_SITE = "S03"  # in the tables every per-site value of S03 rests on 3 answers
THRESHOLD = 5


def _sites_of(config, instrument: str) -> list[str]:
    return list(config.allowed_sites(instrument))


def _counts(rng: np.random.Generator, n_levels: int, site: str) -> np.ndarray:
    total = 3 if site == SUPPRESSED_SITE else int(rng.integers(5, 9))
    return rng.multinomial(total, np.linspace(1.0, 0.3, n_levels) / np.linspace(1.0, 0.3, n_levels).sum())


def _suppress(df: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    hit = (df["site"] != ALL_SITES) & (df["valid_n"] < THRESHOLD)
    df = df.copy()
    df["suppressed"] = hit
    df["suppression"] = pd.Series(np.where(hit, "primary", None), index=df.index, dtype="object")
    for col in values:
        df[col] = df[col].astype("float64").mask(hit)
    return df


def make_tables(config, codebook, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Small but complete tidy tables: per-site rows from random counts, `all` rows as their sums."""
    rng = np.random.default_rng(seed)
    dist, summ, ment = [], [], []
    for item in codebook.items.values():
        scale = codebook.scale_of(item.id)
        sites = _sites_of(config, item.instrument)
        if item.is_multiple_response:
            per_site = {s: rng.integers(0, 6, len(item.options)) for s in sites}
            for site, counts in [*per_site.items(), (ALL_SITES, sum(per_site.values()))]:
                total = int(counts.sum())
                for order, (opt, c) in enumerate(zip(item.options, counts), start=1):
                    ment.append({"item": item.id, "site": site, "option": opt.column, "label": opt.label,
                                 "order": order, "count": int(c), "mentions": total, "respondents": total // 2 + 1,
                                 "pct_mentions": 100 * c / total if total else np.nan,
                                 "pct_respondents": 100 * c / (total // 2 + 1)})
            continue
        if scale.kind == "count":
            continue
        per_site = {s: _counts(rng, len(scale.levels), s) for s in sites}
        for site, counts in [*per_site.items(), (ALL_SITES, sum(per_site.values()))]:
            n = int(counts.sum())
            for order, (lv, c) in enumerate(zip(scale.levels, counts), start=1):
                dist.append({"item": item.id, "instrument": item.instrument, "site": site, "code": str(lv.code),
                             "label": lv.label, "order": order, "count": int(c), "valid_n": n, "pct": 100 * c / n})
            codes = np.array([float(c) if isinstance(c, int) else np.nan for c in scale.codes])
            top = sum(c for lv, c in zip(scale.levels, counts) if lv.code in scale.top)
            bottom = sum(c for lv, c in zip(scale.levels, counts) if lv.code in scale.bottom)
            summ.append({"item": item.id, "instrument": item.instrument, "site": site, "n_rows": n + 1,
                         "valid_n": n, "missing_n": 1, "top2": 100 * top / n, "bottom2": 100 * bottom / n,
                         "mean": float((codes * counts).sum() / n) if scale.kind == "grade" else np.nan})
    tables = {
        "distributions": _suppress(pd.DataFrame(dist), ["count", "pct"]),
        "summaries": _suppress(pd.DataFrame(summ), ["top2", "bottom2", "mean"]),
        "mentions": _suppress(pd.DataFrame(ment).assign(valid_n=lambda d: d["mentions"]),
                              ["count", "pct_mentions", "pct_respondents"]).drop(columns="valid_n"),
    }
    tables.update(_running_statistics(config, rng))
    tables.update(_interviews(config, codebook))
    tables["responses"] = pd.DataFrame(
        [{"instrument": i, "site": s, "n": 6} for i in config.instruments for s in _sites_of(config, i)]
        + [{"instrument": i, "site": ALL_SITES, "n": 6 * len(_sites_of(config, i))} for i in config.instruments]
    )
    return tables


def _running_statistics(config, rng) -> dict[str, pd.DataFrame]:
    rows = []
    for site in config.site_codes:
        for q in config.quarters:
            for m in ("personen", "beratungen", "netzwerkkontakte"):
                rows.append({"site": site, "quarter": q, "measure": m, "value": int(rng.integers(5, 400))})
    df = pd.DataFrame(rows)
    by_site = df.groupby(["site", "measure"], as_index=False)["value"].sum().assign(quarter="total")
    by_q = df.groupby(["quarter", "measure"], as_index=False)["value"].sum().assign(site=ALL_SITES)
    overall = df.groupby("measure", as_index=False)["value"].sum().assign(site=ALL_SITES, quarter="total")
    out = pd.concat([df, by_site, by_q, overall], ignore_index=True)
    return {"running_statistics": out[["site", "quarter", "measure", "value"]]}


def _interviews(config, codebook) -> dict[str, pd.DataFrame]:
    partner = codebook.role_scale("experteninterviews", "partner")
    thema = codebook.role_scale("experteninterviews", "theme")
    interviews, segments = [], []
    for i, site in enumerate(config.site_codes[:4]):
        lv = partner.levels[i % len(partner.levels)]
        iid = f"I{i + 1:02d}"
        interviews.append({"interview": iid, "site": site, "partner": lv.code, "partner_label": lv.label,
                           "date": pd.Timestamp("2014-03-01"), "duration_min": 60, "segments": 2})
        for seg in (1, 2):
            th = thema.levels[(i + seg) % len(thema.levels)]
            segments.append({"interview": iid, "segment": seg, "site": site, "partner": lv.code,
                             "theme": th.code, "theme_label": th.label,
                             "statement": f"Aussage {iid}/{seg} <zitiert> [rekonstruiert]"})
    seg = pd.DataFrame(segments)
    order = {c: i for i, c in enumerate(thema.codes, start=1)}
    themes = []
    for site, part in [*seg.groupby("site"), (ALL_SITES, seg)]:
        for code, p in part.groupby("theme"):
            themes.append({"site": site, "theme": code, "theme_label": thema.label(code), "order": order[code],
                           "segments": len(p), "interviews": p["interview"].nunique()})
    iv = pd.DataFrame(interviews)
    partners = []
    for site, part in [*iv.groupby("site"), (ALL_SITES, iv)]:
        for order, lv in enumerate(partner.levels, start=1):
            partners.append({"site": site, "partner": lv.code, "label": lv.label, "order": order,
                             "interviews": int((part["partner"] == lv.code).sum())})
    return {"interviews": iv, "interview_segments": seg, "interview_themes": pd.DataFrame(themes),
            "interview_partners": pd.DataFrame(partners)}


@pytest.fixture(scope="module")
def cfg(repo_root: Path):
    """(PhaseConfig, Codebook) of the shipped phase."""
    from thinka.codebook import load_codebook, load_phase

    raw = repo_root / "data" / "raw" / PHASE
    return load_phase(raw / "phase.yaml"), load_codebook(raw / "codebook.yaml")


@pytest.fixture(scope="module")
def tables(cfg):
    """`make_tables` for the shipped configuration (one dict per test module: a module may change it)."""
    return make_tables(*cfg)


@pytest.fixture
def unit(cfg, tables, tmp_path):
    """`unit(dimension, site)`: an api.Unit built from `tables`, exactly as load_unit restricts them."""
    from thinka import api

    def make(dimension: str, site: str):
        config, codebook = cfg
        restricted = api.restrict_tables(tables, config, codebook, dimension, site)
        name = api.ALL_SITES_LABEL if site == ALL_SITES else config.site(site).name
        return api.Unit(PHASE, dimension, site, name, PhasePaths(tmp_path, PHASE), config, codebook, restricted)

    return make
