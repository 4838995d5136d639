"""Optional quarto engine: command line, call through a fake `quarto`, and the message when it is absent."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from thinka import quarto
from thinka.errors import ThinkaError

FAKE = """#!/bin/sh
# Records its arguments; "renders" by creating the output folder with one file.
printf '%s\\n' "$@" > "{log}"
out=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--output-dir" ]; then out="$2"; fi
  shift
done
mkdir -p "$out" && echo "<html></html>" > "$out/datenreport.html"
exit {code}
"""


def fake_quarto(folder: Path, code: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "quarto"
    exe.write_text(FAKE.format(log=folder / "argv.txt", code=code))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


@pytest.fixture
def no_quarto(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_find_quarto_absent(no_quarto):
    assert quarto.find_quarto() is None


def test_missing_quarto_gives_a_clear_message(no_quarto, tmp_path):
    with pytest.raises(ThinkaError) as err:
        quarto.render_with_quarto(tmp_path / "r.ipynb", tmp_path / "out")
    text = str(err.value)
    assert "quarto" in text and "PATH" in text and "quarto.org" in text and "--engine nbconvert" in text


def test_build_with_quarto_engine_fails_early_without_quarto(no_quarto, tmp_path):
    from thinka.build import build_phase
    from thinka.paths import PhasePaths

    # Fails before reading anything: the phase folder does not even exist.
    with pytest.raises(ThinkaError, match="quarto"):
        build_phase(PhasePaths(tmp_path, "2013-2014"), engine="quarto", progress=False)


def test_quarto_command_renders_without_executing(tmp_path, monkeypatch):
    exe = fake_quarto(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    cmd = quarto.quarto_command(tmp_path / "r.ipynb", tmp_path / "out", "html")
    assert cmd[0] == str(exe) and cmd[1:3] == ["render", str(tmp_path / "r.ipynb")]
    assert cmd[cmd.index("--to") + 1] == "html" and cmd[cmd.index("--output-dir") + 1] == str(tmp_path / "out")
    assert "--no-execute" in cmd and "embed-resources:true" in cmd


def test_render_with_fake_quarto_records_argv(tmp_path, monkeypatch):
    exe = fake_quarto(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    src = tmp_path / "r.ipynb"
    src.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    out = quarto.render_with_quarto(src, tmp_path / "out", "html")
    argv = (exe.parent / "argv.txt").read_text().splitlines()
    assert argv == quarto.quarto_command(src, tmp_path / "out", "html")[1:]
    assert (out / "datenreport.html").is_file()


def test_failing_quarto_is_reported(tmp_path, monkeypatch):
    exe = fake_quarto(tmp_path / "bin", code=3)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ThinkaError, match="exit 3"):
        quarto.render_with_quarto(tmp_path / "r.ipynb", tmp_path / "out")
