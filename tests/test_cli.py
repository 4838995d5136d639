"""The command line: every command leaves data/raw/ byte-identical, and user errors end without a traceback."""

from __future__ import annotations

import pytest
from conftest import REPO

from thinka import cli

SHIPPED_RAW = REPO / "data" / "raw" / "2013-2014"


@pytest.mark.parametrize("command", ["phases", "validate", "process", "compare", "check-texts"])
def test_command_succeeds_and_leaves_raw_files_untouched(command, phase_copy, capsys, tree_digest):
    before = tree_digest(phase_copy.raw)
    argv = [command, "--root", str(phase_copy.root)] + ([] if command == "phases" else ["--phase", phase_copy.phase])
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert tree_digest(phase_copy.raw) == before


def test_build_leaves_raw_files_untouched(full_build, tree_digest):
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


def _break_data(paths):
    path = paths.raw / "projektstatistik.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2014-Q4", "2015-Q3", 1), encoding="utf-8")


@pytest.mark.parametrize("command", ["validate", "process", "build"])
def test_data_violations_exit_1_in_every_command(command, phase_copy, capsys):
    _break_data(phase_copy)
    argv = [command, "--root", str(phase_copy.root), "--phase", phase_copy.phase]
    assert cli.main(argv + (["--no-pdf", "--no-progress"] if command == "build" else [])) == 1
    err = capsys.readouterr().err
    assert "projektstatistik.csv" in err and "2015-Q3" in err and "Traceback" not in err
    assert not (phase_copy.root / "report").exists()


@pytest.mark.parametrize("command", ["validate", "process", "build"])
def test_unusable_configuration_exits_2_in_every_command(command, phase_copy, capsys):
    text = phase_copy.config.read_text(encoding="utf-8")
    phase_copy.config.write_text(text.replace('code: "S04"', 'code: "../../../../tmp/S04"', 1), encoding="utf-8")
    argv = [command, "--root", str(phase_copy.root), "--phase", phase_copy.phase]
    assert cli.main(argv + (["--no-pdf", "--no-progress"] if command == "build" else [])) == 2
    err = capsys.readouterr().err
    assert "sites[3].code" in err and "'../../../../tmp/S04'" in err and "Hint:" in err and "Traceback" not in err
    assert sorted(p.name for p in phase_copy.root.iterdir()) == ["data", "thinka.yaml"], "nothing written"


def test_validate_reports_a_tab_separated_file(phase_copy, capsys):
    path = phase_copy.raw / "projektstatistik.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(";", "\t"), encoding="utf-8")
    assert cli.main(["validate", "--root", str(phase_copy.root), "--phase", phase_copy.phase]) == 0
    assert "projektstatistik: 88 rows (csv, utf-8, tab-separated)" in capsys.readouterr().out


def test_unsafe_phase_argument_is_refused(phase_copy, capsys):
    assert cli.main(["validate", "--root", str(phase_copy.root), "--phase", "../raw/2013-2014"]) == 2
    assert "not allowed" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["phases", "validate"])
def test_a_closed_pipe_ends_quietly_with_141(command, tmp_path):
    """`thinka validate | head -1`: the reader goes away; thinka stops without 'internal error' or a traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before thinka writes a byte
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run([sys.executable, "-m", "thinka.cli", command, "--root", str(REPO)], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=tmp_path, env=env, timeout=300)
    finally:
        os.close(write_end)
    assert done.stderr.decode() == ""
    assert done.returncode == cli.EXIT_PIPE == 141
