"""``gigaplan sweep``: plan the Cartesian product of varied site keys.

``--vary power.budget=0.5GW:2GW:0.25GW`` (a range, START:STOP:STEP, inclusive, in one unit)
or ``--vary power.pue=1.1,1.2,1.3`` (a list). Every combination becomes one batch row, so
sweeps run in parallel exactly like ``gigaplan batch``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from gigaplan.errors import SiteError
from gigaplan.inputs.catalog import read_toml
from gigaplan.inputs.site import check_key, parse_set
from gigaplan.inputs.units import MAX_QUANTITY_CHARS, shorten, split_number
from gigaplan.studies.batch import Row

SCHEMA = "gigaplan.sweep/1"
MAX_POINTS = 100_000
MAX_EXPONENT = 300  # range ends and steps stay well inside float range (about 1e308)


@dataclass(frozen=True)
class SweepResult:
    """Every combination of the varied keys and its batch result line, in order."""

    keys: list[str]
    combos: list[tuple[Any, ...]]
    lines: list[dict[str, Any]]

    @property
    def records(self) -> list[dict[str, Any]]:
        """Each line with its combination as ``vary.<key>`` columns first."""
        return [{**{f"vary.{key}": value for key, value in zip(self.keys, combo, strict=True)},
                 **line} for combo, line in zip(self.combos, self.lines, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.sweep/1`` document.

        Returns
        -------
        dict
            The document as plain values.
        """
        return {"schema": SCHEMA, "vary": self.keys, "rows": self.records}


@dataclass(frozen=True)
class Vary:
    key: str
    values: tuple[Any, ...]


def _split(text: str, spec: str) -> tuple[Decimal, str]:
    parts = split_number(text)
    if parts is None:
        raise SiteError(f"--vary {spec}: {text!r} is not a number with an optional unit")
    number, currency, unit = parts
    if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise SiteError(f"--vary {spec}: {text.strip()!r} is out of range (between "
                        f"1e-{MAX_EXPONENT} and 1e{MAX_EXPONENT})")
    return number, currency + "|" + unit


def parse_vary(spec: str) -> Vary:
    """``KEY=START:STOP:STEP`` or ``KEY=A,B,C`` into the values to set ``KEY`` to.

    Parameters
    ----------
    spec : str
        ``KEY=START:STOP:STEP`` or ``KEY=A,B,C``.

    Returns
    -------
    Vary
        The key and the values to set it to.
    """
    key, sep, text = spec.partition("=")
    key = key.strip()
    spec = shorten(spec)
    if not sep or not key or not text.strip():
        raise SiteError(f"--vary {spec!r}: expected KEY=START:STOP:STEP or KEY=A,B,C")
    check_key(key)
    if ":" in text and "," not in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise SiteError(f"--vary {spec}: a range is START:STOP:STEP")
        (start, unit), (stop, unit_stop), (step, unit_step) = (_split(p, spec) for p in parts)
        if len({unit, unit_stop, unit_step}) != 1:
            raise SiteError(f"--vary {spec}: write START, STOP and STEP in one unit")
        if step <= 0 or stop < start:
            raise SiteError(f"--vary {spec}: needs STEP > 0 and STOP >= START")
        span = (stop - start) / step  # at most 1e600: well inside Decimal's range
        if span >= MAX_POINTS:
            raise SiteError(f"--vary {spec}: {float(span) + 1:,.0f} points is more than "
                            f"{MAX_POINTS:,}")
        count = int(span) + 1
        currency, suffix = unit.split("|", 1)
        values = tuple(_render(start + i * step, currency, suffix) for i in range(count))
    else:
        values = tuple(_listed(key, item.strip(), spec) for item in text.split(",")
                       if item.strip())
    if not values:
        raise SiteError(f"--vary {spec}: no values")
    return Vary(key, values)


def _listed(key: str, item: str, spec: str) -> Any:
    """One value of ``KEY=A,B,C``: a finite TOML value or a quantity string of sane length."""
    if len(item) > MAX_QUANTITY_CHARS:
        raise SiteError(f"--vary {spec}: a value of {len(item):,} characters (at most "
                        f"{MAX_QUANTITY_CHARS})")
    value = parse_set(f"{key}={item}")[1]
    if isinstance(value, float) and not math.isfinite(value):
        raise SiteError(f"--vary {spec}: {item!r} is not a finite number")
    return value


def _render(number: Decimal, currency: str, unit: str) -> Any:
    text = format(number.normalize(), "f")
    if not currency and not unit:
        value = float(text)
        return int(value) if value.is_integer() else value
    return f"{currency}{text} {unit}".strip() if unit else f"{currency}{text}"


def rows(site: str | Path | None, varies: list[Vary], sets: list[tuple[str, Any]],
         catalogs: tuple[str, ...]) -> list[Row]:
    """One batch row per combination, the first varied key changing slowest.

    Parameters
    ----------
    site : str, pathlib.Path or None
        The site file; the embedded default site when None.
    varies : list of Vary
        The varied keys.
    sets : list of tuple of (str, Any)
        Overrides applied to every row.
    catalogs : tuple of str
        User catalog files.

    Returns
    -------
    list of Row
        One batch row per combination.
    """
    keys = [vary.key for vary in varies]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:  # the later one silently won, and the table labelled its rows wrongly
        raise SiteError(f"--vary {', '.join(twice)}: given more than once; list every value "
                        "in one --vary (KEY=A,B,C)")
    both = sorted(set(keys) & {key for key, _ in sets})
    if both:
        raise SiteError(f"--vary {', '.join(both)}: also given to --set, which the varied "
                        "values would override; vary it or set it")
    total = 1
    for vary in varies:
        total *= len(vary.values)
    if total > MAX_POINTS:
        raise SiteError(f"--vary: {total:,} combinations is more than {MAX_POINTS:,}")
    # the site file is read here, once: a missing or invalid file is one error before any
    # row runs, and every row carries the table (a Dask worker has none of our files)
    table = None if site is None else read_toml(Path(site), SiteError)
    source = "" if site is None else str(site)
    result = []
    for number, combo in enumerate(itertools.product(*(v.values for v in varies)), start=1):
        assignment = tuple(sets) + tuple((v.key, value) for v, value in
                                         zip(varies, combo, strict=True))
        result.append(Row(id=str(number), site=table, sets=assignment, catalogs=catalogs,
                          source=source))
    return result
