"""Command line: `thinka validate | process | compare | check-texts | build | notebooks | audit | phases`.

Every command takes `--phase` (default: the only phase, or the newest one) and `--root` (default: $THINKA_ROOT, else
the project found from the working directory upwards by its `thinka.yaml`). Problems with the user's input end in a plain message and a non-zero exit, never a traceback.

Exit codes: 0 ok; 1 problems found in the data or texts (every command that validates: validate, process, build);
2 input unusable (configuration, unknown phase, unreadable setup); 3 a bug in thinka; 141 the reader of the output
went away (e.g. `thinka phases | head -1`), like a command ended by SIGPIPE, without a message.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from thinka import __version__
from thinka.errors import ThinkaError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
EXIT_PIPE = 128 + 13  # 128 + SIGPIPE: what a shell reports for a command whose reader closed the pipe


def _paths(args):
    from thinka.paths import find_project, list_phases, phase_paths

    root = find_project(args.root)
    phase = args.phase
    if phase is None:
        phases = list_phases(root)
        if not phases:
            raise ThinkaError(f"No phase found under {root / 'data' / 'raw'}.", hint="Pass --root or create data/raw/<phase>/phase.yaml.")
        phase = phases[-1]
    return phase_paths(phase, root)


def cmd_phases(args) -> int:
    from thinka.paths import find_project, list_phases

    root = find_project(args.root)
    for phase in list_phases(root):
        print(phase)
    return EXIT_OK


def cmd_validate(args) -> int:
    from thinka.validate import format_violations, validate_phase

    paths = _paths(args)
    report = validate_phase(paths)
    if report.violations:
        print(format_violations(report, limit=args.limit), file=sys.stderr)
        for line in _describe_mappings(report):
            print(f"  {line}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"Phase {paths.phase}: all instrument files are valid.")
    for line in _describe_files(report) + _describe_mappings(report):
        print(f"  {line}")
    return EXIT_OK


def _describe_mappings(report) -> list[str]:
    """For each mapped export: the incomplete responses left out and the export columns nothing used."""
    lines = []
    for iid, result in sorted(getattr(report, "mappings", {}).items()):
        source = result.table.name
        mapping = result.mapping.name if result.mapping else "its mapping"
        rows = ", ".join(str(r) for r in result.dropped)
        left_out = f"{len(result.dropped)} incomplete response(s) left out" + (f" (rows {rows})" if rows else "")
        lines.append(f"{iid}: mapped from {source} with {mapping}; {left_out}")
        unused = ", ".join(result.unused) if result.unused else "none"
        lines.append(f"{iid}: export columns not used (neither mapped nor ignored): {unused}")
    return lines


def _describe_files(report) -> list[str]:
    lines = []
    for name, count in sorted(report.row_counts.items()):
        info = report.files.get(name) if hasattr(report, "files") else None
        detail = ""
        if info is not None:
            parts = [getattr(info, "format", None), getattr(info, "encoding", None), _sep_name(getattr(info, "separator", None))]
            detail = " (" + ", ".join(p for p in parts if p) + ")"
        lines.append(f"{name}: {count} rows{detail}")
    return lines


def _sep_name(sep: str | None) -> str | None:
    return {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated"}.get(sep or "", None)


def cmd_process(args) -> int:
    from thinka.process import process_phase

    paths = _paths(args)
    result = process_phase(paths, force=args.force)
    state = "up to date (inputs unchanged)" if result.cached else "written"
    print(f"Phase {paths.phase}: processed tables {state} in {paths.processed}")
    for name in sorted(result.outputs):
        print(f"  {name}")
    return EXIT_OK


def _facts_and_tables(paths):
    from thinka.api import load_tables
    from thinka.codebook import load_codebook, load_phase
    from thinka.facts import compute_facts

    tables = load_tables(paths.phase, root=paths.root)
    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    return compute_facts(tables, config, codebook), tables


def cmd_compare(args) -> int:
    from thinka.published import compare, format_comparison, load_register

    paths = _paths(args)
    if not paths.published.is_file():
        raise ThinkaError(
            f"Phase {paths.phase} has no register of printed figures ({paths.published}).",
            hint="The comparison is for phases that reproduce an earlier printed edition.",
        )
    facts, tables = _facts_and_tables(paths)
    table = compare(load_register(paths.published), facts, tables)
    print(format_comparison(table))
    return EXIT_PROBLEMS if (table["status"] == "MISMATCH").any() else EXIT_OK


def cmd_check_texts(args) -> int:
    from thinka.codebook import load_codebook, load_phase
    from thinka.facts import FactKeys
    from thinka.texts import check_texts, format_text_issues
    from thinka.validate import ValidationError

    paths = _paths(args)
    try:
        facts, _ = _facts_and_tables(paths)
        numbers, done = True, f"every number in {paths.texts} matches the data"
    except ValidationError:
        # A new phase before its exports are in (or while they do not validate): the keys can be checked already.
        facts, numbers = FactKeys(load_phase(paths.config), load_codebook(paths.codebook)), False
        done = (f"every fact key in {paths.texts} exists; the numbers are checked once `thinka validate` "
                "passes (the data are missing or not valid yet)")
    issues = check_texts(paths.texts, facts, numbers=numbers)
    if issues:
        print(format_text_issues(issues), file=sys.stderr)
        if not numbers:
            print("Only fact keys were checked: the phase's data are missing or not valid yet.", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"Phase {paths.phase}: {done}.")
    return EXIT_OK


def cmd_template(args) -> int:
    from thinka.codebook import load_codebook, load_phase
    from thinka.entry_template import write_template
    from thinka.io import sha256_file

    paths = _paths(args)
    out = Path(args.out) if args.out else paths.build / f"erfassungsvorlage-{paths.phase}.xlsx"
    if paths.raw.resolve() in (out.resolve(), *out.resolve().parents):
        raise ThinkaError(f"{out} lies in the raw data folder, which thinka never writes.",
                          hint="Write the template elsewhere; the office puts the filled-in copy into the phase folder.")
    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    write_template(out, config, codebook, sha256_file(paths.codebook))
    print(f"Entry template for phase {paths.phase} ({len(config.instruments)} instruments): {out}")
    print("Fill it in, put the copy into the phase folder, name it as the instruments' file in phase.yaml, "
          "then run `thinka validate`.")
    return EXIT_OK


def cmd_init(args) -> int:
    from thinka.scaffold import default_phase, init_project

    created = init_project(Path(args.folder), programme=args.programme, phase=args.phase or default_phase())
    print(f"Created a thinka project in {created.root} ({len(created.files)} files).")
    _print_steps(created.next_steps)
    return EXIT_OK


def cmd_new_phase(args) -> int:
    from thinka.paths import find_project
    from thinka.scaffold import new_phase

    created = new_phase(find_project(args.root), args.new, args.source)
    print(f"Created phase {args.new} from {args.source}: configuration, codebook, mappings and texts; no data.")
    _print_steps(created.next_steps)
    return EXIT_OK


def _print_steps(steps: list[str]) -> None:
    print("Next:")
    for i, step in enumerate(steps, start=1):
        print(f"  {i}. {step}")


def cmd_build(args) -> int:
    from thinka.build import build_phase

    paths = _paths(args)
    sites = [s.strip() for s in args.sites.split(",") if s.strip()] if args.sites else None
    started = time.perf_counter()
    result = build_phase(
        paths,
        sites=sites,
        jobs=args.jobs,
        engine=args.engine,
        progress=not args.no_progress,
        pdf=not args.no_pdf,
        pdf_variant=args.pdf_variant,
    )
    elapsed = time.perf_counter() - started
    print(result.summary() if hasattr(result, "summary") else str(result))
    print(f"({elapsed:.1f} s)")
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def cmd_notebooks(args) -> int:
    from thinka.codebook import load_codebook
    from thinka.notebook_gen import write_project_notebooks

    paths = _paths(args)
    codebook = load_codebook(paths.codebook)
    written = write_project_notebooks(paths, codebook, force=args.force)
    print(f"Wrote {len(written)} notebook(s) generated from the codebook of phase {paths.phase}:")
    for path, dim in zip(written, codebook.dimensions):
        sections = codebook.sections_of(dim.id)
        charts = sum(len(codebook.schaubilder_of(s.id)) for s in sections)
        print(f"  {path.relative_to(paths.root)}  ({dim.id}: {len(sections)} sections, {charts} Schaubilder)")
    print("Open them in JupyterLab (`jupyter lab notebooks/`). From now on `thinka build` runs these copies instead of "
          "the generated notebooks, for every phase, edited or not; delete a copy to go back to the generated one. "
          "A copy does not follow later changes of codebook.yaml: `thinka notebooks --force` writes it anew.")
    return EXIT_OK


def cmd_audit(args) -> int:
    from thinka.audit import ItemInfo, audit_published, format_findings
    from thinka.codebook import load_codebook, load_phase
    from thinka.publish_csv import read_published

    paths = _paths(args)
    daten = paths.report / "daten"
    if not daten.is_dir():
        raise ThinkaError(f"No published data files in {daten}.", hint="Run `thinka build` first.")
    config, codebook = load_phase(paths.config), load_codebook(paths.codebook)
    items = {i: ItemInfo(item.instrument, item.is_multiple_response) for i, item in codebook.items.items()}
    findings = audit_published(read_published(daten), items, config.disclosure)
    for line in format_findings(findings):
        print(line)
    units = len({(f.item, f.site) for f in findings})
    if findings:
        print(f"Phase {paths.phase}: {len(findings)} hidden values of {units} hidden site values are derivable "
              f"from {daten}.", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"Phase {paths.phase}: no hidden value is derivable from the files in {daten}.")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from thinka.renderers import DEFAULT_ENGINE, RENDERERS

    parser = argparse.ArgumentParser(
        prog="thinka",
        description="Validate, process and publish the monitoring Datenreport of a funding phase (Förderphase).",
    )
    parser.add_argument("--version", action="version", version=f"thinka {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback for unexpected errors")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--phase", help="funding phase, e.g. 2013-2014 (default: the newest under data/raw/)")
    common.add_argument("--root", help="project folder (holds thinka.yaml; default: $THINKA_ROOT, else the nearest folder "
                        "with a thinka.yaml from the working directory upwards)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a new programme's project folder (thinka.yaml, .gitignore, a first phase)")
    p.add_argument("folder", nargs="?", default=".", help="the project folder (created if missing; default: here)")
    p.add_argument("--programme", default="Mein Programm", help="the programme's name")
    p.add_argument("--phase", help="the first Förderphase, e.g. 2025-2026 (default: this year and the next)")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("new-phase", help="start a Förderphase from the previous one (configuration and texts, no data)")
    p.add_argument("new", help="the new phase, e.g. 2015-2016")
    p.add_argument("--from", dest="source", required=True, help="the phase to carry configuration and texts over from")
    p.add_argument("--root", help="project folder (default: found from the working directory)")
    p.set_defaults(func=cmd_new_phase)
    p = sub.add_parser("template", parents=[common], help="write an XLSX entry template from the codebook "
                       "(one sheet per instrument, drop-down lists of the scales' codes and labels)")
    p.add_argument("--out", help="the workbook to write (default: build/<phase>/erfassungsvorlage-<phase>.xlsx)")
    p.set_defaults(func=cmd_template)
    p = sub.add_parser("phases", parents=[common], help="list the phases under data/raw/")
    p.set_defaults(func=cmd_phases)
    p = sub.add_parser("validate", parents=[common], help="check every raw file against phase.yaml and codebook.yaml")
    p.add_argument("--limit", type=int, default=None, help="print at most this many violations")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("process", parents=[common], help="validate, clean and aggregate into data/processed/<phase>/")
    p.add_argument("--force", action="store_true", help="rewrite the tables even if the inputs are unchanged")
    p.set_defaults(func=cmd_process)
    p = sub.add_parser("compare", parents=[common], help="list every printed figure next to the reproduced one")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("check-texts", parents=[common], help="report sentences whose numbers no longer match the data")
    p.set_defaults(func=cmd_check_texts)
    p = sub.add_parser("build", parents=[common], help="run the notebooks per site and stitch report/<phase>/ (HTML and PDF)")
    p.add_argument("--sites", help="comma-separated site codes to build (default: all sites)")
    p.add_argument("--jobs", type=int, default=None, help="parallel notebook processes (default: up to 3, one per core)")
    p.add_argument("--engine", choices=list(RENDERERS), default=DEFAULT_ENGINE, help="how to render (quarto needs a `quarto` on PATH)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    p.add_argument("--pdf-variant", help="pdf/ua-1 (accessible, the default) or pdf/a-3a / pdf/a-2a (archiving, tagged); "
                   "default: report.pdf_variant of the configuration")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("notebooks", parents=[common], help="write the report notebooks generated from the codebook "
                       "into notebooks/, to open and edit in JupyterLab (an edited copy wins in builds)")
    p.add_argument("--force", action="store_true", help="overwrite notebooks that exist (edits in them are lost)")
    p.set_defaults(func=cmd_notebooks)
    p = sub.add_parser("audit", parents=[common], help="check that no hidden site value can be derived from report/<phase>/daten/")
    p.set_defaults(func=cmd_audit)
    return parser


def _stdout_to_devnull() -> None:
    """Point the stdout file descriptor at /dev/null, so that the flush at interpreter exit cannot fail again on
    the closed pipe (the recipe of the Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (e.g. captured in tests)
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # `thinka ... | head -1`: the reader has what it wanted. No message: it is not an error of the command.
        _stdout_to_devnull()
        return EXIT_PIPE
    except ThinkaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in thinka, not a problem with the input
        if args.debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in thinka. Run again with --debug for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
