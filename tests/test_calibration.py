"""Issue 14: rack power design vs typical, the grid basis, the fabric of each compute
generation, the auxiliary networks and the catalog's breadth and provenance."""

from __future__ import annotations

import math

import pytest
from helpers import BARE, bound_site, catalog_with, rack

from gigaplan.inputs.catalog import ComputeRack, Nic, Optic, Switch, load_catalog
from gigaplan.planner import plan


def typical_rack(**extra) -> ComputeRack:
    data = rack("r", power_kw=100, gpus=8).model_dump()
    data.update(power_typical_kw=80, **extra)
    return ComputeRack.model_validate(data)


@pytest.mark.parametrize(("sizing", "racks"), [("design", 10), ("typical", 12)])
def test_sizing_picks_design_or_typical_rack_power(sizing, racks):
    # 1 MW of IT: 1,000 kW / 100 kW design = 10 racks; / 80 kW typical = 12 racks.
    site = bound_site(BARE, catalog_with(typical_rack()), {
        "compute.skus": ["r"], "power.budget": 1, "power.sizing": sizing, "objective": "gpus"})
    result = plan(site)
    assert result.totals["compute_racks"] == racks
    assert result.power_mw["compute"] == pytest.approx(
        racks * (100 if sizing == "design" else 80) / 1000)
    # energy always uses the expected draw: racks x 80 kW x load factor 0.8 x PUE_ann 1.12
    assert result.power_mw["it_expected"] == pytest.approx(racks * 0.080)
    assert result.energy["mwh_per_year"] == pytest.approx(racks * 0.080 * 0.8 * 1.12 * 8760)


def test_a_rack_without_a_typical_draw_uses_its_design_load_for_energy():
    site = bound_site(BARE, catalog_with(rack("r", power_kw=100, gpus=8)), {
        "compute.skus": ["r"], "power.budget": 1, "power.sizing": "typical"})
    result = plan(site)
    assert result.totals["compute_racks"] == 10
    assert result.power_mw["it_expected"] == pytest.approx(1.0)


def test_grid_basis_covers_its_headroom_over_the_facility():
    # 1.342 MW grid / 1.10 headroom / 1.22 PUE = 1.0 MW of IT: 10 racks of 100 kW.
    site = bound_site(BARE, catalog_with(typical_rack()), {
        "compute.skus": ["r"], "power.budget": 1.10 * 1.22 + 1e-9, "power.basis": "grid",
        "power.pue": 1.22})
    result = plan(site)
    assert result.totals["compute_racks"] == 10
    assert result.power_mw["grid"] == pytest.approx(1.10 * result.power_mw["facility"])
    assert result.power_mw["facility"] == pytest.approx(1.22 * 1.0)
    names = [row.name for row in result.constraints]
    assert "grid connection" in names


def test_grid_headroom_is_a_site_key():
    site = bound_site(BARE, catalog_with(typical_rack()), {
        "compute.skus": ["r"], "power.budget": 1.5 * 1.22 + 1e-9, "power.basis": "grid",
        "power.grid_headroom": 1.5})
    assert plan(site).totals["compute_racks"] == 10


@pytest.mark.parametrize(("sku", "switch", "optic"), [
    ("gb300-nvl72", "quantum-x800-q3400", "osfp-1.6t-2x800g"),
    ("gb200-nvl72", "quantum-2-qm9700", "osfp-800g-2x400g"),
    ("hgx-h100-rack", "quantum-2-qm9700", "osfp-800g-2x400g"),
    ("dgx-b300-rack", "quantum-x800-q3400", "osfp-1.6t-2x800g"),
])
def test_each_generation_gets_its_reference_fabric(sku, switch, optic):
    bound = bound_site({"power": {"budget": 10}}, overrides={"compute.skus": [sku]})
    assert (bound.switch.id, bound.optic.id) == (switch, optic)


def test_the_fastest_nics_choose_the_fabric_of_a_mixed_site():
    bound = bound_site({"power": {"budget": 10}},
                       overrides={"compute.skus": ["gb200-nvl72", "gb300-nvl72"]})
    assert bound.switch.id == "quantum-x800-q3400"


