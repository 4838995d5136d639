"""Renderer registry: engines by name, a clear error for an unknown one, quarto renders beside the stitched report."""

from __future__ import annotations

from pathlib import Path

import pytest

from thinka import renderers
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths


def test_registry_holds_nbconvert_and_quarto_with_nbconvert_the_default():
    assert list(renderers.RENDERERS) == ["nbconvert", "quarto"]
    assert renderers.DEFAULT_ENGINE == "nbconvert"
    assert all(issubclass(cls, renderers.Renderer) and cls.name == name for name, cls in renderers.RENDERERS.items())


def test_unknown_engine_names_the_value_and_the_allowed_ones():
    with pytest.raises(ThinkaError) as err:
        renderers.get_renderer("latex")
    text = str(err.value) + (err.value.hint or "")
    assert "'latex'" in text and "nbconvert, quarto" in text and "--engine nbconvert" in text


def test_the_command_line_offers_every_registered_engine():
    from thinka.cli import build_parser

    args = build_parser().parse_args(["build", "--engine", "quarto"])
    assert args.engine == "quarto"
    assert build_parser().parse_args(["build"]).engine == "nbconvert"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["build", "--engine", "latex"])


def test_the_build_chooses_the_engine_through_the_registry_only():
    source = (Path(renderers.__file__).parent / "build.py").read_text(encoding="utf-8")
    assert '"quarto"' not in source and "thinka.quarto" not in source and "thinka.stitch" not in source


def _fake_stitch(paths, out_dir, notebooks, *, code_hash):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "datenreport.html").write_text(code_hash)
    return [out_dir / "datenreport.html"]


def test_nbconvert_stitches_and_quarto_renders_in_addition(tmp_path, monkeypatch):
    from thinka import quarto, stitch

    monkeypatch.setattr(stitch, "stitch_phase", _fake_stitch)
    monkeypatch.setattr(quarto, "render_merged_with_quarto",
                        lambda paths, out_dir, notebooks: [out_dir / "quarto" / "datenreport.html"])
    paths = PhasePaths(tmp_path, "2013-2014")
    plain = renderers.get_renderer("nbconvert").render(paths, tmp_path / "a", {}, code_hash="h")
    both = renderers.get_renderer("quarto").render(paths, tmp_path / "b", {}, code_hash="h")
    assert plain == [tmp_path / "a" / "datenreport.html"]
    assert both == [tmp_path / "b" / "datenreport.html", tmp_path / "b" / "quarto" / "datenreport.html"]


def test_quarto_check_refuses_a_missing_quarto_nbconvert_needs_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    renderers.get_renderer("nbconvert").check()
    with pytest.raises(ThinkaError, match="quarto"):
        renderers.get_renderer("quarto").check()
