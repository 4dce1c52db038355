"""The public Python API: load a catalog and a site, plan it (docs/api.md).

Everything else in the package is private by convention: its names may change between
releases. These three functions and :class:`~gigaplan.result.PlanResult` will not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gigaplan.inputs.catalog import Catalog
from gigaplan.inputs.catalog import load_catalog as _load_catalog
from gigaplan.inputs.scenario import Scenario
from gigaplan.inputs.site import BoundSite
from gigaplan.planner import plan as _plan
from gigaplan.result import PlanResult


def load_catalog(*paths: str | Path, bundled: bool = True) -> Catalog:
    """The SKU catalog: the bundled one, then each file adding or overriding SKUs by id.

    Parameters
    ----------
    *paths
        Catalog TOML files (docs/catalog.md describes the format).
    bundled
        Start from the bundled catalog (``catalogs/*.toml``); False uses only ``paths``.

    Returns
    -------
    Catalog
        Every SKU by id, each validated (units in field names: ``power_kw``, ``price_usd``).

    Raises
    ------
    gigaplan.errors.CatalogError
        Listing every problem in every file, as ``FILE: dotted.key: message``.
    """
    return _load_catalog(paths, bundled=bundled)


def load_site(path: str | Path | Mapping[str, Any] | None = None, *,
              overrides: Mapping[str, Any] | None = None, require: Sequence[str] = (),
              catalog: Catalog | None = None) -> BoundSite:
    """A site, validated and bound to a catalog: ready for :func:`plan`.

    Parameters
    ----------
    path
        A site TOML file, a table of site keys (as the file would hold them), or None for the
        embedded default site (``gigaplan init`` writes it out).
    overrides
        Dotted site keys and values, as ``--set`` takes them: ``{"power.budget": "500 MW"}``.
    require
        Requirements added to the site's own, e.g. ``"totals.gpus >= 100000"``.
    catalog
        The catalog to bind against; None loads the bundled one.

    Returns
    -------
    BoundSite
        The site (``.site``) with every SKU reference resolved against the catalog.

    Raises
    ------
    gigaplan.errors.SiteError
        Listing every problem as ``FILE: dotted.key: message``.
    """
    site = dict(path) if isinstance(path, Mapping) else path
    scenario = Scenario(site=site, overrides=tuple((overrides or {}).items()),
                        require=tuple(require), origin="overrides")
    return scenario.bind(catalog)


def plan(site: BoundSite | str | Path | None = None, *, time_limit_s: float | None = None
         ) -> PlanResult:
    """The provably best build-out of a site (or the best found within the time limit).

    Parameters
    ----------
    site
        A site from :func:`load_site`, or a site file (None: the embedded default site).
    time_limit_s
        Stop the solver after this many seconds and return the best plan found.

    Returns
    -------
    PlanResult
        ``status`` is ``optimal``, ``time_limit`` or ``infeasible`` (then ``message`` and
        ``conflicts`` say which limits clash); ``to_dict()`` is the JSON document of
        ``gigaplan plan --format json`` (docs/json.md).
    """
    bound = site if isinstance(site, BoundSite) else load_site(site)
    return _plan(bound, time_limit_s=time_limit_s)
