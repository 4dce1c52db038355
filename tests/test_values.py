"""The shared helpers every layer uses: one number reader, one flattener, one tolerance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gigaplan.formulation.model import Expr, Row
from gigaplan.inputs.requirements import parse_requirement, within
from gigaplan.inputs.units import split_number
from gigaplan.inputs.values import flatten, toml_value
from gigaplan.kinds import OBJECTIVES, PRECISIONS, TOLERANCE, Objective


@pytest.mark.parametrize(("text", "expected"), [
    ("1.2 GW", (Decimal("1.2"), "", "GW")),
    ("-$1,200.5 M", (Decimal("-1200.5"), "$", "M")),
    ("  .5kW ", (Decimal(".5"), "", "kW")),
    ("3e2", (Decimal("300"), "", "")),
    ("0.1", (Decimal("0.1"), "", "")),
])
def test_split_number_reads_sign_currency_separators_and_unit_exactly(text, expected):
    assert split_number(text) == expected


@pytest.mark.parametrize("text", ["GW", "", "$", "-", "N+1"])
def test_split_number_refuses_text_without_a_number(text):
    assert split_number(text) is None


def test_within_is_relative_above_one_and_absolute_below():
    assert TOLERANCE == 1e-6
    assert within(1000.0009, 0.0, 1000.0)  # 0.9e-6 relative over the limit
    assert not within(1000.0011, 0.0, 1000.0)
    assert within(0.5 + 0.9e-6, 0.0, 0.5)  # below 1 the slack is absolute
    assert not within(0.5 + 1.1e-6, 0.0, 0.5)
    assert within(-1e300, float("-inf"), 0.0) and within(1e300, 0.0, float("inf"))


def test_requirements_and_rows_hold_with_the_same_tolerance():
    floor = parse_requirement("totals.gpus >= 1000")
    assert floor.holds(1000 - 0.0009) and not floor.holds(1000 - 0.0011)
    equal = parse_requirement("totals.gpus == 1000")
    assert equal.holds(1000.0009) and not equal.holds(999.9989)
    row = Row("test", "x <= 1000", Expr({0: 1.0}), upper=1000.0)
    assert row.holds([1000.0009]) and not row.holds([1000.0011])


def test_flatten_walks_mappings_and_keeps_named_tables_whole():
    data = {"power": {"budget": 1, "pue": 1.2}, "compute": {"max_racks": {"a": 2}},
            "requirements": ["x >= 1"], "empty": {}}
    assert list(flatten(data, keep=("max_racks",))) == [
        ("power.budget", 1), ("power.pue", 1.2), ("compute.max_racks", {"a": 2}),
        ("requirements", ["x >= 1"])]


def test_flatten_labels_list_items_and_sorts_on_request():
    data = {"racks": [{"sku": "b", "count": 1}, {"name": "n", "count": 2}, {"count": 3}],
            "a": {"z": 1, "y": 2}}
    assert list(flatten(data, label_lists=True, sort=True)) == [
        ("a.y", 2), ("a.z", 1), ("racks[b].count", 1), ("racks[b].sku", "b"),
        ("racks[n].count", 2), ("racks[n].name", "n"), ("racks[2].count", 3)]


def test_toml_value_types_literals_and_keeps_bare_words():
    assert toml_value("1.5") == 1.5 and toml_value("true") is True
    assert toml_value('["a", "b"]') == ["a", "b"]
    assert toml_value("1.5GW") == "1.5GW" and toml_value("gb300-nvl72") == "gb300-nvl72"


def test_one_list_of_precisions_and_objectives():
    assert OBJECTIVES[1:1 + len(PRECISIONS)] == PRECISIONS
    assert tuple(objective.value for objective in Objective) == OBJECTIVES
