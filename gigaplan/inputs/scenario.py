"""One scenario, end to end: site file + overrides + catalog -> bound site.

Shared by ``plan``, ``check``, ``batch``, ``sweep``, ``explain`` and ``diff`` so that each
reads its inputs the same way: flags override ``--set``, which overrides the site file, which
overrides the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gigaplan.inputs.catalog import Catalog, load_catalog
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

    def bind(self, catalog: Catalog | None = None) -> BoundSite:
        for key, _ in self.overrides:
            check_key(key, self.origin)
        pairs = [parse_set(item) for item in self.sets] + list(self.overrides)
        site, source = load_site(self.site, pairs, list(self.require), source=self.source)
        return bind(site, catalog or load_catalog(self.catalogs), source)


def flag_overrides(flags: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The flags that were given, as overrides (a flag left out is None)."""
    return tuple((key, value) for key, value in flags.items() if value is not None)
