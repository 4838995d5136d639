"""Renderers: how the executed unit notebooks become the files of report/<phase>/ (a registry of engines).

Each renderer names itself (`thinka build --engine NAME`), says whether the tool it needs is there (`check`, run
before any unit executes) and writes its files into the folder being built (`render`). The build knows renderers
only through `get_renderer`; a new engine is one class registered here, not a branch in the build.

- `nbconvert` (default): the stitched report (thinka.stitch): datenreport.html, standorte/<site>.html, daten/*.csv.
- `quarto`: everything `nbconvert` writes, and in addition the overall notebooks rendered by a `quarto` found on
  PATH into quarto/ (thinka.quarto).

The stages are imported when a renderer runs: they pull in nbconvert, pandas and matplotlib.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar, Mapping

from thinka.errors import ThinkaError
from thinka.paths import PhasePaths

Notebooks = Mapping[tuple[str, str], Path]


class Renderer(ABC):
    """One way to turn the executed notebooks into report files."""

    name: ClassVar[str]

    def check(self) -> None:
        """Raise a ThinkaError (with a hint) when a tool this renderer needs is missing; nothing by default."""

    @abstractmethod
    def render(self, paths: PhasePaths, out_dir: Path, notebooks: Notebooks, *, code_hash: str) -> list[Path]:
        """Write the report's files into `out_dir` (the new report folder); return every file written.

        `notebooks` maps (dimension, site) to the executed notebook; `code_hash` is printed in the colophon."""


RENDERERS: dict[str, type[Renderer]] = {}


def register(cls: type[Renderer]) -> type[Renderer]:
    """Class decorator: make `cls` available as `thinka build --engine <cls.name>`."""
    RENDERERS[cls.name] = cls
    return cls


@register
class NbconvertRenderer(Renderer):
    """The stitched, self-contained HTML report through nbconvert, its site pages and the chart data."""

    name = "nbconvert"

    def render(self, paths: PhasePaths, out_dir: Path, notebooks: Notebooks, *, code_hash: str) -> list[Path]:
        from thinka import stitch

        return stitch.stitch_phase(paths, out_dir, notebooks, code_hash=code_hash)


@register
class QuartoRenderer(NbconvertRenderer):
    """What nbconvert renders, plus the overall notebooks rendered once more by quarto into quarto/."""

    name = "quarto"

    def check(self) -> None:
        from thinka.quarto import require_quarto

        require_quarto()

    def render(self, paths: PhasePaths, out_dir: Path, notebooks: Notebooks, *, code_hash: str) -> list[Path]:
        from thinka.quarto import render_merged_with_quarto

        written = super().render(paths, out_dir, notebooks, code_hash=code_hash)
        written.extend(render_merged_with_quarto(paths, out_dir, notebooks))
        return written


DEFAULT_ENGINE = NbconvertRenderer.name


def get_renderer(name: str) -> Renderer:
    """The registered renderer called `name`; an unknown name is refused with the allowed ones."""
    try:
        return RENDERERS[name]()
    except KeyError:
        raise ThinkaError(
            f"Unknown engine {name!r}; choose one of {', '.join(RENDERERS)}.",
            hint=f"The default engine is {DEFAULT_ENGINE}: thinka build --engine {DEFAULT_ENGINE}.",
        ) from None
