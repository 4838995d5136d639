"""Mapping a survey tool's export (LimeSurvey, SoSci Survey, an office's own sheet) onto the codebook.

`phase.yaml` may name a mapping per instrument (``instruments.<id>.mapping: mappings/<name>.yaml``, a path inside
the phase folder). The mapping says which export column holds which codebook column or item, how the export's
answer codes translate to scale codes, which codes mean "missing", where the survey date comes from, which columns
to ignore and which rows are incomplete responses. Nothing here knows a programme: every name comes from the
mapping file and the codebook.

Mapping file keys (all optional except `columns` or `sets`; ``source`` is a free-text note on the export):

- ``columns``: export column -> codebook column or item id (a plain dict);
- ``sets``: multiple-response items, each ``{item, pattern}`` (a template with ``{n}``, e.g. ``"Q7[SQ{n:03d}]"``,
  numbered from ``start``, default 1, in option order) or ``{item, regex}`` (one group; the captured texts in
  ascending order give the options in order, or ``options`` maps each captured text to an option column);
  ``blank: unchecked`` reads a blank option as "not ticked" when the respondent ticked another option of the set
  (LimeSurvey), a row without any tick stays item non-response;
- ``dates``: codebook date column -> export date-time column; the date part (``YYYY-MM-DD``) is taken;
- ``codes``: ``scales: {<scale>: {export code: scale code}}`` and ``columns: {<codebook column or item>: {...}}``
  (a column's map wins over its scale's map). A mapped column accepts only the listed codes, missing codes and blanks;
- ``missing``: further export codes that mean "no answer" in item columns (e.g. ``-9``, ``-1``); they become blanks;
- ``ignore``: glob patterns of export columns that are deliberately not used (``TIME*``, ``seed``);
- ``incomplete``: ``{column, blank: true}`` (LimeSurvey: ``submitdate`` empty) or ``{column, values: [...]}``
  (SoSci Survey: ``FINISHED`` = 0): these rows are left out and listed;
- ``by: label`` with ``label_code: <regex with one group>``: for SPSS files with V-names, every variable is known by
  the code the regex extracts from its variable label (a label the regex does not match is used as it is, so
  LimeSurvey's metadata labels ``id``, ``submitdate`` … keep their names).

`load_mapping` reads and checks a file (errors name file, key, bad value, the allowed values and a hint);
`apply_mapping` is pure: export `RawTable` in, canonical `RawTable` (codebook names and codes, the export's row
numbers) plus mapping problems as `Violation`s out.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from thinka.codebook import Codebook, _Reader
from thinka.errors import ConfigError
from thinka.io import RawTable
from thinka.violations import Violation

TOP_KEYS = ("source", "by", "label_code", "columns", "sets", "dates", "codes", "missing", "ignore", "incomplete")
SET_KEYS = ("item", "pattern", "regex", "start", "options", "blank")
BY_VALUES = ("name", "label")
BLANK_VALUES = ("missing", "unchecked")
_DATE_PART = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T].*)?")
_MAPPING_HINT = "The mapping format is described in data/raw/README.md (section on exports from survey tools)."


@dataclass(frozen=True)
class OptionSet:
    """A multiple-response item found in the export by a template or a regex."""

    item: str
    pattern: str | None = None
    regex: str | None = None
    start: int = 1
    options: dict[str, str] | None = None  # captured text -> option column
    blank: str = "missing"


@dataclass(frozen=True)
class Incomplete:
    column: str
    blank: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mapping:
    path: Path
    instrument: str
    columns: dict[str, str] = field(default_factory=dict)
    sets: tuple[OptionSet, ...] = ()
    dates: dict[str, str] = field(default_factory=dict)
    scale_codes: dict[str, dict[str, str]] = field(default_factory=dict)
    column_codes: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    incomplete: Incomplete | None = None
    by: str = "name"
    label_code: str | None = None


@dataclass
class MappingResult:
    """What `apply_mapping` made of one export."""

    table: RawTable  # canonical: codebook column names and codes, the export's row numbers
    violations: list[Violation]
    unused: tuple[str, ...]  # export columns neither mapped nor ignored
    dropped: tuple[int, ...]  # rows left out as incomplete responses
    display: dict[str, str]  # codebook column -> how to name it in messages ("Q3 → geschlecht")
    mapping: Path | None = None
    flagged: frozenset[tuple[int, str]] = frozenset()  # (row, codebook column) cells already reported here


# ----------------------------------------------------------------------------------------------------------------
# Loading


def resolve_mapping_path(phase_dir: Path, relative: str, instrument_id: str) -> Path:
    """The mapping file named in phase.yaml; it must be a file inside the phase folder."""
    where = f"{Path(phase_dir) / 'phase.yaml'}: instruments.{instrument_id}.mapping"
    hint = "Put the mapping in the phase folder (e.g. mappings/limesurvey.yaml) and name it relative to that folder."
    root = Path(phase_dir).resolve()
    rel = Path(relative)
    target = (root / rel).resolve()
    if rel.is_absolute() or ".." in rel.parts or root not in target.parents:
        raise ConfigError(f"{where}: {relative!r} lies outside the phase folder {root}; allowed: a path inside it.", hint=hint)
    if not target.is_file():
        raise ConfigError(f"{where}: {relative!r} is not a file in {root}.", hint=hint)
    return target


class _MappingReader(_Reader):
    def bad(self, key: str, value, problem: str, allowed: str, hint: str = _MAPPING_HINT) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}: {value!r}; allowed: {allowed}.", hint=hint)

    def code(self, key: str, value) -> str:
        # YAML reads `yes`/`no`/`on`/`off` as booleans and 1.5 as a float; a code must be written as it is exported.
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.bad(key, value, "not a code", "a text or a whole number", 'quote codes like "yes" or "1.5"')
        return str(value)

    def code_map(self, key: str, raw) -> dict[str, str]:
        if not isinstance(raw, dict) or not raw:
            raise self.bad(key, raw, "not a code map", "a mapping export code -> codebook code, e.g. {A1: 1}")
        return {self.code(f"{key}.{k}", k): self.code(f"{key}.{k}", v) for k, v in raw.items()}


def _allowed_codes(codebook: Codebook, scale_id: str) -> set[str]:
    scale = codebook.scales[scale_id]
    return {str(c) for c in (*scale.codes, *scale.missing_codes)}


def _column_scale(codebook: Codebook, instrument_id: str, name: str) -> str | None:
    """The scale of a codebook column, item id or option column (None: no scale, e.g. a site or date)."""
    for item in codebook.items_of(instrument_id):
        if name == item.id or name in item.columns:
            return item.scale
    for col in codebook.instruments[instrument_id].columns:
        if col.name == name:
            return col.scale
    return None


def _check_codes(r: _MappingReader, key: str, codes: dict[str, str], codebook: Codebook, scale_id: str | None) -> None:
    if scale_id is None or codebook.scales[scale_id].kind == "count":
        return
    allowed = _allowed_codes(codebook, scale_id)
    for export_code, code in codes.items():
        if code not in allowed:
            raise r.bad(f"{key}.{export_code}", code, f"not a code of scale '{scale_id}'", ", ".join(sorted(allowed)))


def _targets(codebook: Codebook, instrument_id: str) -> tuple[str, ...]:
    return codebook.required_columns(instrument_id)


def _read_columns(r: _MappingReader, d: dict, codebook: Codebook, iid: str) -> dict[str, str]:
    raw = r.get(d, "columns", "mapping", dict, default={}) or {}
    targets = _targets(codebook, iid)
    multi = {i.id for i in codebook.items_of(iid) if i.is_multiple_response}
    out = {}
    for export, target in raw.items():
        if target in multi:
            raise r.bad(f"columns.{export}", target, "a multiple-response item needs a set", "a codebook column",
                        f"map it under sets: [{{item: {target}, pattern: ...}}] or map each option column")
        if not isinstance(target, str) or target not in targets:
            raise r.bad(f"columns.{export}", target, f"not a column of '{iid}' in the codebook", ", ".join(targets))
        out[str(export)] = target
    return out


def _read_set(r: _MappingReader, i: int, x, codebook: Codebook, iid: str) -> OptionSet:
    where = f"sets[{i}]"
    if not isinstance(x, dict):
        raise r.bad(where, x, "not a set", "a mapping with item and pattern or regex")
    for k in x:
        if k not in SET_KEYS:
            raise r.bad(f"{where}.{k}", k, "unknown key", ", ".join(SET_KEYS))
    items = {i.id: i for i in codebook.items_of(iid) if i.is_multiple_response}
    item = x.get("item")
    if item not in items:
        raise r.bad(f"{where}.item", item, f"not a multiple-response item of '{iid}'", ", ".join(items) or "(none)")
    pattern, regex = x.get("pattern"), x.get("regex")
    if (pattern is None) == (regex is None):
        raise r.bad(where, x, "needs exactly one of pattern and regex", 'pattern: "Q7[SQ{n:03d}]" or regex: "^Q7_(\\d+)$"')
    if pattern is not None:
        _check_template(r, f"{where}.pattern", pattern)
    else:
        _check_regex(r, f"{where}.regex", regex)
    options = x.get("options")
    if options is not None:
        option_cols = items[item].columns
        options = {r.code(f"{where}.options", k): v for k, v in (options or {}).items()} if isinstance(options, dict) else options
        if not isinstance(options, dict) or regex is None:
            raise r.bad(f"{where}.options", options, "an option map needs a regex", "captured text -> option column")
        for k, v in options.items():
            if v not in option_cols:
                raise r.bad(f"{where}.options.{k}", v, f"not an option column of '{item}'", ", ".join(option_cols))
    blank = x.get("blank", "missing")
    if blank not in BLANK_VALUES:
        raise r.bad(f"{where}.blank", blank, "unknown value", ", ".join(BLANK_VALUES))
    start = x.get("start", 1)
    if isinstance(start, bool) or not isinstance(start, int):
        raise r.bad(f"{where}.start", start, "not a whole number", "the number of the first option, e.g. 1")
    return OptionSet(item, pattern, regex, start, options, blank)


def _check_template(r: _MappingReader, key: str, pattern) -> None:
    try:
        ok = isinstance(pattern, str) and "{n" in pattern and pattern.format(n=1) != pattern.format(n=2)
    except (ValueError, KeyError, IndexError, AttributeError):
        ok = False
    if not ok:
        raise r.bad(key, pattern, "not a column-name template", 'a name with {n} for the option number, e.g. "Q7[SQ{n:03d}]"')


def _check_regex(r: _MappingReader, key: str, regex) -> None:
    try:
        groups = re.compile(regex).groups if isinstance(regex, str) else 0
    except re.error as exc:
        raise r.bad(key, regex, f"not a regular expression ({exc})", "a Python regular expression") from None
    if groups != 1:
        raise r.bad(key, regex, "needs exactly one group (the option code)", 'e.g. "^AB01_(\\d+)$"')


def _read_codes(r: _MappingReader, d: dict, codebook: Codebook, iid: str) -> tuple[dict, dict]:
    codes = r.get(d, "codes", "mapping", dict, default={}) or {}
    for k in codes:
        if k not in ("scales", "columns"):
            raise r.bad(f"codes.{k}", k, "unknown key", "scales, columns")
    scale_codes, column_codes = {}, {}
    for sid, m in (codes.get("scales") or {}).items():
        if sid not in codebook.scales:
            raise r.bad(f"codes.scales.{sid}", sid, "unknown scale", ", ".join(codebook.scales))
        scale_codes[sid] = r.code_map(f"codes.scales.{sid}", m)
        _check_codes(r, f"codes.scales.{sid}", scale_codes[sid], codebook, sid)
    names = (*_targets(codebook, iid), *(i.id for i in codebook.items_of(iid)))
    for name, m in (codes.get("columns") or {}).items():
        if name not in names:
            raise r.bad(f"codes.columns.{name}", name, f"not a column or item of '{iid}'", ", ".join(dict.fromkeys(names)))
        column_codes[name] = r.code_map(f"codes.columns.{name}", m)
        _check_codes(r, f"codes.columns.{name}", column_codes[name], codebook, _column_scale(codebook, iid, name))
    return scale_codes, column_codes


def _read_dates(r: _MappingReader, d: dict, codebook: Codebook, iid: str) -> dict[str, str]:
    dates = r.get(d, "dates", "mapping", dict, default={}) or {}
    date_cols = [c.name for c in codebook.instruments[iid].columns if c.type == "date"]
    for target, source in dates.items():
        if target not in date_cols:
            raise r.bad(f"dates.{target}", target, f"not a date column of '{iid}'", ", ".join(date_cols) or "(none)")
        if not isinstance(source, str):
            raise r.bad(f"dates.{target}", source, "not an export column name", "the export's date-time column, e.g. submitdate")
    return dict(dates)


def _read_incomplete(r: _MappingReader, d: dict) -> Incomplete | None:
    x = r.get(d, "incomplete", "mapping", dict, default=None)
    if x is None:
        return None
    column = r.get(x, "column", "incomplete", str)
    blank = r.get(x, "blank", "incomplete", bool, default=False)
    values = tuple(r.code("incomplete.values", v) for v in r.get(x, "values", "incomplete", list, default=[]))
    if not blank and not values:
        raise r.bad("incomplete", x, "says neither blank nor values", "{column: submitdate, blank: true} or {column: FINISHED, values: [0]}")
    return Incomplete(column, blank, values)


def _check_unique_targets(r: _MappingReader, m: Mapping, codebook: Codebook) -> None:
    seen: dict[str, str] = {}
    claims = [(f"columns.{k}", v) for k, v in m.columns.items()] + [(f"dates.{k}", k) for k in m.dates]
    for s in m.sets:
        claims += [(f"sets ({s.item})", c) for c in codebook.items[s.item].columns]
    for key, target in claims:
        if target in seen:
            raise r.bad(key, target, f"codebook column mapped twice (also by {seen[target]})", "one export column per codebook column")
        seen[target] = key


def load_mapping(path: Path | str, codebook: Codebook, instrument_id: str) -> Mapping:
    """Read and check a mapping file for one instrument against the codebook."""
    r = _MappingReader(Path(path))
    d = r.data
    for k in d:
        if k not in TOP_KEYS:
            raise r.bad(k, k, "unknown key", ", ".join(TOP_KEYS))
    by = r.get(d, "by", "mapping", str, default="name")
    if by not in BY_VALUES:
        raise r.bad("by", by, "unknown value", ", ".join(BY_VALUES))
    label_code = r.get(d, "label_code", "mapping", str, default=None)
    if by == "label":
        if label_code is None:
            raise r.bad("label_code", None, "missing for by: label", 'a regex with one group, e.g. "^\\[(\\w+)\\]"')
        _check_regex(r, "label_code", label_code)
    scale_codes, column_codes = _read_codes(r, d, codebook, instrument_id)
    m = Mapping(
        path=Path(path),
        instrument=instrument_id,
        columns=_read_columns(r, d, codebook, instrument_id),
        sets=tuple(_read_set(r, i, x, codebook, instrument_id) for i, x in enumerate(r.get(d, "sets", "mapping", list, default=[]) or [])),
        dates=_read_dates(r, d, codebook, instrument_id),
        scale_codes=scale_codes,
        column_codes=column_codes,
        missing=tuple(r.code("missing", v) for v in r.get(d, "missing", "mapping", list, default=[]) or []),
        ignore=tuple(str(g) for g in r.get(d, "ignore", "mapping", list, default=[]) or []),
        incomplete=_read_incomplete(r, d),
        by=by,
        label_code=label_code,
    )
    if not m.columns and not m.sets:
        raise r.bad("columns", None, "the mapping maps nothing", "columns: {export column: codebook column} and/or sets")
    _check_unique_targets(r, m, codebook)
    return m


# ----------------------------------------------------------------------------------------------------------------
# Applying


def export_names(raw: RawTable, mapping: Mapping) -> dict[str, str]:
    """Export column -> the name the mapping knows it by (its own name, or the code in its SPSS variable label)."""
    if mapping.by != "label":
        return {c: c for c in raw.frame.columns}
    rx = re.compile(mapping.label_code)
    out = {}
    for col in raw.frame.columns:
        label = raw.variable_labels.get(col, "")
        match = rx.search(label)
        out[col] = match.group(1) if match else (label or col)
    return out


def _show(col: str, name: str) -> str:
    return col if col == name else f"{col} ({name})"


@dataclass
class _Work:
    """Mutable state of one `apply_mapping` run (kept out of the public result)."""

    raw: RawTable
    mapping: Mapping
    codebook: Codebook
    by_name: dict[str, str]  # mapping name -> export column
    names: dict[str, str]  # export column -> mapping name
    sources: dict[str, str] = field(default_factory=dict)  # codebook column -> export column
    used: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)  # codebook columns whose missing source is already reported
    flagged: set[tuple[int, str]] = field(default_factory=set)  # cells with an unmapped code
    out: list[Violation] = field(default_factory=list)

    def show(self, col: str, target: str | None = None) -> str:
        shown = _show(col, self.names.get(col, col))
        return shown if target is None else f"{shown} → {target}"

    def problem(self, column: str | None, value, rule: str, allowed: str, hint: str | None = None, row=None) -> None:
        row = self.raw.header_row if row is None and column is not None else row
        self.out.append(Violation(self.raw.name, row, column, value, rule, allowed, hint))

    def near(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, list(self.by_name), n=3)
        return f"similar export columns: {', '.join(close)}" if close else None


def _drop_incomplete(w: _Work, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[int, ...]]:
    inc = w.mapping.incomplete
    if inc is None:
        return frame, ()
    col = w.by_name.get(inc.column)
    if col is None:
        w.problem(inc.column, None, "incomplete-response column missing from export", f"a column of {w.raw.name}",
                  w.near(inc.column) or f"set incomplete.column in {w.mapping.path.name}")
        return frame, ()
    w.used.add(col)
    s = frame[col]
    drop = (s == "") if inc.blank else s.isin(list(inc.values))
    return frame[~drop], tuple(int(i) for i in frame.index[drop])


def _map_plain(w: _Work) -> None:
    for name, target in w.mapping.columns.items():
        col = w.by_name.get(name)
        if col is None:
            w.problem(f"{name} → {target}", None, "mapped column missing from export", f"a column of {w.raw.name}",
                      w.near(name) or f"check columns.{name} in {w.mapping.path.name}")
            w.reported.add(target)
            continue
        w.sources[target] = col
    for target, name in w.mapping.dates.items():
        col = w.by_name.get(name)
        if col is None:
            w.problem(f"{name} → {target}", None, "date column missing from export", f"a date-time column of {w.raw.name}",
                      w.near(name) or f"check dates.{target} in {w.mapping.path.name}")
            w.reported.add(target)
            continue
        w.sources[target] = col


def _set_matches(w: _Work, s: OptionSet) -> dict[str, str]:
    """Option column -> export column for one set; problems are reported."""
    options = w.codebook.items[s.item].columns
    where = f"sets ({s.item})"
    # A set that cannot be placed is one problem, not one per option; an option map leaves its gaps to the caller.
    w.reported.update(options if s.options is None else ())
    if s.pattern is not None:
        wanted = {opt: s.pattern.format(n=s.start + i) for i, opt in enumerate(options)}
        found = {opt: w.by_name[n] for opt, n in wanted.items() if n in w.by_name}
        if not found:
            w.problem(f"{s.pattern} → {s.item}", s.pattern, "pattern matches no export column",
                      ", ".join(wanted.values()), w.near(wanted[options[0]]) or f"check {where} in {w.mapping.path.name}")
            return {}
        for opt, n in wanted.items():
            if opt not in found:
                w.problem(f"{n} → {opt}", None, "mapped column missing from export", f"a column of {w.raw.name}", w.near(n))
        return found
    rx = re.compile(s.regex)
    matched = [(m.group(1), w.by_name[n]) for n in w.by_name if (m := rx.fullmatch(n))]
    hits = dict(matched)
    if len(hits) < len(matched):  # two columns captured the same option code: the regex is too wide
        w.problem(f"{s.regex} → {s.item}", ", ".join(c for _, c in matched), f"pattern matches {len(matched)} columns",
                  f"{len(options)} columns, one per option of '{s.item}', each with its own code", "narrow the regex")
        return {}
    if not hits:
        w.problem(f"{s.regex} → {s.item}", s.regex, "pattern matches no export column",
                  f"{len(options)} columns of {w.raw.name} for the options of '{s.item}'", f"check {where} in {w.mapping.path.name}")
        return {}
    if s.options is not None:
        found = {}
        for key, col in hits.items():
            if key in s.options:
                found[s.options[key]] = col
            else:
                w.problem(w.show(col, s.item), key, "option code without mapping", ", ".join(s.options),
                          f"add it to {where}.options or ignore the column")
        return found
    keys = sorted(hits, key=lambda k: (0, int(k), k) if k.isdigit() else (1, 0, k))
    if len(keys) != len(options):
        w.problem(f"{s.regex} → {s.item}", ", ".join(hits[k] for k in keys), f"pattern matches {len(keys)} columns",
                  f"{len(options)} columns, one per option of '{s.item}'", "use options: {code: option column} to pick them")
        return {}
    return {opt: hits[k] for opt, k in zip(options, keys)}


def _code_map(w: _Work, target: str) -> dict[str, str] | None:
    item = next((i for i in w.codebook.items_of(w.mapping.instrument) if target in i.columns), None)
    scale = _column_scale(w.codebook, w.mapping.instrument, target)
    for key in (target, item.id if item else None):
        if key in w.mapping.column_codes:
            return w.mapping.column_codes[key]
    return w.mapping.scale_codes.get(scale) if scale else None


def _convert(w: _Work, frame: pd.DataFrame, target: str, col: str, is_item: bool) -> pd.Series:
    s = frame[col]
    if target in w.mapping.dates:
        parts = s.str.extract(_DATE_PART, expand=False)
        return parts.where(parts.notna(), s)  # a value without a date part stays as it is; validation names it
    if is_item and w.mapping.missing:
        s = s.where(~s.isin(list(w.mapping.missing)), "")
    codes = _code_map(w, target)
    if codes is None:
        return s
    scale = _column_scale(w.codebook, w.mapping.instrument, target)
    missing = {str(c) for c in w.codebook.scales[scale].missing_codes} if scale else set()
    known = s.isin(list(codes))
    bad = (s != "") & ~known & ~s.isin(list(missing))
    for row, value in s[bad].items():
        w.problem(w.show(col, target), value, "answer code without mapping", ", ".join([*codes, *sorted(missing)]) + "; or blank",
                  f"add it to codes in {w.mapping.path.name}", row=int(row))
        w.flagged.add((int(row), target))
    # Unmapped codes are reported here and blanked, so that validation does not report them a second time.
    return s.map(codes).where(known, s.where(~bad, ""))


def _fill_unchecked(frame: pd.DataFrame, columns: list[str]) -> None:
    """A blank option is 'not ticked' (0) in a row where another option of the set is ticked."""
    cols = [c for c in columns if c in frame.columns]
    ticked = (frame[cols] == "1").any(axis=1)
    for c in cols:
        frame.loc[ticked & (frame[c] == ""), c] = "0"


def _unused(w: _Work) -> tuple[str, ...]:
    def ignored(col: str) -> bool:
        return any(fnmatch.fnmatchcase(n, g) for g in w.mapping.ignore for n in (col, w.names[col]))

    return tuple(w.show(c) for c in w.raw.frame.columns if c not in w.used and not ignored(c))


def apply_mapping(raw: RawTable, mapping: Mapping, codebook: Codebook, instrument_id: str) -> MappingResult:
    """The export as a canonical table (codebook columns and codes, the export's row numbers) plus mapping problems."""
    names = export_names(raw, mapping)
    by_name: dict[str, str] = {}
    for col, name in names.items():
        by_name.setdefault(name, col)
    w = _Work(raw, replace(mapping, instrument=instrument_id), codebook, by_name, names)
    frame, dropped = _drop_incomplete(w, raw.frame)
    _map_plain(w)
    for s in mapping.sets:
        w.sources.update(_set_matches(w, s))
    w.used.update(w.sources.values())
    required = codebook.required_columns(instrument_id)
    item_cols = {c for i in codebook.items_of(instrument_id) for c in i.columns}
    # A column the mapping names but the export lacks is reported above, once; here only what nothing placed.
    for target in required:
        if target not in w.sources and target not in w.reported:
            w.problem(target, None, "no export column maps to codebook column", f"an entry for '{target}' in {mapping.path.name}",
                      "add it under columns, sets or dates")
    out = pd.DataFrame(index=frame.index)
    for target in required:
        if target in w.sources:
            out[target] = _convert(w, frame, target, w.sources[target], target in item_cols)
    for s in mapping.sets:
        if s.blank == "unchecked":
            _fill_unchecked(out, list(codebook.items[s.item].columns))
    table = RawTable(out.astype("str"), raw.path, raw.format, raw.encoding, raw.separator, header_row=raw.header_row)
    display = {t: w.show(c, t) for t, c in w.sources.items()}
    return MappingResult(table, w.out, _unused(w), dropped, display, mapping.path, frozenset(w.flagged))


def rename_violation(v: Violation, display: dict[str, str]) -> Violation:
    """A violation found on the canonical table, with the export column named (``Q3 → geschlecht``)."""
    if v.column is None:
        return v
    return replace(v, column=", ".join(display.get(c, c) for c in v.column.split(", ")))
