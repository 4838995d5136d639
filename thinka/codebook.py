"""Phase configuration and codebook: load the two YAML files of a phase into typed, checked objects.

Nothing here knows any programme: labels, scales, items, sites and Schaubilder all come from the YAML files, so a second
programme adopts thinka by writing its own `phase.yaml` and `codebook.yaml`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from thinka import ALL_SITES, COMPARISON
from thinka.errors import ConfigError
from thinka.paths import SAFE_NAME_RULE, is_safe_name

SCALE_KINDS = ("ordinal", "grade", "nominal", "mention", "count")
COLUMN_TYPES = ("id", "site", "date", "quarter", "integer", "text", "code")
CHART_KINDS = ("stacked", "mentions")
INSTRUMENT_KINDS = ("questionnaire", "interviews", "running_statistics")
SECTION_CONTENTS = ("interviews", "running_statistics")
DISCLOSURE_KEYS = ("threshold", "protect_zeros", "exact_n")
COMPARISON_KEYS = ("level",)
# What the columns of an interview instrument mean (codebook `columns[].role`), with the column type each role needs.
# Every interview instrument has exactly one column per role; the column names are the programme's own. (The site
# column is found by its type, like in every instrument.)
INTERVIEW_ROLES: dict[str, str] = {
    "interview": "id",  # identifies the interview; its segments share it
    "segment": "integer",  # number of the coded segment within the interview
    "partner": "code",  # the interviewee's partner type (a scale)
    "date": "date",  # day of the interview
    "duration": "integer",  # length of the interview in minutes
    "theme": "code",  # theme the segment is coded with (a scale)
    "statement": "text",  # the coded statement, quoted in the report
}
COLUMN_ROLES = tuple(INTERVIEW_ROLES)


# ----------------------------------------------------------------------------------------------------------------
# Phase configuration


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    steering_group: bool


@dataclass(frozen=True)
class Instrument:
    id: str
    file: str
    dimension: str
    method: str
    field_start: dt.date
    field_end: dt.date
    sites: str  # "all" or "steering_group": which sites may return this instrument
    table1: dict[str, str]
    mapping: str | None = None  # export mapping, relative to the phase folder (thinka.mapping)


@dataclass(frozen=True)
class DisclosureRules:
    """A programme's rules for what a site value may reveal (phase.yaml `disclosure:`).

    threshold: a site value resting on fewer valid answers is hidden (primary suppression).
    protect_zeros: a hidden site's zero cell ("nobody at the site answered c") must not be derivable either.
    exact_n: the exact number of answers behind a hidden value may be shown (otherwise only "<threshold").
    """

    threshold: int = 5
    protect_zeros: bool = True
    exact_n: bool = False


@dataclass(frozen=True)
class PhaseConfig:
    phase: str
    period_start: dt.date
    period_end: dt.date
    programme: dict[str, str]
    report: dict[str, Any]
    reconstruction: bool
    disclosure: DisclosureRules
    sites: tuple[Site, ...]
    instruments: dict[str, Instrument]
    supplementary_activities: tuple[str, ...] = ()
    source: Path | None = None
    # The Förderphase this one is compared with (its folder name under data/raw/), or None.
    previous_phase: str | None = None
    # Confidence level of the change rule (thinka.change): a change is called one when its interval excludes zero.
    comparison_level: float = 0.95
    # True: the phase's files are invented (e.g. a demonstration phase), neither survey data nor a reconstruction.
    # The report then says so on its title page, on every site page and in the methods note.
    synthetic: bool = False

    @property
    def disclosure_threshold(self) -> int:
        return self.disclosure.threshold

    @cached_property
    def site_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.sites)

    def site(self, code: str) -> Site:
        for s in self.sites:
            if s.code == code:
                return s
        raise ConfigError(f"Unknown site {code!r}; known sites: {', '.join(self.site_codes)}.")

    def allowed_sites(self, instrument: str) -> tuple[str, ...]:
        """Site codes that may appear in `instrument`'s file."""
        if self.instruments[instrument].sites == "steering_group":
            return tuple(s.code for s in self.sites if s.steering_group)
        return self.site_codes

    @cached_property
    def quarters(self) -> tuple[str, ...]:
        """Quarters of the phase period as 'YYYY-Qn', in order."""
        out = []
        year, q = self.period_start.year, (self.period_start.month - 1) // 3 + 1
        end = (self.period_end.year, (self.period_end.month - 1) // 3 + 1)
        while (year, q) <= end:
            out.append(f"{year}-Q{q}")
            year, q = (year + 1, 1) if q == 4 else (year, q + 1)
        return tuple(out)


# ----------------------------------------------------------------------------------------------------------------
# Codebook


@dataclass(frozen=True)
class Level:
    code: int | str
    label: str


@dataclass(frozen=True)
class Scale:
    id: str
    kind: str
    levels: tuple[Level, ...] = ()
    missing: tuple[Level, ...] = ()
    top: tuple[int | str, ...] = ()
    bottom: tuple[int | str, ...] = ()
    min: int | None = None
    max: int | None = None

    @property
    def codes(self) -> tuple[int | str, ...]:
        return tuple(lv.code for lv in self.levels)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(lv.label for lv in self.levels)

    @property
    def missing_codes(self) -> tuple[int | str, ...]:
        return tuple(lv.code for lv in self.missing)

    def label(self, code: int | str) -> str:
        for lv in (*self.levels, *self.missing):
            if lv.code == code:
                return lv.label
        raise KeyError(code)

    def describe_allowed(self) -> str:
        """The allowed values in words, for error messages."""
        if self.kind == "count":
            text = f"whole numbers {self.min}–{self.max}"
        else:
            text = ", ".join(f"{lv.code} ({lv.label})" for lv in self.levels)
        if self.missing:
            text += "; missing: " + ", ".join(f"{lv.code} ({lv.label})" for lv in self.missing)
        return text + "; or blank"


@dataclass(frozen=True)
class Option:
    column: str
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    instrument: str
    dimension: str
    scale: str
    wording: str
    options: tuple[Option, ...] = ()
    short: str | None = None
    series_label: str | None = None
    # The wording the previous Förderphase asked the same item with, when it was revised (footnoted in comparisons).
    earlier_wording: str | None = None

    @property
    def is_multiple_response(self) -> bool:
        return bool(self.options)

    @property
    def columns(self) -> tuple[str, ...]:
        """The raw-file columns this item occupies."""
        return tuple(o.column for o in self.options) if self.options else (self.id,)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    scale: str | None = None
    min: int | None = None
    max: int | None = None
    label: str | None = None
    role: str | None = None  # interview instruments: what the column means (INTERVIEW_ROLES)


@dataclass(frozen=True)
class InstrumentSpec:
    id: str
    label: str
    unit: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    constant_within: dict[str, tuple[str, ...]] = field(default_factory=dict)
    complete: tuple[str, ...] = ()
    kind: str = "questionnaire"
    # Running statistics: derived measures, id -> (numerator column, denominator column), e.g. consultations per person.
    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def measures(self) -> tuple[str, ...]:
        """The counted measures of a running-statistics instrument: its whole-number columns."""
        return tuple(c.name for c in self.columns if c.type == "integer")

    @property
    def roles(self) -> dict[str, str]:
        """role -> column name, for the columns that declare a role (interview instruments: every role)."""
        return {c.role: c.name for c in self.columns if c.role is not None}

    def column_of_role(self, role: str) -> Column:
        """The column that plays `role` (INTERVIEW_ROLES); a KeyError names the instrument if there is none."""
        for c in self.columns:
            if c.role == role:
                return c
        raise KeyError(f"instrument {self.id!r} has no column with role {role!r}")

    def columns_of_type(self, kind: str) -> tuple[str, ...]:
        """Names of the columns of type `kind` (COLUMN_TYPES), in codebook order."""
        return tuple(c.name for c in self.columns if c.type == kind)


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    heading: str
    notebook: str


@dataclass(frozen=True)
class Section:
    id: str
    dimension: str
    title: str
    # What the section shows beside its Schaubilder and item tables: the tables of the interview or the
    # running-statistics instrument (None: nothing else).
    content: str | None = None


@dataclass(frozen=True)
class Schaubild:
    number: int
    section: str
    items: tuple[str, ...]
    chart: str
    title: str
    caption: str
    quoted: bool = True
    scale_note: bool = False

    @property
    def label(self) -> str:
        """'Schaubild 4 – <title>' (the list of Schaubilder)."""
        return f"Schaubild {self.number} – {self.title}"

    @property
    def heading(self) -> str:
        """'Schaubild 4: „Ich bin froh, …“' (the caption above the chart)."""
        caption = f"„{self.caption}“" if self.quoted else self.caption
        return f"Schaubild {self.number}: {caption}"


@dataclass(frozen=True)
class ItemTable:
    section: str
    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Codebook:
    scales: dict[str, Scale]
    instruments: dict[str, InstrumentSpec]
    items: dict[str, Item]
    dimensions: tuple[Dimension, ...]
    sections: tuple[Section, ...]
    schaubilder: tuple[Schaubild, ...]
    item_tables: tuple[ItemTable, ...] = ()
    source: Path | None = None

    def scale_of(self, item: str) -> Scale:
        return self.scales[self.items[item].scale]

    def items_of(self, instrument: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items.values() if i.instrument == instrument)

    def required_columns(self, instrument: str) -> tuple[str, ...]:
        spec = self.instruments[instrument]
        cols = [c.name for c in spec.columns]
        for item in self.items_of(instrument):
            cols.extend(item.columns)
        return tuple(cols)

    def dimension(self, dim_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dim_id:
                return d
        raise ConfigError(
            f"Unknown dimension {dim_id!r}; known: {', '.join(d.id for d in self.dimensions)}."
        )

    def sections_of(self, dimension: str) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.dimension == dimension)

    def schaubilder_of(self, section: str) -> tuple[Schaubild, ...]:
        return tuple(s for s in self.schaubilder if s.section == section)

    def schaubild(self, number: int) -> Schaubild:
        for s in self.schaubilder:
            if s.number == number:
                return s
        raise ConfigError(f"No Schaubild {number} in the codebook.")

    def item_tables_of(self, section: str) -> tuple[ItemTable, ...]:
        return tuple(t for t in self.item_tables if t.section == section)

    def items_of_dimension(self, dimension: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items.values() if i.dimension == dimension)

    def instrument_of_kind(self, kind: str) -> str | None:
        """The id of the (first) instrument of `kind`, e.g. the running statistics; None if there is none."""
        return next((i for i, spec in self.instruments.items() if spec.kind == kind), None)

    def role_scale(self, instrument: str, role: str) -> Scale:
        """The scale of the code column that plays `role` in `instrument` (e.g. the interviews' partner types)."""
        return self.scales[self.instruments[instrument].column_of_role(role).scale]


# ----------------------------------------------------------------------------------------------------------------
# Loading


class _Reader:
    """Reads one YAML mapping and reports a missing or malformed key with file and key path."""

    def __init__(self, path: Path):
        self.path = path
        try:
            with open(path, encoding="utf-8") as fh:
                self.data = yaml.safe_load(fh)
        except FileNotFoundError:
            raise ConfigError(f"{path}: file not found.") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc}).") from None
        if not isinstance(self.data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level.")

    def fail(self, where: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.path}: {where}: {problem}", hint=hint)

    def safe_name(self, value: str, where: str, what: str) -> str:
        """`value` if it can serve as a file or folder name (it becomes one in data/processed, build, report)."""
        if not is_safe_name(value):
            raise self.fail(where, f"{what} {value!r} is not allowed as a name; rule: safe name; allowed: "
                            f"{SAFE_NAME_RULE}",
                            hint=f"The {what} becomes part of file and folder names; rename it, e.g. 'S01'.")
        return value

    def relative_file(self, value: str, where: str) -> str:
        """`value` if it names a file inside the phase folder (a relative path without '..')."""
        parts = value.replace("\\", "/").split("/")
        if not value or value.startswith(("/", "\\")) or ":" in value or any(p in ("", ".", "..") for p in parts):
            raise self.fail(where, f"file {value!r} is not allowed; rule: the file must lie inside the phase folder "
                            f"{self.path.parent}; allowed: a file name or a relative path without '..', e.g. "
                            "'survey.csv'",
                            hint="Copy the file into the phase folder and give its name here.")
        return value

    def get(self, mapping: dict, key: str, where: str, kind: type | tuple = object, default: Any = ...):
        if not isinstance(mapping, dict):
            raise self.fail(where, "expected a mapping")
        if key not in mapping:
            if default is not ...:
                return default
            raise self.fail(where, f"missing key {key!r}")
        value = mapping[key]
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"{where}.{key}", f"expected {names}, got {value!r}")
        return value

    def date(self, mapping: dict, key: str, where: str) -> dt.date:
        value = self.get(mapping, key, where)
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(f"{where}.{key}", f"expected a date YYYY-MM-DD, got {value!r}") from None

    def period(self, mapping: dict, key: str, where: str) -> tuple[dt.date, dt.date]:
        p = self.get(mapping, key, where, dict)
        start, end = self.date(p, "start", f"{where}.{key}"), self.date(p, "end", f"{where}.{key}")
        if end < start:
            raise self.fail(f"{where}.{key}", f"end {end} is before start {start}")
        return start, end


