"""Creating projects and phases: `thinka init` and `thinka new-phase`.

`init` writes a new programme's project from the templates in `templates/project/`: the marker `thinka.yaml`, a
`.gitignore` that keeps survey exports and outputs out of version control, a README for the office, and a first
phase whose configuration is a small working example. `new_phase` starts a Förderphase from the previous one: it
carries configuration, codebook, mappings and texts over (never data), moves every date of phase.yaml by the length
of the old phase, and says what to fill in next.

Both only create files that did not exist; neither ever writes into an existing phase folder.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import string
from dataclasses import dataclass, field
from pathlib import Path

from thinka.codebook import load_codebook, load_phase
from thinka.errors import ThinkaError
from thinka.paths import MARKER, PhasePaths

TEMPLATES = Path(__file__).resolve().parent / "templates" / "project"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# What a new phase carries over from the old one, relative to the phase folder: configuration and prose, no data.
CARRIED = ("phase.yaml", "codebook.yaml", "mappings", "texte")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass
class Created:
    """What a scaffolding command wrote, and what the office does next."""

    root: Path
    files: list[Path] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def check_name(value: str, what: str) -> str:
    if not SAFE_NAME.fullmatch(value or ""):
        raise ThinkaError(
            f"{what} {value!r} is not usable: it names folders, so it may only hold letters, digits, '-' and '_' "
            "(at most 64, starting with a letter or digit).",
            hint="For a phase use its years, e.g. 2025-2026.",
        )
    return value


def _render(template: Path, values: dict[str, str]) -> str:
    return string.Template(template.read_text(encoding="utf-8")).substitute(values)


def _write_new(path: Path, text: str, created: Created) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as fh:  # "x": never overwrite what an office already has
        fh.write(text)
    created.files.append(path)


def default_phase(today: dt.date | None = None) -> str:
    year = (today or dt.date.today()).year
    return f"{year}-{year + 1}"


def init_project(folder: Path, *, programme: str, phase: str) -> Created:
    """Scaffold a project in `folder` (created if missing; refused if it already holds a project)."""
    folder = Path(folder).resolve()
    check_name(phase, "Phase")
    if (folder / MARKER).exists():
        raise ThinkaError(f"{folder} already is a thinka project ({MARKER} exists).",
                          hint="Start a new Förderphase there with `thinka new-phase NEW --from OLD`.")
    start, end = _phase_years(phase)
    values = {"programme": programme, "phase": phase, "start": start.isoformat(), "end": end.isoformat(),
              "report_date": end.isoformat()}
    created = Created(folder)
    _write_new(folder / MARKER, _render(TEMPLATES / "thinka.yaml", values), created)
    _write_new(folder / ".gitignore", _render(TEMPLATES / "gitignore", values), created)
    _write_new(folder / "README.md", _render(TEMPLATES / "README.md", values), created)
    phase_dir = PhasePaths(folder, phase).raw
    for template in sorted((TEMPLATES / "phase").rglob("*")):
        if template.is_file():
            _write_new(phase_dir / template.relative_to(TEMPLATES / "phase"), _render(template, values), created)
    created.next_steps = [
        f"Describe programme and sites: {folder / MARKER} and {phase_dir / 'phase.yaml'}.",
        f"Describe instruments, items, sections and Schaubilder: {phase_dir / 'codebook.yaml'}.",
        f"Put each export into {phase_dir} under the file name phase.yaml gives.",
        f"cd {folder} && thinka validate && thinka check-texts && thinka build",
    ]
    return created


def _phase_years(phase: str) -> tuple[dt.date, dt.date]:
    """A phase named YYYY-YYYY spans those calendar years; any other name gets the current year as a start."""
    m = re.fullmatch(r"(\d{4})-(\d{4})", phase)
    first, last = (int(m.group(1)), int(m.group(2))) if m else (dt.date.today().year,) * 2
    return dt.date(first, 1, 1), dt.date(max(first, last), 12, 31)


# ----------------------------------------------------------------------------------------------------------------
# A new Förderphase


def _shift_years(text: str, years: int) -> str:
    """Every ISO date in `text` moved by `years` (29 February becomes 28 February where needed)."""
    def move(m: re.Match) -> str:
        y, mo, d = int(m.group(1)) + years, int(m.group(2)), int(m.group(3))
        try:
            return dt.date(y, mo, d).isoformat()
        except ValueError:
            return dt.date(y, mo, d - 1).isoformat()
    return _ISO_DATE.sub(move, text)


def _phase_yaml_for(old_text: str, old: str, new: str, years: int) -> str:
    text = re.sub(r'^(phase:\s*)["\']?' + re.escape(old) + r'["\']?', rf'\g<1>"{new}"', old_text, count=1, flags=re.M)
    text = _shift_years(text, years).replace(old, new) if years else text
    return _with_previous(text, old)


PREVIOUS_COMMENT = "# The report compares this phase with the one named here (thinka.comparison); remove to compare none."


def _with_previous(text: str, old: str) -> str:
    """The new phase names the old one as its previous phase, so its report shows what changed."""
    line = f'previous_phase: "{old}"'
    if re.search(r"^previous_phase:", text, flags=re.M):
        return re.sub(r"^previous_phase:.*$", line, text, count=1, flags=re.M)
    return re.sub(r"^(phase:.*)$", rf"\g<1>\n{PREVIOUS_COMMENT}\n{line}", text, count=1, flags=re.M)


def new_phase(root: Path, new: str, old: str) -> Created:
    """Start phase `new` from phase `old` of the project at `root` (configuration and texts, never data)."""
    check_name(new, "Phase")
    src, dst = PhasePaths(root, old), PhasePaths(root, new)
    if not src.config.is_file():
        raise ThinkaError(f"No phase {old!r} to start from: {src.config} does not exist.",
                          hint="`thinka phases` lists the phases of this project.")
    if dst.raw.exists():
        raise ThinkaError(f"Phase {new!r} exists already ({dst.raw}); thinka never writes into an existing phase.",
                          hint="Choose another name, or edit that phase's files directly.")
    config = load_phase(src.config)
    load_codebook(src.codebook)  # carry over only what loads
    whole_years = (config.period_start.month, config.period_start.day, config.period_end.month,
                   config.period_end.day) == (1, 1, 12, 31)
    years = config.period_end.year - config.period_start.year + 1 if whole_years else 0
    created = Created(Path(root))
    for name in CARRIED:
        path = src.raw / name
        if path.is_dir():
            shutil.copytree(path, dst.raw / name)
            created.files += sorted(p for p in (dst.raw / name).rglob("*") if p.is_file())
        elif path.is_file() and name != "phase.yaml":
            dst.raw.mkdir(parents=True, exist_ok=True)
            created.files.append(Path(shutil.copy2(path, dst.raw / name)))
    _write_new(dst.config, _phase_yaml_for(src.config.read_text(encoding="utf-8"), old, new, years), created)
    created.next_steps = _new_phase_steps(dst, load_phase(dst.config), years)
    return created


def _new_phase_steps(paths: PhasePaths, config, years: int) -> list[str]:
    moved = f"moved by {years} year(s)" if years else "NOT moved (the old period is not whole calendar years)"
    steps = [f"Check {paths.config}: period {config.period_start} to {config.period_end} and every date in it "
             f"were {moved}; report title, date and authors; sites that joined or left."]
    if config.previous_phase:
        steps.append(f"The report will compare {paths.phase} with {config.previous_phase} (previous_phase in "
                     "phase.yaml): revised item wordings go to the item's `earlier_wording` in codebook.yaml.")
    if config.reconstruction:
        steps.append("Set `reconstruction: false` once the real exports are in place.")
    if config.synthetic:
        steps.append("Set `synthetic: false` and remove report.synthetic_note: the new phase's exports are real.")
    for inst in config.instruments.values():
        steps.append(f"Export {inst.id} (field period {inst.field_start} to {inst.field_end}) to "
                     f"{paths.raw / inst.file}.")
    steps.append(f"thinka check-texts --phase {paths.phase}   (fact keys now, numbers once the data are in)")
    steps.append(f"thinka validate --phase {paths.phase} && thinka build --phase {paths.phase}")
    return steps
