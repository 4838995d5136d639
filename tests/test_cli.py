"""The command line: every command leaves data/raw/ byte-identical, and user errors end without a traceback."""

from __future__ import annotations

import pytest
from test_build import REPO, full_build, session_build, tree_digest  # noqa: F401 (fixture)

from thinka import cli

SHIPPED_RAW = REPO / "data" / "raw" / "2013-2014"


@pytest.mark.parametrize("command", ["phases", "validate", "process", "compare", "check-texts"])
def test_command_succeeds_and_leaves_raw_files_untouched(command, phase_copy, capsys):
    before = tree_digest(phase_copy.raw)
    argv = [command, "--root", str(phase_copy.root)] + ([] if command == "phases" else ["--phase", phase_copy.phase])
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert tree_digest(phase_copy.raw) == before


def test_build_leaves_raw_files_untouched(full_build):
    paths, result, _ = full_build
    assert result.ok
    assert tree_digest(paths.raw) == tree_digest(SHIPPED_RAW)


def test_bad_input_is_reported_without_traceback(phase_copy, capsys):
    path = phase_copy.raw / "projektstatistik.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2014-Q4", "2015-Q3", 1), encoding="utf-8")
    assert cli.main(["process", "--root", str(phase_copy.root), "--phase", phase_copy.phase]) != 0
    err = capsys.readouterr().err
    assert "projektstatistik.csv" in err and "2015-Q3" in err and "quartal" in err
    assert "Traceback" not in err


def test_unknown_phase_names_the_known_ones(phase_copy, capsys):
    assert cli.main(["validate", "--root", str(phase_copy.root), "--phase", "2099-2100"]) == 2
    err = capsys.readouterr().err
    assert "Unknown phase '2099-2100'" in err and "2013-2014" in err