PROJECT_KEYS = ("thinka", "programme", "report", "disclosure", "comparison")
"""Top-level keys of a project's thinka.yaml; `programme`, `report`, `disclosure` and `comparison` are defaults for
every phase."""
PROJECT_FORMAT = 1


def load_project_settings(root: Path) -> dict[str, Any]:
    """The programme-wide settings of the project at `root` (its thinka.yaml), checked; {} if it has none."""
    path = Path(root) / "thinka.yaml"
    if not path.is_file():
        return {}
    r = _Reader(path)
    for key in r.data:
        if key not in PROJECT_KEYS:
            raise r.fail(str(key), f"unknown key; allowed: {', '.join(PROJECT_KEYS)}")
    version = r.get(r.data, "thinka", "thinka.yaml", int, default=PROJECT_FORMAT)
    if version != PROJECT_FORMAT:
        raise r.fail("thinka", f"format version {version} is not supported; this thinka reads version {PROJECT_FORMAT}")
    for key in PROJECT_KEYS[1:]:
        r.get(r.data, key, "thinka.yaml", dict, default={})
    return {k: v for k, v in r.data.items() if k != "thinka"}


def _with_project_defaults(path: Path, data: dict) -> dict:
    """phase.yaml over the project's thinka.yaml: a phase may override any programme-wide setting, key by key."""
    # data/raw/<phase>/phase.yaml: the project folder is three levels above the phase folder.
    defaults = load_project_settings(path.resolve().parents[3]) if len(path.resolve().parents) > 3 else {}
    merged = dict(data)
    for key, value in defaults.items():
        own = data.get(key)
        merged[key] = {**value, **own} if isinstance(own, dict) else (value if own is None else own)
    return merged


