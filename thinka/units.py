"""Units: one notebook run for one site (or for `all`), the grain of the build, its cache and the published data.

A unit is (kind, site): kind is a codebook dimension or `thinka.COMPARISON` (the comparison with the previous
Förderphase), site a site code of phase.yaml or `thinka.ALL_SITES`. The build executes and caches units
(thinka.build); the published CSVs read the same bundles the notebooks read (thinka.publish_csv). This module
imports neither of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from thinka import ALL_SITES, COMPARISON
from thinka.errors import ThinkaError
from thinka.paths import PhasePaths


@dataclass(frozen=True, order=True)
class Unit:
    dimension: str
    site: str

    @property
    def name(self) -> str:
        """File stem of the unit's executed notebook, e.g. 'sozialraum-S01', 'verwaltung-all'."""
        return f"{self.dimension}-{self.site}"


def unit_kinds(config, codebook) -> list[str]:
    """The codebook's dimensions, then the comparison with the previous phase if phase.yaml names one."""
    return [*(d.id for d in codebook.dimensions), *([COMPARISON] if config.previous_phase else [])]


def plan_units(config, codebook, sites: Iterable[str] | None = None) -> list[Unit]:
    """Units in report order: per dimension (and the comparison), `all` first, then the sites in phase.yaml order."""
    wanted = [ALL_SITES, *config.site_codes]
    if sites is not None:
        sites = list(dict.fromkeys(sites))
        unknown = [s for s in sites if s not in wanted]
        if unknown:
            raise ThinkaError(
                f"Unknown site(s) {', '.join(unknown)}; known: {', '.join(wanted)}.",
                hint="Site codes are listed in phase.yaml under `sites`.",
            )
        wanted = [s for s in wanted if s in sites]
    return [Unit(kind, s) for kind in unit_kinds(config, codebook) for s in wanted]


def api_units(paths: PhasePaths, config, codebook, units: Iterable[Unit]) -> dict[Unit, Any]:
    """thinka.api.Unit bundles for `units`, from one read of the processed tables (not one read per unit)."""
    from thinka import api  # lazily: api imports pandas, which the build's planning does not need

    tables = api.load_tables(paths.phase, root=paths.root)
    out = {}
    for u in units:
        name = api.ALL_SITES_LABEL if u.site == ALL_SITES else config.site(u.site).name
        if u.dimension == COMPARISON:
            restricted = api.restrict_comparison(tables, u.site)
        else:
            restricted = api.restrict_tables(tables, config, codebook, u.dimension, u.site)
        out[u] = api.Unit(paths.phase, u.dimension, u.site, name, paths, config, codebook, restricted)
    return out
