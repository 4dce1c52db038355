"""Issue 14: link media per fabric tier (docs/model.md, "Link media").

Hand-solvable fabrics: 72 nodes of 8 GPUs and 8 NICs at 800 Gb/s = 576 endpoints on a
Quantum-X800 Q3400 (radix 144, 72 down / 72 up): 8 leaves and 4 spines, 576 NIC-leaf and
576 leaf-spine links (NVIDIA's B300-XDR SuperPOD SU).
"""

from __future__ import annotations

import pytest
from helpers import BARE, bound_site, catalog_with, rack

from gigaplan.errors import SiteError
from gigaplan.inputs.catalog import load_catalog
from gigaplan.inputs.site import NetworkSection
from gigaplan.planner import plan

CATALOG = load_catalog()
NODE = rack("node", power_kw=1, gpus=8, nic_count=8)


def su(**network):
    overrides = {"compute.skus": ["node"], "power.budget": 1000, "network.enabled": True,
                 "compute.min_racks": {"node": 72}, "compute.max_racks": {"node": 72}}
    overrides.update({f"network.{key}": value for key, value in network.items()})
    return bound_site(BARE, catalog_with(NODE), overrides)


def lines(result):
    return {line["tier"]: line for line in result.network["media"]}


def test_leaf_placement_sets_the_run_and_the_access_cable():
    # run = 3 m + 0.6 m per rack crossed: in-rack 3.6 m (LACC, 5 m), middle of an 8-rack row
    # 5.4 m (AEC, 7 m), end of the row 7.8 m (optics: no 800G cable reaches)
    assert NetworkSection(leaf_placement="in-rack").access_run_m == pytest.approx(3.6)
    assert NetworkSection(leaf_placement="middle-of-row").access_run_m == pytest.approx(5.4)
    assert NetworkSection(leaf_placement="end-of-row").access_run_m == pytest.approx(7.8)
    ends = {placement: su(leaf_placement=placement).media[0].switch_end.id
            for placement in ("in-rack", "middle-of-row", "end-of-row")}
    assert ends == {"in-rack": "lacc-800g-copper", "middle-of-row": "aec-800g",
                    "end-of-row": "osfp-1.6t-2x800g"}


def test_default_tiers_are_optical_with_modules_at_both_ends():
    result = plan(su())
    media = lines(result)
    assert set(media) == {"nic-leaf", "leaf-spine"}  # two tiers: no spine-core links
    access, spine = media["nic-leaf"], media["leaf-spine"]
    assert (access["links"], spine["links"]) == (576, 576)
    # a 1.6T twin-port module serves two 800G ends
    assert (access["switch_units"], access["nic_units"]) == (288, 288)
    assert (spine["switch_units"], spine["nic_units"]) == (576, 0)
    assert access["nic_end"] == spine["switch_end"] == "osfp-1.6t-2x800g"
    optic = CATALOG.get("osfp-1.6t-2x800g")
    # NIC-end modules are fed from the compute racks: reported, not added to the network
    assert access["power_kw"] == pytest.approx(288 * optic.power_w / 1000)
    assert access["rack_power_kw"] == pytest.approx(288 * optic.power_w / 1000)
    assert result.network["power_kw"] == pytest.approx(
        12 * 2.9 + (288 + 576) * optic.power_w / 1000)
    assert result.network["optics"] == 288 + 288 + 576
    assert result.cost["capex_breakdown_usd"]["optics"] == pytest.approx(
        1_152 * optic.price_usd)


def test_in_rack_leaves_take_copper_for_the_nic_links():
    result = plan(su(leaf_placement="in-rack"))
    access, spine = lines(result)["nic-leaf"], lines(result)["leaf-spine"]
    lacc, optic = CATALOG.get("lacc-800g-copper"), CATALOG.get("osfp-1.6t-2x800g")
    assert access["switch_end"] == access["nic_end"] == lacc.id
    assert (access["switch_units"], access["nic_units"]) == (576, 576)  # one end per port
    assert spine["switch_end"] == optic.id and spine["switch_units"] == 576
    assert result.network["power_kw"] == pytest.approx(
        12 * 2.9 + 576 * lacc.power_w / 1000 + 576 * optic.power_w / 1000)
    assert result.cost["capex_breakdown_usd"]["optics"] == pytest.approx(
        1_152 * lacc.price_usd + 576 * optic.price_usd)