def load_phase(path: Path) -> PhaseConfig:
    """Read and check a phase.yaml (over the defaults of the project's thinka.yaml)."""
    r = _Reader(Path(path))
    d = r.data = _with_project_defaults(Path(path), r.data)
    phase = r.safe_name(str(r.get(d, "phase", "phase.yaml", (str, int))), "phase", "phase")
    start, end = r.period(d, "period", "phase.yaml")
    sites = []
    for i, s in enumerate(r.get(d, "sites", "phase.yaml", list)):
        where = f"sites[{i}]"
        code = r.safe_name(str(r.get(s, "code", where, (str, int))), f"{where}.code", "site code")
        if code == ALL_SITES:
            raise r.fail(where, f"site code {ALL_SITES!r} is reserved for the total over all sites")
        sites.append(Site(code, str(r.get(s, "name", where, str)), bool(r.get(s, "steering_group", where, bool))))
    codes = [s.code for s in sites]
    if dupes := sorted({c for c in codes if codes.count(c) > 1}):
        raise r.fail("sites", f"duplicate site codes {dupes}")
    if not sites:
        raise r.fail("sites", "at least one site is needed")
    instruments = {}
    for iid, spec in r.get(d, "instruments", "phase.yaml", dict).items():
        where = f"instruments.{iid}"
        r.safe_name(str(iid), where, "instrument id")
        fstart, fend = r.period(spec, "field_period", where)
        which = r.get(spec, "sites", where, str, default="all")
        if which not in ("all", "steering_group"):
            raise r.fail(f"{where}.sites", f"expected 'all' or 'steering_group', got {which!r}")
        instruments[iid] = Instrument(
            id=iid,
            file=r.relative_file(str(r.get(spec, "file", where, str)), f"{where}.file"),
            dimension=str(r.get(spec, "dimension", where, str)),
            method=str(r.get(spec, "method", where, str)),
            field_start=fstart,
            field_end=fend,
            sites=which,
            table1={k: str(v) for k, v in (r.get(spec, "table1", where, dict, default={}) or {}).items()},
            mapping=r.get(spec, "mapping", where, str, default=None),
        )
    disclosure = r.get(d, "disclosure", "phase.yaml", dict, default={}) or {}
    threshold = r.get(disclosure, "threshold", "disclosure", int, default=5)
    if threshold < 1:
        raise r.fail("disclosure.threshold", f"must be at least 1, got {threshold}")
    for key in disclosure:
        if key not in DISCLOSURE_KEYS:
            raise r.fail(f"disclosure.{key}", f"unknown key; allowed: {', '.join(DISCLOSURE_KEYS)}")
    rules = DisclosureRules(
        threshold=threshold,
        protect_zeros=r.get(disclosure, "protect_zeros", "disclosure", bool, default=True),
        exact_n=r.get(disclosure, "exact_n", "disclosure", bool, default=False),
    )
    previous = r.get(d, "previous_phase", "phase.yaml", (str, type(None)), default=None)
    if previous is not None:
        previous = r.safe_name(previous, "previous_phase", "previous phase")
        if previous == phase:
            raise r.fail("previous_phase", f"a phase cannot be compared with itself ({phase!r})",
                         hint="Name the folder of the earlier Förderphase under data/raw/, e.g. '2013-2014'.")
    comparison = r.get(d, "comparison", "phase.yaml", dict, default={}) or {}
    for key in comparison:
        if key not in COMPARISON_KEYS:
            raise r.fail(f"comparison.{key}", f"unknown key; allowed: {', '.join(COMPARISON_KEYS)}")
    level = r.get(comparison, "level", "comparison", float, default=0.95)
    if not 0.5 <= level < 1:
        raise r.fail("comparison.level", f"{level!r} is not allowed; allowed: a number from 0.5 up to (not "
                     "including) 1", hint="0.95 is the usual choice: a change is called one at 95 % confidence.")
    report = r.get(d, "report", "phase.yaml", dict)
    for key in ("title", "date"):
        r.get(report, key, "report")
    return PhaseConfig(
        phase=phase,
        period_start=start,
        period_end=end,
        programme={k: str(v) for k, v in r.get(d, "programme", "phase.yaml", dict).items()},
        report=report,
        reconstruction=bool(r.get(d, "reconstruction", "phase.yaml", bool, default=False)),
        disclosure=rules,
        sites=tuple(sites),
        instruments=instruments,
        supplementary_activities=tuple(r.get(d, "supplementary_activities", "phase.yaml", list, default=[])),
        source=Path(path),
        previous_phase=previous,
        comparison_level=float(level),
        synthetic=bool(r.get(d, "synthetic", "phase.yaml", bool, default=False)),
    )