def test_a_named_switch_gets_an_optic_that_matches_its_ports():
    bound = bound_site({"power": {"budget": 10}}, overrides={
        "compute.skus": ["gb300-nvl72"], "network.switch": "quantum-2-qm9700"})
    assert bound.optic.gbps_per_end == 400 and bound.optic.media == "optical"


def test_auxiliary_networks_are_sized_per_gpu():
    # 720 GPUs: front-end 3 x 720 x 200 / (64 x 800) = 8.4 -> 9 SN5600; storage
    # 3 x 720 x 12.5 / 51,200 = 0.53 -> 1; management: each GB300 NVL72 carries its own two
    # SN2201 (20 in all), fed from the rack's busbar: counted and priced, not powered again.
    site = bound_site({"power": {"budget": 100}, "storage": {"enabled": False},
                       "cpu": {"enabled": False}}, overrides={
        "compute.skus": ["gb300-nvl72"], "compute.min_racks": {"gb300-nvl72": 10},
        "compute.max_racks": {"gb300-nvl72": 10}})
    result = plan(site)
    net = result.network
    assert (net["frontend_switches"], net["storage_switches"], net["management_switches"]) \
        == (math.ceil(3 * 720 * 200 / 51_200), 1, 20)
    catalog = load_catalog()
    sn5600, sn2201 = catalog.get("spectrum-x-sn5600"), catalog.get("spectrum-sn2201")
    power_kw = 10 * sn5600.power_max_w / 1000
    assert net["auxiliary_power_kw"] == pytest.approx(power_kw)
    assert result.power_mw["auxiliary_networks"] == pytest.approx(power_kw / 1000)
    # the in-rack switches take no network rack: 10 SN5600 x 2U = 20U, one rack
    assert net["auxiliary_racks"] == 1
    assert result.cost["capex_breakdown_usd"]["auxiliary_networks"] == pytest.approx(
        10 * sn5600.price_usd + 20 * sn2201.price_usd)
    assert net["dpus"] == 10 * 18  # one BlueField-3 per GB300 compute tray


def test_nvl72_racks_carry_their_management_switches_in_their_power():
    catalog = load_catalog()
    for sku_id in ("gb300-nvl72", "gb200-nvl72"):
        assert catalog.get(sku_id).management_switch_count == 2
    # before: 2 x 98 W per NVL72 rack counted again in the management line
    one = plan(bound_site({"power": {"budget": 100}}, overrides={
        "compute.skus": ["gb300-nvl72"], "compute.min_racks": {"gb300-nvl72": 1},
        "compute.max_racks": {"gb300-nvl72": 1}, "network.frontend_gbps_per_gpu": 0,
        "network.storage_gbps_per_gpu": 0}))
    assert one.network["management_switches"] == 2
    assert one.network["auxiliary_power_kw"] == 0
    assert one.network["auxiliary_racks"] == 0


def test_racks_without_in_rack_management_switches_power_the_line():
    # 4 HGX H100 racks of 32 GPUs: 128 / 36 -> 4 SN2201, each at its 150 W maximum
    catalog = load_catalog()
    hgx = catalog.get("hgx-h100-rack")
    assert hgx.management_switch_count == 0
    result = plan(bound_site({"power": {"budget": 100}}, overrides={
        "compute.skus": [hgx.id], "compute.min_racks": {hgx.id: 4},
        "compute.max_racks": {hgx.id: 4}, "network.frontend_gbps_per_gpu": 0,
        "network.storage_gbps_per_gpu": 0}))
    count = math.ceil(4 * hgx.gpu_count / 36)
    assert result.network["management_switches"] == count
    assert result.network["auxiliary_power_kw"] == pytest.approx(
        count * catalog.get("spectrum-sn2201").power_max_w / 1000)


def test_auxiliary_networks_switch_off_with_a_zero_ratio():
    site = bound_site({"power": {"budget": 10}}, overrides={
        "network.frontend_gbps_per_gpu": 0, "network.storage_gbps_per_gpu": 0,
        "network.gpus_per_management_switch": 0})
    result = plan(site)
    assert result.network["auxiliary_switches"] == 0
    assert result.power_mw["auxiliary_networks"] == 0


def test_a_cancelled_sku_cannot_be_planned(run):
    result = run("plan", "--sku", "vr-nvl144-cpx", "--set", "compute.allow_announced=true")
    assert result.exit_code == 3
    assert "is cancelled" in result.stderr


