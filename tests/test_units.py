"""Quantity parsing and formatting (gigaplan/units.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gigaplan.errors import UnitError
from gigaplan.inputs.units import Dimension, format_quantity, parse

D = Dimension


@pytest.mark.parametrize(
    ("text", "dim", "unit", "expected"),
    [
        ("1.2 GW", D.POWER, "MW", 1200.0),
        ("1.2GW", D.POWER, "MW", 1200.0),
        ("1.2 gw", D.POWER, "MW", 1200.0),
        ("142 kW", D.POWER, "kW", 142.0),
        ("950", D.POWER, "MW", 950.0),
        (950, D.POWER, "MW", 950.0),
        ("500 W", D.POWER, "kW", 0.5),
        ("8,760 MWh", D.ENERGY, "MWh", 8760.0),
        ("1 TWh", D.ENERGY, "MWh", 1e6),
        ("2.5 kWh", D.ENERGY, "Wh", 2500.0),
        ("$3.5M", D.MONEY, "USD", 3.5e6),
        ("3.5e6 USD", D.MONEY, "USD", 3.5e6),
        ("$40k", D.MONEY, "USD", 40e3),
        ("$1.2B", D.MONEY, "USD", 1.2e9),
        ("$66/MWh", D.MONEY_PER_ENERGY, "USD/MWh", 66.0),
        ("0.066 $/kWh", D.MONEY_PER_ENERGY, "USD/MWh", 66.0),
        ("6.6 ¢/kWh", D.MONEY_PER_ENERGY, "USD/MWh", 66.0),
        ("12,000 m2", D.AREA, "m2", 12000.0),
        ("3.7 m²", D.AREA, "m2", 3.7),
        ("40 sq ft", D.AREA, "m2", 40 * 0.09290304),
        ("100 ft2", D.AREA, "m2", 9.290304),
        ("1,400 kg", D.MASS, "kg", 1400.0),
        ("1 t", D.MASS, "kg", 1000.0),
        ("3000 lb", D.MASS, "kg", 3000 * 0.45359237),
        ("10 PB", D.DATA, "TB", 10_000.0),
        ("288 GB", D.DATA, "GB", 288.0),
        ("800 Gb/s", D.BANDWIDTH, "Gb/s", 800.0),
        ("100 GB/s", D.BANDWIDTH, "Gb/s", 800.0),
        ("1.6 Tb/s", D.BANDWIDTH, "Gb/s", 1600.0),
        ("3600 s", D.TIME, "h", 1.0),
        ("30 days", D.TIME, "h", 720.0),
        ("5 years", D.TIME, "years", 5.0),
        ("6 months", D.TIME, "years", 0.5),
        ("15%", D.FRACTION, "", 0.15),
        ("0.15", D.FRACTION, "", 0.15),
        ("70B", D.COUNT, "", 70e9),
        ("15T", D.COUNT, "", 15e12),
        ("1T", D.COUNT, "", 1e12),
        ("400k", D.COUNT, "", 400e3),
        ("400,000", D.COUNT, "", 400e3),
    ],
)
def test_parse_valid(text, dim, unit, expected):
    assert parse(text, dim, unit) == pytest.approx(expected, rel=1e-12)


def test_count_and_mass_never_mix_up():
    assert parse("1T", D.COUNT) == 1e12
    assert parse("1 t", D.MASS, "kg") == 1000.0


def test_wrong_dimension_names_key_and_what_it_got():
    with pytest.raises(UnitError) as error:
        parse("1.2 GWh", D.POWER, "MW", key="power.budget")
    assert str(error.value) == (
        'power.budget: expected a power such as "1.2 GW", got "1.2 GWh" (an energy)'
    )


@pytest.mark.parametrize(
    ("text", "dim", "fragment"),
    [
        ("1.2 furlongs", D.POWER, "unknown unit 'furlongs'"),
        ("lots", D.POWER, "not a number with a unit"),
        ("$5M", D.POWER, "an amount of money"),
        ("12,000 m2", D.MONEY, "an area"),
        ("1 gb/s", D.BANDWIDTH, "unknown unit"),  # ambiguous between bits and bytes
        ("nan", D.POWER, "not a number"),
    ],
)
def test_parse_invalid(text, dim, fragment):
    with pytest.raises(UnitError, match="expected") as error:
        parse(text, dim, key="k")
    assert fragment in str(error.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, None, [1], {"a": 1}])
def test_non_numbers_are_refused(value):
    with pytest.raises(UnitError):
        parse(value, D.POWER, "MW", key="power.budget")


@pytest.mark.parametrize(
    ("value", "dim", "unit", "text"),
    [
        (1.2e9, D.POWER, None, "1.2 GW"),
        (142, D.POWER, "kW", "142 kW"),
        (3.5e6, D.MONEY, None, "$3.5M"),
        (40e3, D.MONEY, None, "$40k"),
        (66, D.MONEY_PER_ENERGY, None, "$66/MWh"),
        (12000, D.AREA, None, "12,000 m2"),
        (0.15, D.FRACTION, None, "15%"),
        (400e3, D.COUNT, None, "400k"),
    ],
)
def test_format_for_people(value, dim, unit, text):
    assert format_quantity(value, dim, unit) == text


BASE = {D.POWER: "W", D.ENERGY: "Wh", D.MONEY: "USD", D.MONEY_PER_ENERGY: "USD/MWh",
        D.AREA: "m2", D.MASS: "kg", D.DATA: "GB", D.BANDWIDTH: "Gb/s", D.TIME: "s",
        D.FRACTION: "", D.COUNT: ""}


@given(
    dim=st.sampled_from(list(Dimension)),
    value=st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False),
)
def test_round_trip_every_dimension(dim, value):
    """parse(format(x)) returns x within the formatter's six significant digits."""
    text = format_quantity(value, dim)
    back = parse(text, dim, BASE[dim])
    assert math.isclose(back, value, rel_tol=1e-5, abs_tol=1e-9), (value, text, back)