def _levels(r: _Reader, raw: list, where: str) -> tuple[Level, ...]:
    out = []
    for i, lv in enumerate(raw or []):
        code = r.get(lv, "code", f"{where}[{i}]", (int, str))
        out.append(Level(code, str(r.get(lv, "label", f"{where}[{i}]", str))))
    return tuple(out)


def _scale(r: _Reader, sid: str, s: dict) -> Scale:
    where = f"scales.{sid}"
    kind = r.get(s, "kind", where, str)
    if kind not in SCALE_KINDS:
        raise r.fail(f"{where}.kind", f"unknown kind {kind!r}; allowed: {', '.join(SCALE_KINDS)}")
    levels = _levels(r, r.get(s, "levels", where, list, default=[]), f"{where}.levels")
    if kind != "count" and not levels:
        raise r.fail(where, f"a {kind} scale needs levels")
    if kind == "count" and (s.get("min") is None or s.get("max") is None):
        raise r.fail(where, "a count scale needs min and max")
    codes = [lv.code for lv in levels]
    for key in ("top", "bottom"):
        for c in s.get(key, []) or []:
            if c not in codes:
                raise r.fail(f"{where}.{key}", f"code {c!r} is not a level of the scale ({codes})")
    return Scale(
        id=sid,
        kind=kind,
        levels=levels,
        missing=_levels(r, r.get(s, "missing", where, list, default=[]), f"{where}.missing"),
        top=tuple(s.get("top", []) or []),
        bottom=tuple(s.get("bottom", []) or []),
        min=s.get("min"),
        max=s.get("max"),
    )