def test_every_bundled_estimate_has_a_range_and_references_resolve():
    catalog = load_catalog()
    for sku in catalog.sorted():
        missing = [name for name in sku.estimates if name not in sku.ranges]
        assert not missing, (sku.id, missing)
        if isinstance(sku, ComputeRack):
            for ref, kind in ((sku.nic, Nic), (sku.dpu, Nic), (sku.fabric_switch, Switch),
                              (sku.fabric_optic, Optic)):
                assert ref is None or isinstance(catalog.get(ref), kind), (sku.id, ref)
            assert sku.power_typical_kw is None or sku.power_typical_kw <= sku.power_kw
            if sku.dpu is not None:
                assert catalog.get(sku.dpu).dpu and sku.dpu_count > 0


@pytest.mark.parametrize("sku_id", [
    "hgx-h100-rack", "hgx-h200-rack", "hgx-b200-rack", "dgx-b200-rack", "dgx-b300-rack",
    "gb200-nvl72", "gb300-nvl72", "vera-rubin-nvl72", "vr-nvl144-cpx", "kyber-nvl576",
    "gh200-quad-node", "quantum-2-qm9700", "quantum-x800-q3400", "quantum-x-q3450",
    "spectrum-x-sn5600", "spectrum-x-sn5610", "spectrum-sn2201", "connectx-7", "connectx-8",
    "bluefield-3", "osfp-400g-dr4", "osfp-800g-2x400g", "osfp-1.6t-2x800g",
    "lacc-800g-copper", "aec-800g", "dac-400g-passive", "cpo-800g-port"])
def test_the_catalog_holds_the_hardware_of_the_issue(sku_id):
    sku = load_catalog().get(sku_id)
    assert sku.sources and sku.available_from


def test_switches_keep_typical_and_maximum_power():
    catalog = load_catalog()
    qm9700 = catalog.get("quantum-2-qm9700")
    assert (qm9700.power_w, qm9700.power_max_w) == (747, 1720)  # datasheet
    for switch in catalog.of_kind("switch"):
        assert switch.power_max_w is None or switch.power_max_w >= switch.power_w


def test_planes_grow_when_one_plane_cannot_connect_every_gpu():
    # A 64-port NDR QM9700 holds 64^3/4 = 65,536 400G GPUs in one 3-tier plane; 1.2 GW of
    # GB200 feeds ~500,000, so the site gets more planes: 2 of 200G hold 524,288 per plane,
    # 4 of 100G 4,194,304. Before issue 14's least-support bound the site got 4 (budget /
    # rack power alone, ~536,000 GPUs).
    big = bound_site({"power": {"budget": "1.2 GW"}}, overrides={"compute.skus": ["gb200-nvl72"]})
    assert big.site.network.planes == 2
    small = bound_site({"power": {"budget": "100 MW"}},
                       overrides={"compute.skus": ["gb200-nvl72"]})
    assert small.site.network.planes == 1
    pinned = bound_site({"power": {"budget": "1.2 GW"}},
                        overrides={"compute.skus": ["gb200-nvl72"], "network.planes": 1})
    assert pinned.site.network.planes == 1
    result = plan(big)
    assert plan(pinned).totals["gpus"] <= 65_536 < result.totals["gpus"] < 524_288
    four = plan(bound_site({"power": {"budget": "1.2 GW"}}, overrides={
        "compute.skus": ["gb200-nvl72"], "network.planes": 4}))
    assert result.objective["value"] >= four.objective["value"] * (1 - 1e-9)


def test_the_least_support_bound_is_below_what_a_plan_draws():
    # each GB200 rack's least share of switches, CPU pool, storage and auxiliary switches is
    # at most what the 1.2 GW plan draws beside its racks, per rack
    from gigaplan.inputs.site import least_support_kw

    bound = bound_site({"power": {"budget": "1.2 GW"}},
                       overrides={"compute.skus": ["gb200-nvl72"]})
    sku = bound.compute[0]
    floor = least_support_kw(bound.site, sku, bound.switch, bound.cpu_rack, bound.storage_rack,
                             {"frontend_switch": bound.frontend_switch,
                              "storage_switch": bound.storage_switch,
                              "management_switch": bound.management_switch})
    result = plan(bound)
    racks = result.totals["compute_racks"]
    drawn_kw = (result.power_mw["it"] - result.power_mw["compute"]) * 1000 / racks
    assert 0 < floor <= drawn_kw
    # fabric share alone: 72 x 400 x 3 / (64 x 400) QM9700 x 747 W = 2.52 kW
    assert floor > 72 * 400 * 3 / (64 * 400) * 0.747


