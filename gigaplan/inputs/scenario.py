"""One scenario, end to end: site file + overrides + catalog -> bound site.

Shared by ``plan``, ``check``, ``batch``, ``sweep``, ``explain`` and ``diff`` so that each
reads its inputs the same way: flags override ``--set``, which overrides the site file, which
overrides the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gigaplan.errors import SiteError
from gigaplan.inputs.catalog import Catalog, load_catalog, read_toml, ship_catalogs, shipped_catalog
from gigaplan.inputs.requirements import parse_requirement
from gigaplan.inputs.site import BoundSite, bind, check_key, load_site, parse_set


@dataclass(frozen=True)
class Scenario:
    """Where a site comes from and what overrides it."""

    site: str | Path | dict[str, Any] | None = None  # a file, an inline table, or the default
    sets: tuple[str, ...] = ()  # "dotted.key=VALUE" strings, as --set takes them
    overrides: tuple[tuple[str, Any], ...] = ()  # typed (dotted key, value) pairs: flags
    require: tuple[str, ...] = ()
    catalogs: tuple[str | Path, ...] = ()
    source: str | None = None  # the name of an inline site in messages
    origin: str = "--set"  # where the overrides come from, for messages
    # (dotted key, label) for overrides that came from a named flag: ("power.budget", "--power")
    labels: tuple[tuple[str, str], ...] = ()
    catalog_texts: tuple[tuple[str, str], ...] = ()  # catalogs already read: (name, text)

    def bind(self, catalog: Catalog | None = None) -> BoundSite:
        """Read, override, validate and bind the site: the one way every command loads it.

        Parameters
        ----------
        catalog : Catalog or None, default None
            The catalog to bind to; the scenario's (bundled plus its files) when None.

        Returns
        -------
        BoundSite
            The validated site with its SKUs resolved.
        """
        for key, _ in self.overrides:
            check_key(key, self.origin)
        problems = []
        for text in self.require:
            try:
                parse_requirement(text)
            except SiteError as error:
                problems.append(f"--require {error}")
        if problems:
            raise SiteError.listing(problems)
        pairs = [parse_set(item) for item in self.sets] + list(self.overrides)
        try:
            site, source = load_site(self.site, pairs, list(self.require), source=self.source)
        except SiteError as error:
            raise SiteError.listing([self._blame(line) for line in error.problems]) from None
        if catalog is None:
            catalog = shipped_catalog(self.catalog_texts) if not self.catalogs else \
                load_catalog(self.catalogs, texts=self.catalog_texts)
        try:
            return replace(bind(site, catalog, source), flags=self.labels,
                           required=tuple(text.strip() for text in self.require))
        except SiteError as error:
            raise SiteError.listing([self._blame(line) for line in error.problems]) from None

    def _blame(self, problem: str) -> str:
        """``FILE: key: message`` about a key that a flag, ``--set`` or a batch row set
        becomes ``--power: message`` or ``--set power.budget: message``: the input to fix."""
        flagged = dict(self.labels)
        given = [key for key, _ in self.overrides] + [parse_set(item)[0] for item in self.sets]
        for key in sorted(set(given), key=len, reverse=True):
            for marker in (f": {key}: ", f": {key}.", f": {key}["):
                at = problem.find(marker)
                if at < 0:
                    continue
                label = flagged.get(key)
                if label is None:
                    origin = "--set" if key in dict(parse_set(i) for i in self.sets) \
                        and key not in dict(self.overrides) else self.origin
                    label = f"{origin} {key}"
                rest = problem[at + len(marker):]
                if marker.endswith("[") and "]: " in rest:  # compute.skus[0]: the item
                    rest = rest.split("]: ", 1)[1]
                return f"{label}: {rest}" if not marker.endswith(".") else \
                    f"{label}: {key}.{rest}"
        return problem

    def shipped(self) -> Scenario:
        """This scenario with its files' contents in place of their paths.

        What a worker on another machine needs: the site file as its table (named as the
        file, so messages are the same) and the user catalogs as text. A missing or invalid
        file raises here, once, before any task is sent.

        Returns
        -------
        Scenario
            The self-contained scenario.
        """
        site, source = self.site, self.source
        if isinstance(site, str | Path):
            source = str(site)
            site = read_toml(Path(site), SiteError)
        texts = self.catalog_texts + ship_catalogs(self.catalogs)
        return replace(self, site=site, source=source, catalogs=(), catalog_texts=texts)


def flag_overrides(flags: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The flags that were given, as overrides (a flag left out is None).

    Parameters
    ----------
    flags : dict of str to Any
        Site key to flag value; None for a flag not given.

    Returns
    -------
    tuple of tuple of (str, Any)
        The (site key, value) pairs of the flags given.
    """
    return tuple((key, value) for key, value in flags.items() if value is not None)