def _infer_instrument_kind(columns: list[Column]) -> str:
    """Codebooks may omit `kind`: a quarter column means running statistics, columns with roles mean interviews."""
    if any(c.type == "quarter" for c in columns):
        return "running_statistics"
    if any(c.role is not None for c in columns):
        return "interviews"
    return "questionnaire"


def _column_role(r: _Reader, c: dict, where: str, ctype: str) -> str | None:
    """The column's `role:` (None when it declares none), checked against INTERVIEW_ROLES and the column type."""
    role = r.get(c, "role", where, (str, type(None)), default=None)
    if role is None:
        return None
    if role not in INTERVIEW_ROLES:
        raise r.fail(f"{where}.role", f"unknown role {role!r}; allowed: {', '.join(COLUMN_ROLES)}",
                     hint="Roles tell thinka what the columns of an interview instrument mean; their names stay "
                          "yours. Use one of the allowed roles, or drop `role:` from a column that plays none.")
    if ctype != INTERVIEW_ROLES[role]:
        raise r.fail(f"{where}.role", f"role {role!r} needs a column of type {INTERVIEW_ROLES[role]!r}, "
                     f"the column has type {ctype!r}",
                     hint=f"Give the column `type: {INTERVIEW_ROLES[role]}` or the role to another column.")
    return role