def test_auto_planes_never_shrink_with_more_power():
    planes = [bound_site({"power": {"budget": f"{gw} GW"}}, overrides={
        "compute.skus": ["gb200-nvl72"]}).site.network.planes
        for gw in (0.05, 0.1, 0.2, 0.4, 0.8, 1.2, 1.3, 2, 4, 8)]
    assert planes == sorted(planes) and planes[0] == 1 and planes[-1] >= 4


def test_a_split_module_serves_every_slower_port_end():
    # 2 planes of 200G on 800G twin-port (2 x 400G) modules: each module serves 4 x 200G ends,
    # so splitting does not double the optics.
    one = plan(bound_site({"power": {"budget": "50 MW"}},
                          overrides={"compute.skus": ["gb200-nvl72"], "network.planes": 1}))
    two = plan(bound_site({"power": {"budget": "50 MW"}},
                          overrides={"compute.skus": ["gb200-nvl72"], "network.planes": 2}))
    assert two.network["optics"] <= one.network["optics"] * 1.05


def test_fp4_on_hopper_falls_back_to_fp8_with_a_warning(run):
    import json

    result = run("plan", "--sku", "hgx-h100-rack", "--power", "20MW", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["objective"]["name"] == "fp8" and data["objective"]["value"] > 0
    assert data["totals"]["gpus"] > 0
    assert any("fp4" in w and "fp8" in w.lower() and "hgx-h100-rack" in w
               for w in data["warnings"])
    assert "warning:" in result.stderr


def test_fp4_stays_the_objective_when_some_rack_has_it():
    from gigaplan.formulation.constraints import effective_objective

    both = bound_site({"power": {"budget": 10}},
                      overrides={"compute.skus": ["hgx-h100-rack", "gb300-nvl72"]})
    assert effective_objective(both) == "fp4"
    hopper = bound_site({"power": {"budget": 10}}, overrides={"compute.skus": ["hgx-h100-rack"],
                                                             "objective": "fp8"})
    assert effective_objective(hopper) == "fp8"


@pytest.mark.parametrize(("tier", "per_mw"), [("air", 11.7e6), ("liquid", 12.7e6),
                                              ("liquid-generation", 14.7e6)])
def test_facility_capex_follows_the_design_tier(tier, per_mw):
    from gigaplan.formulation.economics import facility_redundancy_factor

    result = plan(bound_site({"power": {"budget": 10}}, overrides={
        "economics.facility_tier": tier}))
    assert result.cost["capex_breakdown_usd"]["facility"] == pytest.approx(
        per_mw * facility_redundancy_factor(1.0) * result.power_mw["it"])


def test_an_explicit_facility_capex_overrides_the_tier():
    result = plan(bound_site({"power": {"budget": 10}}, overrides={
        "economics.facility_tier": "air", "economics.facility_capex_per_mw": "$20M",
        "economics.facility_redundancy_scaling": False}))
    assert result.cost["capex_breakdown_usd"]["facility"] == pytest.approx(
        20e6 * result.power_mw["it"])


def test_montecarlo_without_an_uncertainty_table_samples_the_estimate_ranges(run, tmp_path):
    import json

    site = tmp_path / "site.toml"
    site.write_text('[power]\nbudget = "50 MW"\n')
    result = run("montecarlo", str(site), "--samples", "6", "--seed", "3", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    catalog = load_catalog()
    gb300 = catalog.get("gb300-nvl72")
    low, high = gb300.ranges["price_usd"]
    assert data["uncertain"]["catalog.gb300-nvl72.price_usd"] == f"uniform({low!r}, {high!r})"
    assert "catalog.quantum-x800-q3400.power_w" in data["uncertain"]
    # only estimates with a range of non-zero width: the firm design load is not sampled
    assert "catalog.gb300-nvl72.power_kw" not in data["uncertain"]
    assert data["errors"] == []
    capex = data["optimal_plans"]["fields"]["cost.capex_usd"]
    assert capex["min"] < capex["max"]
