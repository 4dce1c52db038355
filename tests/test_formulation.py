"""The formulation blocks return typed parts; no result travels as a private string field."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import BARE, bound_site

from gigaplan.formulation.build import build
from gigaplan.formulation.model import Model, SiteParts


def test_blocks_return_typed_parts_and_no_field_is_private():
    model = build(bound_site({**BARE, "storage": {"enabled": True}},
                             overrides={"compute.skus": ["gb300-nvl72"]}))
    assert isinstance(model.parts, SiteParts)
    assert [name for name in model.fields if name.startswith("_")] == []
    assert "context" not in {field.name for field in dataclasses.fields(Model)}
    # 10 MW of IT at 142 kW a rack: at most 70 racks, 5,040 GPUs
    assert model.parts.compute.gpus_max == 70 * 72
    assert model.parts.power.redundancy_reserve_mw == 0.0  # IT basis, redundancy N


def test_disabled_pools_report_zero_parts():
    model = build(bound_site(BARE, overrides={"compute.skus": ["gb300-nvl72"]}))
    x = [0.0] * model.layout.size
    assert model.parts.fabric.trees == ()
    assert model.parts.storage.required_pb.value(x) == 0.0
    assert model.parts.cpu.required_cores.value(x) == 0.0


def test_phases_carry_the_final_phase_parts():
    from gigaplan.formulation.phases import build_phased

    bound = bound_site({**BARE, "phases": [
        {"name": "a", "date": "2026-01-01", "power": 5},
        {"name": "b", "date": "2027-01-01", "power": 10}]},
        overrides={"compute.skus": ["gb300-nvl72"]})
    phased = build_phased(bound)
    assert phased.model.parts is phased.phases[-1].parts
    assert phased.model.parts.compute.gpus_max == pytest.approx(70 * 72)