def _check_roles(r: _Reader, where: str, kind: str, cols: list[Column]) -> None:
    """An interview instrument has one column per role; other instruments have no roles."""
    with_role = [c for c in cols if c.role is not None]
    if kind != "interviews":
        if with_role:
            raise r.fail(f"{where}.columns", f"column {with_role[0].name!r} has role {with_role[0].role!r}, but the "
                         f"instrument is of kind {kind!r}; roles belong to interview instruments",
                         hint="Set `kind: interviews` on the instrument, or drop the `role:` keys.")
        return
    roles = [c.role for c in with_role]
    if twice := sorted({x for x in roles if roles.count(x) > 1}):
        raise r.fail(f"{where}.columns", f"roles {twice} are given to more than one column; each role needs exactly "
                     "one column", hint="Keep the role on the column that holds it and drop it from the others.")
    if absent := [x for x in COLUMN_ROLES if x not in roles]:
        wanted = ", ".join(f"{x} ({INTERVIEW_ROLES[x]})" for x in COLUMN_ROLES)
        raise r.fail(f"{where}.columns", f"an interview instrument needs a column for each role; missing roles "
                     f"{absent}; roles (column type): {wanted}",
                     hint=f"Add `role: {absent[0]}` to the column that holds it, e.g. "
                          f"`- {{name: <your column>, type: {INTERVIEW_ROLES[absent[0]]}, role: {absent[0]}}}`.")


def _ratios(r: _Reader, spec: dict, where: str, cols: list[Column]) -> dict[str, tuple[str, str]]:
    """`ratios: {id: [numerator, denominator]}` over the instrument's whole-number columns."""
    integers = [c.name for c in cols if c.type == "integer"]
    out = {}
    for rid, pair in (r.get(spec, "ratios", where, dict, default={}) or {}).items():
        if not (isinstance(pair, list) and len(pair) == 2 and all(p in integers for p in pair)):
            raise r.fail(f"{where}.ratios.{rid}", f"expected [numerator, denominator] from the whole-number columns "
                                                 f"{integers}, got {pair!r}")
        if rid in integers:
            raise r.fail(f"{where}.ratios.{rid}", "a ratio needs a name of its own, not a column's")
        out[str(rid)] = (pair[0], pair[1])
    return out


