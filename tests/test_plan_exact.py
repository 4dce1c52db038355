"""Hand-solvable plans with exact integer answers, and the published fabric tables."""

from __future__ import annotations

import math

import pytest
from helpers import BARE, bound_site, catalog_with, rack, switch

from gigaplan.planner import plan


def gb300_only(**overrides):
    return bound_site(BARE, overrides={"compute.skus": ["gb300-nvl72"], **overrides})


def racks(result, sku="gb300-nvl72"):
    return next(line.count for line in result.racks if line.sku == sku)


def test_it_basis_one_sku_fills_the_budget():
    result = plan(gb300_only())
    assert result.status == "optimal"
    assert racks(result) == math.floor(10_000 / 142) == 70
    assert result.totals["gpus"] == 70 * 72
    assert result.power_mw["it"] == pytest.approx(70 * 0.142)
    assert result.power_mw["facility"] == pytest.approx(70 * 0.142 * 1.22)


def test_facility_basis_divides_by_pue():
    result = plan(gb300_only(**{"power.basis": "facility", "power.pue": 1.25}))
    assert racks(result) == math.floor(10_000 / 1.25 / 142) == 56
    assert result.power_mw["facility"] <= 10.0


def test_redundancy_2n_halves_the_usable_budget():
    result = plan(gb300_only(**{"power.redundancy": "2N"}))
    assert racks(result) == math.floor(5_000 / 142) == 35
    assert result.power_mw["usable"] == 5.0
    assert result.power_mw["redundancy_reserve"] == 5.0


@pytest.mark.parametrize(("scheme", "usable_frac"), [("N+1", 4 / 5), ("4N/3", 0.75),
                                                     ("3N/2", 2 / 3)])
def test_distributed_redundancy(scheme, usable_frac):
    result = plan(gb300_only(**{"power.redundancy": scheme, "power.budget": 100}))
    assert racks(result) == math.floor(100_000 * usable_frac / 142 + 1e-9)


def test_headroom_is_kept_free():
    result = plan(gb300_only(**{"power.headroom_frac": 0.1}))
    assert racks(result) == math.floor(9_000 / 142) == 63


def test_capex_cap_binds():
    # Per rack: $3.5M equipment + 0.142 MW x $12.7M/MW x (0.47 + 0.53 x 0.75/1) facility.
    per_rack = 3.5e6 + 0.142 * 12.7e6 * 0.8675
    result = plan(gb300_only(**{"budget.capex": "$100M"}))
    assert racks(result) == math.floor(100e6 / per_rack) == 19
    row = next(row for row in result.constraints if row.name.startswith("capex"))
    assert row.binding and row.used == pytest.approx(19 * per_rack)
    equipment_only = plan(gb300_only(**{"budget.capex": "$100M",
                                        "economics.facility_capex_per_mw": 0}))
    assert racks(equipment_only) == math.floor(100e6 / 3.5e6) == 28


def test_rack_positions_bind():
    result = plan(gb300_only(**{"space.rack_positions": 20}))
    assert racks(result) == 20
    assert next(r for r in result.constraints if r.name == "rack positions").binding


def test_white_space_binds():
    result = plan(gb300_only(**{"space.white_space": "74 m2", "space.area_per_rack": 3.7}))
    assert racks(result) == 20


def test_liquid_cooling_binds():
    # 0.9 x 142 kW = 127.8 kW of liquid heat per rack: 1 MW of liquid rejection holds 7.
    result = plan(gb300_only(**{"cooling.liquid": "1 MW"}))
    assert racks(result) == 7


def test_power_binds_and_other_limits_do_not():
    result = plan(gb300_only(**{"space.rack_positions": 1000}))
    rows = {row.name: row for row in result.constraints}
    assert rows["IT power"].binding
    assert not rows["rack positions"].binding


def test_tie_break_prefers_least_capex():
    cheap = rack("cheap", power_kw=100, fp4=1, price_usd=1e6)
    dear = rack("dear", power_kw=100, fp4=1, price_usd=2e6)
    site = bound_site(BARE, catalog_with(cheap, dear), {"compute.skus": ["cheap", "dear"]})
    result = plan(site)
    assert racks(result, "cheap") == 100 and racks(result, "dear") == 0