def test_forcing_copper_beyond_its_reach_is_an_error():
    with pytest.raises(SiteError, match=r"network.access_media: no copper cable .* 7.8 m"):
        su(access_media="copper")


def test_forced_optical_access_ignores_the_short_run():
    assert su(leaf_placement="in-rack", access_media="optical").media[0].switch_end.id \
        == "osfp-1.6t-2x800g"


def test_co_packaged_switch_needs_modules_only_at_the_nics():
    # Q3450: 144 CPO ports with their 9 W inside the switch's 4.2 kW; before issue 14 the plan
    # added a 1.6T module at every switch end as well
    q3450 = CATALOG.get("quantum-x-q3450")
    assert q3450.co_packaged_optics
    result = plan(su(switch="quantum-x-q3450"))
    access, spine = lines(result)["nic-leaf"], lines(result)["leaf-spine"]
    assert access["switch_end"] == spine["switch_end"] == "co-packaged"
    assert (access["switch_units"], access["nic_units"], spine["switch_units"]) == (0, 288, 0)
    assert result.network["optics"] == 288
    assert result.network["power_kw"] == pytest.approx(12 * q3450.power_w / 1000)


def test_copper_cannot_plug_into_co_packaged_ports():
    with pytest.raises(SiteError, match="co-packaged"):
        su(switch="quantum-x-q3450", leaf_placement="in-rack", access_media="copper")
    # auto falls back to optics at a co-packaged switch
    assert su(switch="quantum-x-q3450", leaf_placement="in-rack").media[0].nic_end.id \
        == "osfp-1.6t-2x800g"


def test_ndr_in_rack_links_take_a_split_cable():
    # a 400G QM9700 port: the passive DAC reaches only 2 m; an 800G LACC split 2 x 400G
    # serves two 400G ends per cable end (0.75 W each)
    bound = bound_site({"power": {"budget": 10}}, overrides={
        "compute.skus": ["gb200-nvl72"], "network.leaf_placement": "in-rack"})
    assert bound.media[0].switch_end.id == "lacc-800g-copper"
    assert bound.media[0].switch_end.ends_at(400) == 2


def test_three_tier_fabric_reports_spine_core_links():
    result = plan(bound_site({"power": {"budget": 100, "basis": "it"}},
                             overrides={"compute.skus": ["gb300-nvl72"]}))
    media = lines(result)
    assert result.network["tiers"] == 3
    tree = result.network["fabrics"][0]
    # every aggregation switch sends k/2 = 72 links up to the core
    assert media["spine-core"]["links"] == 72 * tree["spine_switches"]
    assert media["spine-core"]["switch_units"] == 72 * tree["spine_switches"]  # 2 ends / twin
    assert result.network["optics"] == sum(
        line["switch_units"] + line["nic_units"] for line in media.values())


def test_the_table_and_json_show_each_tier(run):
    import json

    result = run("plan", "--power", "50MW", "--set", "network.leaf_placement=in-rack",
                 "-f", "json")
    assert result.exit_code == 0
    media = {line["tier"]: line for line in json.loads(result.stdout)["network"]["media"]}
    assert media["nic-leaf"]["switch_end"] == "lacc-800g-copper"
    table = run("plan", "--power", "50MW", "--set", "network.leaf_placement=in-rack")
    assert table.exit_code == 0
    assert "lacc-800g-copper, both ends" in table.stdout
    assert "osfp-1.6t-2x800g, switch ends" in table.stdout


def test_one_more_rack_supports_its_share_of_each_tiers_link_ends():
    # the binds rule: a node (8 NICs at 800G, one 1.6T module serves 2 ends) needs 4 modules
    # at the leaves, 4 at its NICs and 2 x 8 x (72 up / 72 down) / 2 = 8 for leaf-spine links;
    # the 1,000 MW budget could feed a 3-tier tree, so the margin (as for the switches) takes
    # that shape: 8 more for spine-core links
    from gigaplan.formulation.build import build

    model = build(su())
    names = model.layout.names
    support = {names[index]: amount for index, amount in model.support["node"]
               if names[index].startswith("media-units")}
    assert support == {"media-units[nic-leaf-switch]": 4.0, "media-units[nic-leaf-nic]": 4.0,
                       "media-units[leaf-spine-switch]": 8.0,
                       "media-units[spine-core-switch]": 8.0}