def load_codebook(path: Path) -> Codebook:
    """Read and cross-check a codebook.yaml (scales, instruments, items, sections, Schaubilder)."""
    r = _Reader(Path(path))
    d = r.data
    scales = {sid: _scale(r, sid, s) for sid, s in r.get(d, "scales", "codebook", dict).items()}

    instruments = {}
    for iid, spec in r.get(d, "instruments", "codebook", dict).items():
        where = f"instruments.{iid}"
        cols = []
        for i, c in enumerate(r.get(spec, "columns", where, list)):
            cw = f"{where}.columns[{i}]"
            name = str(r.get(c, "name", cw, str))
            cw = f"{cw} ({name})"
            ctype = r.get(c, "type", cw, str)
            if ctype not in COLUMN_TYPES:
                raise r.fail(f"{cw}.type", f"unknown type {ctype!r}; allowed: {', '.join(COLUMN_TYPES)}")
            if ctype == "code" and c.get("scale") not in scales:
                raise r.fail(cw, f"type code needs a known scale, got {c.get('scale')!r}")
            cols.append(Column(name, ctype, c.get("scale"), c.get("min"), c.get("max"), c.get("label"),
                               _column_role(r, c, cw, ctype)))
        names = [c.name for c in cols]
        key = tuple(r.get(spec, "key", where, list))
        for k in key:
            if k not in names:
                raise r.fail(f"{where}.key", f"{k!r} is not a column of the instrument")
        kind = r.get(spec, "kind", where, str, default=_infer_instrument_kind(cols))
        if kind not in INSTRUMENT_KINDS:
            raise r.fail(f"{where}.kind", f"unknown kind {kind!r}; allowed: {', '.join(INSTRUMENT_KINDS)}")
        _check_roles(r, where, kind, cols)
        instruments[iid] = InstrumentSpec(
            id=iid,
            label=str(r.get(spec, "label", where, str)),
            unit=str(r.get(spec, "unit", where, str, default="Zeile")),
            key=key,
            columns=tuple(cols),
            constant_within={k: tuple(v) for k, v in (spec.get("constant_within") or {}).items()},
            complete=tuple(spec.get("complete") or ()),
            kind=kind,
            ratios=_ratios(r, spec, where, cols),
        )

    dimensions = tuple(
        Dimension(
            r.safe_name(str(r.get(x, "id", f"dimensions[{i}]", str)), f"dimensions[{i}].id", "dimension id"),
            str(r.get(x, "label", f"dimensions[{i}]", str)),
            str(r.get(x, "heading", f"dimensions[{i}]", str, default=x.get("label", ""))),
            str(r.get(x, "notebook", f"dimensions[{i}]", str, default=f"{x.get('id')}.ipynb")),
        )
        for i, x in enumerate(r.get(d, "dimensions", "codebook", list))
    )
    dim_ids = {x.id for x in dimensions}
    if COMPARISON in dim_ids:
        raise r.fail("dimensions", f"the dimension id {COMPARISON!r} is reserved for the comparison with the previous "
                     "Förderphase", hint="Rename the dimension, e.g. 'vergleich'.")

    items: dict[str, Item] = {}
    for i, x in enumerate(r.get(d, "items", "codebook", list)):
        where = f"items[{i}]"
        iid = str(r.get(x, "id", where, str))
        where = f"items[{i}] ({iid})"
        if iid in items:
            raise r.fail(where, "duplicate item id")
        instrument = r.get(x, "instrument", where, str)
        if instrument not in instruments:
            raise r.fail(where, f"unknown instrument {instrument!r}; known: {', '.join(instruments)}")
        scale = r.get(x, "scale", where, str)
        if scale not in scales:
            raise r.fail(where, f"unknown scale {scale!r}; known: {', '.join(scales)}")
        dim = r.get(x, "dimension", where, str)
        if dim not in dim_ids:
            raise r.fail(where, f"unknown dimension {dim!r}; known: {', '.join(sorted(dim_ids))}")
        options = tuple(
            Option(str(r.get(o, "column", f"{where}.options[{j}]", str)), str(r.get(o, "label", f"{where}.options[{j}]", str)))
            for j, o in enumerate(x.get("options") or [])
        )
        if options and scales[scale].kind != "mention":
            raise r.fail(where, "an item with options needs a scale of kind 'mention'")
        items[iid] = Item(iid, instrument, dim, scale, str(r.get(x, "wording", where, str)), options, x.get("short"), x.get("series_label"),
                           r.get(x, "earlier_wording", where, (str, type(None)), default=None))

    sections = tuple(
        Section(
            str(r.get(x, "id", f"sections[{i}]", str)),
            str(r.get(x, "dimension", f"sections[{i}]", str)),
            str(r.get(x, "title", f"sections[{i}]", str)),
            r.get(x, "content", f"sections[{i}]", (str, type(None)), default=None),
        )
        for i, x in enumerate(r.get(d, "sections", "codebook", list, default=[]))
    )
    for s in sections:
        if s.content is not None and s.content not in SECTION_CONTENTS:
            raise r.fail(f"sections ({s.id}).content", f"unknown content {s.content!r}; allowed: {', '.join(SECTION_CONTENTS)}")
    section_ids = {s.id for s in sections}
    for s in sections:
        if s.dimension not in dim_ids:
            raise r.fail(f"sections ({s.id})", f"unknown dimension {s.dimension!r}")

    schaubilder = []
    for i, x in enumerate(r.get(d, "schaubilder", "codebook", list, default=[])):
        where = f"schaubilder[{i}]"
        sb = Schaubild(
            number=int(r.get(x, "number", where, int)),
            section=str(r.get(x, "section", where, str)),
            items=tuple(r.get(x, "items", where, list)),
            chart=str(r.get(x, "chart", where, str)),
            title=str(r.get(x, "title", where, str)),
            caption=str(r.get(x, "caption", where, str)),
            quoted=bool(x.get("quoted", True)),
            scale_note=bool(x.get("scale_note", False)),
        )
        if sb.section not in section_ids:
            raise r.fail(where, f"unknown section {sb.section!r}")
        if sb.chart not in CHART_KINDS:
            raise r.fail(where, f"unknown chart {sb.chart!r}; allowed: {', '.join(CHART_KINDS)}")
        for item in sb.items:
            if item not in items:
                raise r.fail(where, f"unknown item {item!r}")
        schaubilder.append(sb)
    numbers = [s.number for s in schaubilder]
    if numbers != sorted(set(numbers)):
        raise r.fail("schaubilder", f"numbers must be unique and ascending, got {numbers}")

    item_tables = []
    for i, x in enumerate(r.get(d, "item_tables", "codebook", list, default=[])):
        where = f"item_tables[{i}]"
        t = ItemTable(str(r.get(x, "section", where, str)), str(r.get(x, "title", where, str)), tuple(r.get(x, "items", where, list)))
        if t.section not in section_ids:
            raise r.fail(where, f"unknown section {t.section!r}")
        for item in t.items:
            if item not in items:
                raise r.fail(where, f"unknown item {item!r}")
        item_tables.append(t)

    return Codebook(scales, instruments, items, dimensions, sections, tuple(schaubilder), tuple(item_tables), Path(path))


def check_consistency(config: PhaseConfig, codebook: Codebook) -> None:
    """Cross-check phase.yaml against codebook.yaml: every instrument described in both, dimensions known."""
    missing = sorted(set(config.instruments) ^ set(codebook.instruments))
    if missing:
        raise ConfigError(
            f"{config.source}: instruments {missing} are in only one of phase.yaml and codebook.yaml; "
            "each instrument needs a file in phase.yaml and its columns in codebook.yaml."
        )
    dim_ids = {d.id for d in codebook.dimensions}
    for inst in config.instruments.values():
        if inst.dimension not in dim_ids:
            raise ConfigError(f"{config.source}: instruments.{inst.id}.dimension {inst.dimension!r} is not a codebook dimension ({', '.join(sorted(dim_ids))}).")