def test_mixed_skus_beat_a_single_sku_when_power_is_lumpy():
    # 1,000 kW: 7 x 140 kW = 980 (FP4 7 x 72 x 10) vs 4 x 140 + 4 x 110 = 1,000 kW.
    big = rack("big", power_kw=140, fp4=10)
    small = rack("small", power_kw=110, fp4=7.9)
    site = bound_site(BARE, catalog_with(big, small), {"compute.skus": ["big", "small"],
                                                       "power.budget": 1})
    result = plan(site)
    best = max((b * 10 + s * 7.9) * 72 for b in range(8) for s in range(10)
               if 140 * b + 110 * s <= 1000)
    assert result.objective["value"] == pytest.approx(best)


def test_min_racks_and_requirements_are_enforced():
    result = plan(gb300_only(requirements=["totals.gpus <= 3600"]))
    assert racks(result) == 50
    result = plan(gb300_only(**{"compute.max_racks": {"gb300-nvl72": 12}}))
    assert racks(result) == 12


def test_infeasible_site_names_the_conflicting_limits():
    result = plan(gb300_only(requirements=["totals.gpus >= 100000"]))
    assert result.status == "infeasible" and not result.found
    # more power alone frees it too: the power budget is a limit a planner can relax
    assert result.conflicts == ["power.budget", "totals.gpus >= 100000"]
    assert "power.budget, totals.gpus >= 100000" in result.message


def test_infeasible_min_racks_against_capex():
    result = plan(gb300_only(**{"compute.min_racks": {"gb300-nvl72": 10}, "budget.capex": "$10M"}))
    assert result.status == "infeasible"
    assert result.conflicts == ["budget.capex", "compute.min_racks.gb300-nvl72"]


# --- fabric: NVIDIA DGX SuperPOD tables ----------------------------------------------------


def fabric(endpoints: int, radix: int, nic_gbps: float):
    """Plan exactly ``endpoints`` NIC ports of one rack SKU on a switch of ``radix``."""
    node = rack("node", power_kw=1, gpus=8, nic_count=8, nic_gbps=nic_gbps)
    sw = switch("sw", ports=radix, gbps=nic_gbps)
    count = endpoints // 8
    site = bound_site(BARE, catalog_with(node, sw), {
        "compute.skus": ["node"], "power.budget": 1000, "network.enabled": True,
        "network.switch": "sw", "network.optics": False,
        "compute.min_racks": {"node": count}, "compute.max_racks": {"node": count},
    })
    result = plan(site)
    assert result.status == "optimal"
    net = result.network
    return net["leaf_switches"], net["spine_switches"], net["core_switches"]


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        (576, (8, 4, 0)),  # 1 SU of 72 DGX B300 (B300-XDR SuperPOD RA)
        (1_152, (16, 8, 0)),
        (2_304, (32, 18, 0)),  # 18 spines: the divisor of 72 at or above 16
        (4_608, (64, 36, 0)),
        (10_368, (144, 72, 0)),  # 18 SU = 144²/2, a full 2-tier fabric
    ],
)
def test_radix_144_matches_b300_xdr_superpod(endpoints, expected):
    assert fabric(endpoints, 144, 800) == expected


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        (2_048, (64, 32, 0)),  # B200 SuperPOD (QM9700, k = 64)
        (4_096, (128, 128, 64)),
        (16_384, (512, 512, 256)),
    ],
)
def test_radix_64_matches_b200_superpod(endpoints, expected):
    assert fabric(endpoints, 64, 400) == expected


def test_optics_are_counted_per_port_end():
    # 576 endpoints, 2 tiers: 576 node-leaf + 8 x 72 leaf-spine links = 1,152 links,
    # 2,304 port-ends, 1,152 twin-port modules.
    node = rack("node", power_kw=1, gpus=8, nic_count=8)
    site = bound_site(BARE, catalog_with(node), {
        "compute.skus": ["node"], "power.budget": 1000, "network.enabled": True,
        "compute.min_racks": {"node": 72}, "compute.max_racks": {"node": 72},
    })
    result = plan(site)
    assert result.network["optics"] == 1_152
    # Q3400 chassis 2.9 kW typical, 1.6T module 25 W typical (catalogs/nvidia-network.toml);
    # the 288 modules at the NICs draw from the compute racks, not the network (issue 14)
    assert result.network["power_kw"] == pytest.approx(12 * 2.9 + (1_152 - 288) * 0.025)
