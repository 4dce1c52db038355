"""Quantity strings ("1.2 GW", "$66/MWh", "12,000 m2") to canonical floats and back.

Parsing is always told the dimension the key expects, so ``"1T"`` (a count: 10¹²) and
``"1 t"`` (a mass: 1,000 kg) never mix up. Each dimension has one base unit; callers ask for
the unit their field name carries (``power_mw`` asks for ``"MW"``).

No pint: its import and registry cost about 0.6 s, which a CLI cannot pay on every call.
Conversion factors are exact SI/NIST definitions (1 ft = 0.3048 m, 1 lb = 0.45359237 kg;
NIST SP 811, appendix B); a year is the Julian year of 365.25 days and a month a twelfth of it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from gigaplan.errors import UnitError


class Dimension(StrEnum):
    POWER = "power"
    ENERGY = "energy"
    MONEY = "money"
    MONEY_PER_ENERGY = "money_per_energy"
    AREA = "area"
    MASS = "mass"
    DATA = "data"
    BANDWIDTH = "bandwidth"
    TIME = "time"
    FRACTION = "fraction"
    COUNT = "count"


@dataclass(frozen=True)
class _Spec:
    article: str  # "a power", for messages
    example: str
    units: dict[str, float]  # spelling -> factor to the base unit
    display: tuple[tuple[float, str], ...]  # (factor, label), largest first, for formatting


_FT2_M2 = 0.3048**2
_LB_KG = 0.45359237
_DAY_S = 86_400.0
_YEAR_S = 365.25 * _DAY_S
_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "m": 1e6, "mm": 1e6, "MM": 1e6, "B": 1e9,
           "b": 1e9, "bn": 1e9, "G": 1e9, "T": 1e12, "t": 1e12}
_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def _energy_units() -> dict[str, float]:
    return {"Wh": 1.0, "kWh": 1e3, "MWh": 1e6, "GWh": 1e9, "TWh": 1e12}


_SPECS: dict[Dimension, _Spec] = {
    Dimension.POWER: _Spec(
        "a power", "1.2 GW",
        {"W": 1.0, "kW": 1e3, "MW": 1e6, "GW": 1e9, "TW": 1e12},
        ((1e9, "GW"), (1e6, "MW"), (1e3, "kW"), (1.0, "W")),
    ),
    Dimension.ENERGY: _Spec(
        "an energy", "8,760 MWh", _energy_units(),
        ((1e12, "TWh"), (1e9, "GWh"), (1e6, "MWh"), (1e3, "kWh"), (1.0, "Wh")),
    ),
    Dimension.MONEY: _Spec(
        "an amount of money", "$3.5M", {},
        ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"), (1, "")),
    ),
    Dimension.MONEY_PER_ENERGY: _Spec(
        "a price of energy", "$66/MWh", {}, ((1.0, "/MWh"),)
    ),
    Dimension.AREA: _Spec(
        "an area", "12,000 m2",
        {"m2": 1.0, "m²": 1.0, "sqm": 1.0, "sq m": 1.0, "km2": 1e6, "km²": 1e6, "ha": 1e4,
         "ft2": _FT2_M2, "ft²": _FT2_M2, "sq ft": _FT2_M2, "sqft": _FT2_M2,
         "acre": 4046.8564224, "acres": 4046.8564224},
        ((1.0, "m2"),),
    ),
    Dimension.MASS: _Spec(
        "a mass", "1,400 kg",
        {"g": 1e-3, "kg": 1.0, "t": 1e3, "tonne": 1e3, "tonnes": 1e3, "lb": _LB_KG,
         "lbs": _LB_KG},
        ((1e3, "t"), (1.0, "kg")),
    ),
    Dimension.DATA: _Spec(
        "an amount of data", "10 PB",
        {"B": 1e-9, "kB": 1e-6, "MB": 1e-3, "GB": 1.0, "TB": 1e3, "PB": 1e6, "EB": 1e9},
        ((1e9, "EB"), (1e6, "PB"), (1e3, "TB"), (1.0, "GB")),
    ),
    Dimension.BANDWIDTH: _Spec(
        "a bandwidth", "800 Gb/s",
        {"Mb/s": 1e-3, "Mbps": 1e-3, "Gb/s": 1.0, "Gbps": 1.0, "Tb/s": 1e3, "Tbps": 1e3,
         "Pb/s": 1e6, "MB/s": 8e-3, "GB/s": 8.0, "GBps": 8.0, "TB/s": 8e3, "TBps": 8e3,
         "PB/s": 8e6},
        ((1e3, "Tb/s"), (1.0, "Gb/s")),
    ),
    Dimension.TIME: _Spec(
        "a duration", "5 years",
        {"s": 1.0, "sec": 1.0, "seconds": 1.0, "min": 60.0, "minutes": 60.0, "h": 3600.0,
         "hr": 3600.0, "hours": 3600.0, "hour": 3600.0, "d": _DAY_S, "day": _DAY_S,
         "days": _DAY_S, "week": 7 * _DAY_S, "weeks": 7 * _DAY_S, "month": _YEAR_S / 12,
         "months": _YEAR_S / 12, "y": _YEAR_S, "yr": _YEAR_S, "yrs": _YEAR_S,
         "year": _YEAR_S, "years": _YEAR_S},
        ((_YEAR_S, "years"), (_DAY_S, "days"), (3600.0, "h"), (1.0, "s")),
    ),
    Dimension.FRACTION: _Spec("a fraction", "15%", {"": 1.0, "%": 0.01}, ((0.01, "%"),)),
    Dimension.COUNT: _Spec(
        "a count", "400k",
        {k: v for k, v in _SUFFIX.items() if k not in ("G", "mm", "MM", "bn")},
        ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, "")),
    ),
}

# The base unit of each dimension, the unit every other is converted through.
BASE_UNIT: dict[Dimension, str] = {
    Dimension.POWER: "W", Dimension.ENERGY: "Wh", Dimension.MONEY: "USD",
    Dimension.MONEY_PER_ENERGY: "USD/MWh", Dimension.AREA: "m2", Dimension.MASS: "kg",
    Dimension.DATA: "GB", Dimension.BANDWIDTH: "Gb/s", Dimension.TIME: "s",
    Dimension.FRACTION: "", Dimension.COUNT: "",
}

_NUMBER = re.compile(
    r"""^(?P<sign>[+-]?)\s*(?P<cur>\$?)\s*
        (?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
        \s*(?P<unit>.*)$""",  # greedy and anchored: linear time (a lazy unit was quadratic)
    re.VERBOSE,
)


def _lookup(table: dict[str, float], unit: str) -> float | None:
    """Find ``unit`` in ``table``: exactly, else case-insensitively when that is unambiguous."""
    if unit in table:
        return table[unit]
    folded = {table[k] for k in table if k.casefold() == unit.casefold()}
    return folded.pop() if len(folded) == 1 else None


def _money_factor(unit: str) -> float | None:
    text = unit.replace(" ", "")
    for mark in ("USD", "usd", "$"):
        text = text.removesuffix(mark)
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    return _SUFFIX.get(text)


def _money_per_energy_factor(unit: str) -> float | None:
    text = unit.replace(" ", "")
    cents = text.startswith(("¢", "c/"))
    for mark in ("USD", "usd", "$", "¢"):
        text = text.removeprefix(mark)
    if not text.startswith("/"):
        return None
    per = _lookup(_energy_units(), text[1:])
    if per is None:
        return None
    return (0.01 if cents else 1.0) * 1e6 / per  # to USD per MWh


def _factor(dim: Dimension, unit: str, had_dollar: bool) -> float | None:
    if dim is Dimension.MONEY:
        return _money_factor(unit)
    if dim is Dimension.MONEY_PER_ENERGY:
        if not unit:
            return None if had_dollar else 1.0
        return _money_per_energy_factor(unit)
    if had_dollar:
        return None
    return _lookup(_SPECS[dim].units, unit)


def split_number(text: str) -> tuple[Decimal, str, str] | None:
    """A quantity as written, ``"-$1,200.5 M"`` -> ``(Decimal("-1200.5"), "$", "M")``.

    The one reader of a number with an optional sign, dollar mark, thousands separators and
    unit text: quantities here, sweep ranges and distribution arguments all use it. The number
    stays exact (a :class:`~decimal.Decimal`) so that ranges step without drift.

    Parameters
    ----------
    text
        The quantity as the user wrote it.

    Returns
    -------
    tuple[Decimal, str, str] or None
        The signed number, ``"$"`` or ``""``, and the unit text (stripped); None when
        ``text`` does not start with a number.
    """
    match = _NUMBER.match(text.strip())
    if not match:
        return None
    number = Decimal(match["num"].replace(",", ""))
    return (-number if match["sign"] == "-" else number), match["cur"], match["unit"].rstrip()


def _split(text: str) -> tuple[float, str, bool] | None:
    parts = split_number(text)
    if parts is None:
        return None
    number, currency, unit = parts
    return float(number), unit, bool(currency)


MAX_QUANTITY_CHARS = 400  # format_quantity writes at most ~340 (5e-324 W, no exponent)


def counted(count: int, noun: str, plural: str | None = None, *, signed: bool = False) -> str:
    """``count`` and its noun, singular for one: ``1 rack``, ``+52 racks``, ``-1 error``.

    Parameters
    ----------
    count : int
        The number [count].
    noun : str
        The singular noun, such as ``"gb300-nvl72 rack"``.
    plural : str or None, default None
        The plural when it is not ``noun + "s"``.
    signed : bool, default False
        Show a ``+`` before a positive count (a change).

    Returns
    -------
    str
        The count with thousands separators and the fitting noun.
    """
    word = noun if abs(count) == 1 else (plural if plural is not None else noun + "s")
    return f"{count:+,} {word}" if signed else f"{count:,} {word}"


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a message, saying how long it was.

    Parameters
    ----------
    text : str
        The text to quote.
    limit : int, default 60
        Longest text kept [characters].

    Returns
    -------
    str
        The text, or its first ``limit`` characters and its length.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _try_parse(text: str, dim: Dimension) -> float | None:
    parts = _split(text)
    if parts is None:
        return None
    number, unit, had_dollar = parts
    factor = _factor(dim, unit, had_dollar)
    return None if factor is None else number * factor


def describe(dim: Dimension) -> str:
    """``a power such as "1.2 GW"``: what a key of this dimension expects.

    Parameters
    ----------
    dim : Dimension
        The dimension, such as power or money.

    Returns
    -------
    str
        The description.
    """
    spec = _SPECS[dim]
    return f'{spec.article} such as "{spec.example}"'


def parse(value: object, dim: Dimension, unit: str | None = None, *, key: str = "") -> float:
    """Parse a number or quantity string of dimension ``dim``; return it in ``unit``.

    A plain number is taken to be in ``unit`` already (the unit the key's name carries).
    Raises :class:`UnitError` naming ``key`` for a wrong dimension, an unknown unit, or a
    value that is not a finite number.

    Parameters
    ----------
    value : object
        A number, or a quantity string such as ``"1.2 GW"``.
    dim : Dimension
        The dimension the value must have.
    unit : str or None, default None
        The unit to return the value in; the base unit of ``dim`` when None.
    key : str, default ""
        The site key, named in errors.

    Returns
    -------
    float
        The value in ``unit``.
    """
    unit = BASE_UNIT[dim] if unit is None else unit
    prefix = f"{key}: " if key else ""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnitError(f"{prefix}expected {describe(dim)}, got {_show(value)}")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float range: 1 followed by 309 zeros
            raise UnitError(f"{prefix}expected a finite number, got {_show(value)}") from None
    elif len(value) > MAX_QUANTITY_CHARS:
        raise UnitError(f"{prefix}expected {describe(dim)}, got a string of {len(value):,} "
                        f"characters (at most {MAX_QUANTITY_CHARS})")
    else:
        parts = _split(value)
        base = _try_parse(value, dim)
        if parts is not None and not parts[1] and not parts[2]:
            number = parts[0]  # a bare number in a string: already in the key's unit
        elif base is None:
            what = _what_it_is(value, dim)
            raise UnitError(f"{prefix}expected {describe(dim)}, got {_show(value)}{what}")
        else:
            number = base / to_base(1.0, dim, unit)
    if not math.isfinite(number):
        raise UnitError(f"{prefix}expected a finite number, got {_show(value)}")
    return number


def _show(value: object) -> str:
    """A user's value in a message: strings quoted, control characters escaped."""
    if isinstance(value, str):
        return json.dumps(shorten(value), ensure_ascii=False)
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length():,} bits"
    return shorten(repr(value))


def _what_it_is(text: str, expected: Dimension) -> str:
    parts = _split(text)
    if parts is None:
        return " (not a number with a unit)"
    for dim in Dimension:
        if dim in (expected, Dimension.COUNT, Dimension.FRACTION):
            continue
        if _try_parse(text, dim) is not None:
            return f" ({_SPECS[dim].article})"
    return f" (unknown unit {parts[1]!r})"


def to_base(value: float, dim: Dimension, unit: str) -> float:
    """Convert ``value`` in ``unit`` to the base unit of ``dim``.

    Parameters
    ----------
    value : float
        The value, in ``unit``.
    dim : Dimension
        Its dimension.
    unit : str
        The unit it is in.

    Returns
    -------
    float
        The value in the base unit of ``dim``.
    """
    if unit == BASE_UNIT[dim]:
        return value
    factor = _factor(dim, unit, had_dollar=False)
    if factor is None:
        raise ValueError(f"unknown {dim.value} unit {unit!r}")
    return value * factor


def _number(value: float, significant: int = 6) -> str:
    """``significant`` digits, thousands separators, no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    digits = max(0, significant - 1 - math.floor(math.log10(abs(value))))
    text = f"{round(value, digits):,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_quantity(value: float, dim: Dimension, unit: str | None = None,
                    significant: int = 6) -> str:
    """Render ``value`` (in ``unit``, default the base unit) for people: ``1.2 GW``, ``$3.5M``.

    Six significant digits by default, so that ``parse`` reads back the value within 5e-6.

    Parameters
    ----------
    value : float
        The value, in ``unit``.
    dim : Dimension
        Its dimension.
    unit : str or None, default None
        The unit it is in; the base unit of ``dim`` when None.
    significant : int, default 6
        Significant digits shown.

    Returns
    -------
    str
        The quantity with a fitting prefix and unit.
    """
    base = value if unit is None else to_base(value, dim, unit)
    if not math.isfinite(base):
        return str(base)
    sign, magnitude = ("-" if base < 0 else ""), abs(base)
    spec = _SPECS[dim]
    factor, label = next(((f, u) for f, u in spec.display if magnitude >= f), spec.display[-1])
    number = _number(magnitude / factor, significant)
    if dim is Dimension.MONEY:
        return f"{sign}${number}{label}"
    if dim is Dimension.MONEY_PER_ENERGY:
        return f"{sign}${number}{label}"
    if dim in (Dimension.COUNT, Dimension.FRACTION):
        return f"{sign}{number}{label}"
    return f"{sign}{number} {label}"


def quantity_type(dim: Dimension, unit: str) -> Any:
    """A pydantic field type: a number in ``unit`` or a quantity string of ``dim``.

    Errors carry the expected dimension; the loader adds file and key from the error's path.
    pydantic is imported here, not at module level, so that formatting stays cheap.

    Parameters
    ----------
    dim : Dimension
        The dimension the field accepts.
    unit : str
        The unit the field's value is stored in.

    Returns
    -------
    typing.Annotated
        The field type.
    """
    from pydantic import BeforeValidator  # lazily: keeps pydantic off `catalog list`
    from pydantic_core import PydanticCustomError  # lazily, as pydantic above

    def convert(value: object) -> object:
        try:
            return parse(value, dim, unit)
        except UnitError as error:
            raise PydanticCustomError("quantity", str(error)) from None

    return Annotated[float, BeforeValidator(convert)]


def count_type() -> Any:
    """A pydantic field type for a whole number: ``6000``, ``"6,000"`` or ``"6k"``.

    Returns
    -------
    typing.Annotated
        The field type, validating to ``int``.
    """
    from pydantic import BeforeValidator  # lazily: keeps pydantic off `catalog list`
    from pydantic_core import PydanticCustomError  # lazily, as pydantic above

    def convert(value: object) -> object:
        try:
            number = parse(value, Dimension.COUNT)
        except UnitError as error:
            raise PydanticCustomError("quantity", str(error)) from None
        if not number.is_integer():
            raise PydanticCustomError("integer", f"expected a whole number, got {_show(value)}")
        return int(number)

    return Annotated[int, BeforeValidator(convert)]
