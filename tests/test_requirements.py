"""Requirement expressions: the grammar, and that every field is a model expression."""

from __future__ import annotations

import pytest
from helpers import bound_site

from gigaplan.errors import SiteError
from gigaplan.formulation.build import build
from gigaplan.inputs.requirements import FIELDS, parse_requirement
from gigaplan.planner import plan


@pytest.mark.parametrize(
    ("text", "field", "op", "value"),
    [
        ("totals.gpus >= 400000", "totals.gpus", ">=", 400_000),
        ("gpus>=400k", "totals.gpus", ">=", 400_000),
        ("power_mw.facility <= 950", "power_mw.facility", "<=", 950),
        ("power_mw.facility <= 0.95 GW", "power_mw.facility", "<=", 950),
        ("cost.capex_usd <= $20B", "cost.capex_usd", "<=", 20e9),
        ("network.tiers == 2", "network.tiers", "==", 2),
        ("capex_usd<=5e9", "cost.capex_usd", "<=", 5e9),
    ],
)
def test_parse(text, field, op, value):
    requirement = parse_requirement(text)
    assert (requirement.field, requirement.op, requirement.value) == (field, op, value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("totals.gpu >= 3", "unknown field 'totals.gpu'; valid fields: totals.gpus"),
        ("racks >= 3", "unknown field"),  # ambiguous tail: totals.racks, network.racks, ...
        ("gpus > 3", "operator '>' is not accepted; write one of >= (at least)"),
        ("capex_usd =< 5e9", "operator '=<' is not accepted"),  # was silently <=; refused
        ("gpus => 3", "operator '=>' is not accepted"),
        ("gpus >= lots", 'expected a count such as "400k"'),
        ("power_mw.it <= 3 PB", "(an amount of data)"),
        ("__import__('os').system('x') >= 1", "cannot read"),
        ("", "cannot read"),
    ],
)
def test_malformed_requirements_are_input_errors(text, fragment):
    with pytest.raises(SiteError) as error:
        parse_requirement(text)
    assert fragment in str(error.value)


def test_every_field_is_a_linear_expression_or_ratio_of_the_model():
    model = build(bound_site({"power": {"budget": 100},
                              "workload": {"train_params": "1T", "train_tokens": "20T"}}))
    for name in FIELDS:
        assert name in model.fields or name in model.ratios, name
    assert "racks.gb300-nvl72" in model.fields
    assert "racks.grace-cpu-rack" in model.fields and "racks.storage-rack-qlc" in model.fields


def test_requirements_on_pool_racks_and_equalities_hold():
    result = plan(bound_site({"power": {"budget": 100}, "requirements": [
        "racks.storage-rack-qlc >= 30", "network.tiers == 3", "racks.gb300-nvl72 == 100"]}))
    assert result.status == "optimal"
    counts = {line.sku: line.count for line in result.racks}
    assert counts["storage-rack-qlc"] >= 30 and counts["gb300-nvl72"] == 100
    assert result.network["tiers"] == 3
