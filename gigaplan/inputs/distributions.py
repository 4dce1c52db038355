"""Distributions over uncertain inputs, as ``[uncertainty]`` and ``--uncertain`` write them.

``uniform(1.1, 1.3)``, ``normal(66 $/MWh, 8 $/MWh)``, ``triangular(130 kW, 142 kW, 150 kW)``,
``lognormal(3.5 $M, 0.2)`` (median and the standard deviation of the log) or
``choice(1.1, 1.2, 1.3)``. Parsed once, here, for the site's validator and for
:mod:`gigaplan.studies.montecarlo`, which draws the samples.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gigaplan.errors import SiteError
from gigaplan.inputs.units import shorten, split_number
from gigaplan.inputs.values import toml_value

KINDS = {"uniform": 2, "normal": 2, "triangular": 3, "lognormal": 2, "choice": None}
CATALOG_PREFIX = "catalog."
_CALL = re.compile(r"^\s*(?P<kind>[a-z]+)\s*\((?P<args>.*)\)\s*$")
MAX_CHARS = 300  # "triangular($3,500,000 USD, ...)" is far shorter


@dataclass(frozen=True)
class Distribution:
    """A parsed distribution: numeric ``args`` in one ``unit`` (or raw ``choices``)."""

    key: str
    text: str
    kind: str
    args: tuple[float, ...] = ()
    unit: str = ""  # "$|M", "|kW": currency mark and unit, as written
    choices: tuple[Any, ...] = ()

    def render(self, number: float) -> Any:
        """A sampled number as the value to set: a quantity string when it had a unit.

        Parameters
        ----------
        number : float
            A sampled value, in the distribution's unit.

        Returns
        -------
        float or str
            The number, or a quantity string such as ``"$3.2 M"`` or ``"120.5 kW"``.
        """
        currency, unit = self.unit.split("|", 1)
        if not currency and not unit:
            return number
        text = repr(round(number, 12))
        return f"{currency}{text} {unit}".strip() if unit else f"{currency}{text}"


def parse_distribution(key: str, text: str) -> Distribution:
    """Parse ``kind(args)``; an error names the key and what would fix it.

    Only the text is checked here (and the ``catalog.<sku-id>.<field>`` form of a catalog
    key); :func:`gigaplan.inputs.site.parse_uncertainty` also checks a site key.

    Parameters
    ----------
    key : str
        The site key or ``catalog.<sku-id>.<field>`` the distribution is for.
    text : str
        The distribution, such as ``uniform(1GW, 1.2GW)``.

    Returns
    -------
    Distribution
        The parsed distribution.

    Raises
    ------
    SiteError
        When the text is not a known distribution with valid arguments.
    """
    if key.startswith(CATALOG_PREFIX) and "." not in key.removeprefix(CATALOG_PREFIX):
        raise SiteError(f"uncertainty {key}: write catalog.<sku-id>.<field>")
    if isinstance(text, str) and len(text) > MAX_CHARS:
        raise SiteError(f"uncertainty {key}: {shorten(text)!r}: a distribution has at most "
                        f"{MAX_CHARS} characters")
    match = _CALL.match(text) if isinstance(text, str) else None
    if not match or match["kind"] not in KINDS:
        raise SiteError(f"uncertainty {key}: expected one of "
                        f"{', '.join(f'{k}(...)' for k in KINDS)}, got {shorten(repr(text))}")
    kind, raw = match["kind"], [arg for arg in match["args"].split(",") if arg.strip()]
    if kind == "choice":
        if not raw:
            raise SiteError(f"uncertainty {key}: choice(...) needs at least one value")
        choices = tuple(toml_value(arg.strip(), f"uncertainty {key}")
                        if not key.startswith(CATALOG_PREFIX) else _number(arg, key)[0]
                        for arg in raw)
        if any(isinstance(c, float) and not math.isfinite(c) for c in choices):
            raise SiteError(f"uncertainty {key}: {text!r}: every choice must be finite")
        return Distribution(key, text, kind, choices=choices)
    if len(raw) != KINDS[kind]:
        raise SiteError(f"uncertainty {key}: {kind}(...) takes {KINDS[kind]} values, "
                        f"got {len(raw)}")
    numbers, units = zip(*(_number(arg, key) for arg in raw), strict=True)
    if kind == "lognormal":
        units = units[:1]  # the second value (sigma of the log) has no unit
    if len(set(units)) != 1:
        raise SiteError(f"uncertainty {key}: write every value of {text!r} in one unit")
    _check(key, kind, numbers)
    return Distribution(key, text, kind, tuple(numbers), units[0])


def _number(arg: str, key: str) -> tuple[float, str]:
    parts = split_number(arg)
    if parts is None:
        raise SiteError(f"uncertainty {key}: {arg.strip()!r} is not a number")
    number, currency, unit = parts
    if not abs(number) <= Decimal("1e300"):
        raise SiteError(f"uncertainty {key}: {arg.strip()!r} is out of range (at most 1e300)")
    return float(number), f"{currency}|{unit}"


def _check(key: str, kind: str, values: tuple[float, ...]) -> None:
    problem = {
        "uniform": lambda a, b: a > b and "low is above high",
        "normal": lambda mean, sd: sd < 0 and "the standard deviation is negative",
        "triangular": lambda lo, mode, hi: not lo <= mode <= hi and "needs low <= mode <= high",
        "lognormal": lambda median, sigma: (median <= 0 or sigma < 0) and
        "needs a positive median and sigma >= 0",
    }[kind](*values)
    spread = max(values) - min(values) if kind != "lognormal" else values[1]
    if not problem and (not math.isfinite(spread) or abs(spread) > 1e300 or
                        (kind == "normal" and abs(values[0]) + 8 * values[1] > 1e300)):
        problem = "the values are too far apart to sample (over 1e300)"
    if kind == "lognormal" and not problem and values[1] > 100:
        problem = "sigma of the log is over 100 (the samples overflow)"
    if problem:
        raise SiteError(f"uncertainty {key}: {kind}{values}: {problem}")
