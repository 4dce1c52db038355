"""An infeasible site says what to change (issue 16, point 2): each limit's least value that
makes the site feasible on its own, exact on hand-solvable sites, rounded outward to a value
people write, checked by planning again; else the smallest combination."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from conftest import parse_json
from helpers import BARE, bound_site, catalog_with, rack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gigaplan.cli import app
from gigaplan.planner import plan
from gigaplan.studies.explain import (
    alternatives,
    combination,
    phased_limits,
    relaxable_limits,
    relaxed,
    round_significant,
)

# one compute rack: 100 kW, $1M, 72 GPUs of 100 GB HBM (7.2 TB a rack); no network, storage,
# CPU pool or facility capex, IT basis: r racks use r x 0.1 MW, r positions and $r M
CATALOG = catalog_with(rack("r", power_kw=100, price_usd=1e6))


def site(**overrides):
    return bound_site(BARE, CATALOG, {"compute.skus": ["r"],
                                      "economics.facility_capex_per_mw": 0, **overrides})


def by_limit(entries):
    return {entry["limit"]: entry for entry in entries}


def test_round_significant_rounds_outward():
    assert round_significant(8_702_394_333.2, 3, up=True) == 8.71e9
    assert round_significant(1204.6, 3, up=True) == 1210.0
    assert round_significant(1210.0, 3, up=True) == 1210.0
    assert round_significant(62_208.0, 3, up=False) == 62_200.0
    assert round_significant(0.0123456, 3, up=False) == 0.0123


def test_capex_fits_ten_racks_and_the_floor_needs_thirteen():
    # $10M buys 10 racks, 20 positions and 10 MW hold more: a floor of 13 racks' GPUs fails
    bound = site(**{"budget.capex": 10e6, "space.rack_positions": 20,
                    "requirements": ["totals.gpus >= 936"]})
    assert plan(bound).status == "infeasible"
    entries = by_limit(alternatives(bound))
    assert set(entries) == {"power.budget", "space.rack_positions", "budget.capex",
                            "totals.gpus >= 936"}
    capex = entries["budget.capex"]
    assert capex["sufficient_alone"] and capex["least"] == pytest.approx(13e6)
    assert capex["proposed"] == 13e6 and capex["unit"] == "USD"
    assert capex["text"] == "raise the capex cap (budget.capex) from $10M to $13M"
    floor = entries["totals.gpus >= 936"]
    assert floor["sufficient_alone"] and floor["proposed"] == 720  # the 10 racks $10M buys
    assert floor["requirement"] == "totals.gpus >= 720"
    assert floor["text"] == ("lower the requirement totals.gpus >= 936 to 720 GPUs "
                             "(edit requirements in test.toml)")
    for key in ("power.budget", "space.rack_positions"):  # capex still allows 10 racks only
        assert not entries[key]["sufficient_alone"] and entries[key]["proposed"] is None


def test_power_fits_ten_racks_and_the_floor_needs_thirteen():
    bound = site(**{"power.budget": 1, "space.rack_positions": 20, "budget.capex": 20e6,
                    "requirements": ["totals.gpus >= 936"]})
    entries = by_limit(alternatives(bound))
    assert entries["power.budget"]["proposed"] == pytest.approx(1.3)  # 13 x 100 kW
    assert entries["power.budget"]["text"] == \
        "raise the power budget (power.budget) from 1 MW to 1.3 MW"
    assert entries["totals.gpus >= 936"]["proposed"] == 720
    assert not entries["budget.capex"]["sufficient_alone"]
    assert not entries["space.rack_positions"]["sufficient_alone"]
    power = next(limit for limit in relaxable_limits(bound) if limit.key == "power.budget")
    assert not plan(relaxed(bound, [(power, 1.299)])).found  # the least: 1 kW less fails


def test_plan_names_the_power_budget_as_explain_does():
    # plan's single-limit diagnosis left the power budget out (its rows bound the rack
    # counts): 1.3 MW alone frees this site, so plan names it, as explain does
    bound = site(**{"power.budget": 1, "space.rack_positions": 20, "budget.capex": 20e6,
                    "requirements": ["totals.gpus >= 936"]})
    result = plan(bound)
    assert result.conflicts == ["power.budget", "totals.gpus >= 936"]
    assert result.conflicts == sorted(entry["limit"] for entry in alternatives(bound)
                                      if entry["sufficient_alone"])
    assert result.message.endswith("makes the site feasible: power.budget, totals.gpus >= 936")


def test_positions_fit_ten_racks_and_the_floor_needs_thirteen():
    bound = site(**{"space.rack_positions": 10, "requirements": ["totals.gpus >= 936"]})
    entries = by_limit(alternatives(bound))
    assert entries["space.rack_positions"]["proposed"] == 13
    assert entries["space.rack_positions"]["text"] == \
        "raise the rack positions (space.rack_positions) from 10 racks to 13 racks"
    assert entries["totals.gpus >= 936"]["proposed"] == 720
    positions = next(limit for limit in relaxable_limits(bound)
                     if limit.key == "space.rack_positions")
    assert not plan(relaxed(bound, [(positions, 12)])).found


def test_rack_cap_and_minimum_are_relaxable():
    bound = site(**{"compute.max_racks": {"r": 5}, "requirements": ["totals.gpus >= 700"]})
    entries = by_limit(alternatives(bound))
    assert entries["compute.max_racks.r"]["proposed"] == 10  # ceil(700 / 72)
    assert entries["totals.gpus >= 700"]["proposed"] == 360
    bound = site(**{"compute.min_racks": {"r": 12}, "budget.capex": 10e6})
    entries = by_limit(alternatives(bound))
    assert entries["compute.min_racks.r"]["proposed"] == 10
    assert entries["compute.min_racks.r"]["text"].startswith("lower the r rack minimum")
    assert entries["budget.capex"]["proposed"] == 12e6


def test_a_ratio_requirement_gets_its_least_value():
    # $/GPU-h falls with more racks (the fixed share of opex is spread): the least is exact
    bound = site(**{"requirements": ["cost.usd_per_gpu_hour <= 0.01", "totals.gpus >= 72"]})
    entries = by_limit(alternatives(bound))
    ratio = entries["cost.usd_per_gpu_hour <= 0.01"]
    assert ratio["sufficient_alone"]
    best = min(plan(site(**{"requirements": [f"totals.gpus >= {72 * n}",
                                             f"totals.gpus <= {72 * n}"]})
                    ).cost["usd_per_gpu_hour"] for n in (1, 50, 100))
    assert ratio["least"] == pytest.approx(best, rel=1e-6)
    assert ratio["least"] <= ratio["proposed"] <= ratio["least"] * 1.01


def test_when_no_limit_alone_is_enough_the_smallest_combination():
    # a cap of 10 racks and $10M, a floor of 13 racks' GPUs and one of 14 racks' HBM: relaxing
    # either cap leaves the other, either floor leaves the other; lowering both floors is the
    # least relative change (216/936 + 28.8/100 < 2 x 4/10)
    bound = site(**{"budget.capex": 10e6, "compute.max_racks": {"r": 10},
                    "requirements": ["totals.gpus >= 936", "totals.hbm_tb >= 100"]})
    entries = alternatives(bound)
    assert not any(entry["sufficient_alone"] for entry in entries)
    joint = by_limit(combination(bound))
    assert set(joint) == {"totals.gpus >= 936", "totals.hbm_tb >= 100"}
    assert joint["totals.gpus >= 936"]["proposed"] == 720
    assert joint["totals.hbm_tb >= 100"]["proposed"] == 72.0
    limits = {limit.key: limit for limit in relaxable_limits(bound)}
    assert plan(relaxed(bound, [(limits[key], entry["proposed"])
                                for key, entry in joint.items()])).found


def test_a_capex_in_whole_racks_is_proposed_exactly():
    # found by the property below: $40M (20 racks at $2M) was rounded to $39,999,996 and failed
    catalog = catalog_with(rack("q", power_kw=50, price_usd=2e6))
    bound = bound_site(BARE, catalog, {"compute.skus": ["q"], "economics.facility_capex_per_mw": 0,
                                       "power.budget": 1, "space.rack_positions": 20,
                                       "budget.capex": 2e6,
                                       "requirements": ["totals.gpus >= 1440"]})
    capex = by_limit(alternatives(bound))["budget.capex"]
    assert capex["sufficient_alone"] and capex["proposed"] == capex["least"] == 40e6


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(power_kw=st.sampled_from([50, 100, 140]), price_musd=st.integers(1, 3),
       budget_mw=st.integers(1, 20), positions=st.integers(1, 150),
       capex_musd=st.integers(1, 300), cap=st.none() | st.integers(1, 150),
       extra=st.integers(1, 60))
def test_each_alternative_alone_makes_the_site_feasible_and_is_the_least(
        power_kw, price_musd, budget_mw, positions, capex_musd, cap, extra):
    # the floor asks for `extra` racks more than the tightest limit allows: always infeasible
    most = min(budget_mw * 1000 // power_kw, positions, capex_musd // price_musd,
               150 if cap is None else cap)
    overrides = {"compute.skus": ["q"], "economics.facility_capex_per_mw": 0,
                 "power.budget": budget_mw, "space.rack_positions": positions,
                 "budget.capex": capex_musd * 1e6,
                 "requirements": [f"totals.gpus >= {72 * (most + extra)}"]}
    if cap is not None:
        overrides["compute.max_racks"] = {"q": cap}
    catalog = catalog_with(rack("q", power_kw=power_kw, price_usd=price_musd * 1e6))
    bound = bound_site(BARE, catalog, overrides)
    assert not plan(bound).found
    limits = {limit.key: limit for limit in relaxable_limits(bound)}
    entries = by_limit(alternatives(bound))
    floor = entries[f"totals.gpus >= {72 * (most + extra)}"]
    assert floor["sufficient_alone"] and floor["proposed"] == 72 * most  # exact
    # plan names the same limits, any one of which frees the site
    assert set(plan(bound).conflicts) == {key for key, entry in entries.items()
                                          if entry["sufficient_alone"]}
    for entry in entries.values():
        limit = limits[entry["limit"]]
        if not entry["sufficient_alone"]:
            loose = 0.0 if limit.sense == ">=" else limit.current * 1000
            assert not plan(relaxed(bound, [(limit, loose)])).found, entry
            continue
        assert plan(relaxed(bound, [(limit, entry["proposed"])])).found, entry
        # the least: a rack's worth short of it (1 % of power) leaves the site infeasible
        worse = {"power.budget": entry["least"] * 0.99, "budget.capex": entry["least"] - 1,
                 "space.rack_positions": entry["proposed"] - 1,
                 "compute.max_racks.q": entry["proposed"] - 1}.get(entry["limit"],
                                                                   entry["proposed"] + 72)
        assert not plan(relaxed(bound, [(limit, worse)])).found, entry
        if limit.key in ("budget.capex", "space.rack_positions", "compute.max_racks.q"):
            assert entry["proposed"] == entry["least"]  # whole racks: exact, not rounded


# --- the command line -----------------------------------------------------------------------

ISSUE = ("--require", "totals.gpus >= 150000", "--set", "budget.capex=$8B")


def explain_json(*args):
    result = CliRunner().invoke(app, ["explain", *args, "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 4, result.stderr
    return json.loads(result.stdout)


def applied(args: tuple[str, ...], entry: dict) -> list[str]:
    """``args`` with the one change of ``entry``'s ``argument``: the ``--require`` that gave
    the requirement replaced by the new one, a flag given in ``args`` takes the new value, a
    ``--set`` is added."""
    option, value = shlex.split(entry["argument"])
    if option == "--require":  # in place of the --require that gave it
        assert entry["kind"] == "requirement" and value == entry["requirement"]
        (at,) = [index + 1 for index, word in enumerate(args[:-1])
                 if word == "--require" and args[index + 1].strip() == entry["limit"]]
        return [*args[:at], value, *args[at + 1:]]
    assert entry["kind"] == "site"
    if option != "--set":  # the flag that set the limit: a --set would lose to it
        at = args.index(option) + 1
        return [*args[:at], value, *args[at + 1:]]
    assert value.startswith(f"{entry['limit']}=")
    return [*args, option, value]


@pytest.mark.parametrize("args", [
    ISSUE,
    (*ISSUE, "--set", "space.rack_positions=1000"),
    ("--require", "totals.gpus >= 150000", "--set", "space.rack_positions=1000"),
    ("--power", "10MW", "--require", "totals.gpus >= 100000"),
    ("--set", "power.budget=10MW", "--require", "totals.gpus >= 100000"),
    ("--power", "10MW", "--set", "power.budget=2GW", "--require", "totals.gpus >= 100000"),
    ("--require", "totals.gpus >= 1000", "--require", "totals.gpus >= 150000", "--set",
     "budget.capex=$8B"),
    ("docs/examples/phased-site.toml", "--require", "totals.gpus >= 400000"),
    ("docs/examples/phased-site.toml", "--set", "budget.capex=$1B"),
], ids=["capex", "capex-and-positions", "positions", "power", "power-set", "power-both",
        "two-requires", "phased", "phased-file-requirement"])
def test_each_alternative_of_explain_json_alone_makes_plan_feasible(args):
    data = explain_json(*args)
    assert data["schema"] == "gigaplan.explain/1" and data["status"] == "infeasible"
    alone = [entry for entry in data["alternatives"] if entry["sufficient_alone"]]
    assert alone and data["combination"] is None
    for entry in data["alternatives"]:
        assert set(entry) >= {"limit", "kind", "current", "proposed", "unit",
                              "sufficient_alone", "least"}
    given = [args[index + 1] for index, word in enumerate(args[:-1]) if word == "--require"]
    for entry in alone:
        if entry["argument"] is None:  # edited in the site file: a phase's key or requirement
            assert entry["phase"] is not None or entry["limit"] not in given, entry
            assert "(edit " in entry["text"] or entry["phase"] is not None, entry
            continue
        assert entry["kind"] == "site" or entry["limit"] in given, entry
        result = CliRunner().invoke(app, ["plan", *applied(args, entry), "--format", "json"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, (entry, result.stderr)


def test_the_issue_case_offers_capex_or_the_gpu_floor_in_rounded_units():
    entries = by_limit(explain_json(*ISSUE)["alternatives"])
    capex = entries["budget.capex"]
    assert capex["sufficient_alone"] and capex["current"] == 8e9
    assert capex["least"] <= capex["proposed"] == round_significant(capex["least"], 3, up=True)
    assert re.fullmatch(r"raise the capex cap \(budget.capex\) from \$8B to \$\d+(\.\d+)?B",
                        capex["text"])
    floor = entries["totals.gpus >= 150000"]
    assert floor["proposed"] == floor["least"] and floor["proposed"] % 72 == 0
    assert not entries["power.budget"]["sufficient_alone"]  # capex binds whatever the power
    # it came from --require: the flag to give instead, shell-quoted
    new = f"totals.gpus >= {floor['proposed']:.0f}"
    assert floor["requirement"] == new
    assert floor["argument"] == f"--require '{new}'"
    assert floor["text"] == (f"lower the requirement totals.gpus >= 150000 to "
                             f"{floor['proposed']:,.0f} GPUs (give --require '{new}' instead)")


def test_a_requirement_of_the_site_file_says_which_file_and_key_to_edit():
    # the file's block-1 floor and the --require floor: only the flag has an argument
    args = ("docs/examples/phased-site.toml", "--set", "budget.capex=$1B",
            "--require", "totals.gpus >= 1000")
    entries = by_limit(explain_json(*args)["alternatives"])
    phase_floor = entries["totals.gpus >= 40000"]
    assert phase_floor["phase"] == "block-1" and phase_floor["argument"] is None
    assert phase_floor["sufficient_alone"] and phase_floor["text"].endswith(
        " GPUs (edit phases[0].requirements in docs/examples/phased-site.toml)")
    flag_floor = entries["totals.gpus >= 1000"]  # not enough alone: no change to give
    assert flag_floor["phase"] is None and not flag_floor["sufficient_alone"]
    assert flag_floor["argument"] is None and flag_floor["text"] == ""
    # a single site's own requirement: the site file's requirements key
    bound = site(**{"budget.capex": 10e6, "requirements": ["totals.gpus >= 936"]})
    floor = by_limit(alternatives(bound))["totals.gpus >= 936"]
    assert floor["argument"] is None
    assert floor["text"] == ("lower the requirement totals.gpus >= 936 to 720 GPUs "
                             "(edit requirements in test.toml)")


def test_rack_positions_are_offered_when_they_alone_are_enough():
    args = ("--require", "totals.gpus >= 150000", "--set", "space.rack_positions=1000")
    entries = by_limit(explain_json(*args)["alternatives"])
    positions = entries["space.rack_positions"]
    assert positions["sufficient_alone"] and positions["unit"] == "racks"
    assert positions["proposed"] == positions["least"] > 1000
    fewer = CliRunner().invoke(app, ["plan", *args[:2], "--set",
                                     f"space.rack_positions={positions['proposed'] - 1}"])
    assert fewer.exit_code == 4  # one position fewer is not enough: the least


def test_explain_table_lists_the_alternatives_at_80_columns():
    result = CliRunner().invoke(app, ["explain", *ISSUE], env={"COLUMNS": "80"},
                                catch_exceptions=False)
    assert result.exit_code == 4
    text = result.stdout
    assert "Any one of these changes alone makes the site feasible:" in text
    assert "raise the capex cap (budget.capex) from $8B to $" in text.replace("\n", " ")
    assert "lower the requirement totals.gpus >= 150000 to" in text
    assert "USD" not in text and "must" not in text  # no raw dollars, no combined "must"s
    assert all(len(line) <= 80 for line in text.splitlines())


def test_plan_names_the_limits_and_points_to_explain_with_the_same_args(run):
    result = run("plan", *ISSUE)
    assert result.exit_code == 4 and result.stdout == ""
    assert "budget.capex, totals.gpus >= 150000" in result.stderr
    command = result.stderr.split("what to change: ", 1)[1].strip()
    assert shlex.split(command) == ["gigaplan", "explain", *ISSUE[:2], "--set",
                                    "budget.capex=$8B"]


def test_plan_names_every_limit_when_none_alone_is_to_blame(run):
    args = ("--sku", "gb300-nvl72", "--require", "totals.gpus >= 500000", "--require",
            "totals.hbm_tb >= 200000", "--set", "compute.max_racks.gb300-nvl72=3000")
    result = run("plan", *args)
    assert result.exit_code == 4
    message = " ".join(result.stderr.split())
    assert "no single limit is to blame" in message
    assert "totals.hbm_tb >= 200000" in message and "totals.gpus >= 500000" in message
    data = parse_json(run("explain", *args, "--format", "json"))
    assert not any(entry["sufficient_alone"] for entry in data["alternatives"])
    changes = data["combination"]
    assert {entry["limit"] for entry in changes} == {"totals.gpus >= 500000",
                                                    "totals.hbm_tb >= 200000"}
    fixed = list(args)
    for entry in changes:
        fixed = [entry["requirement"] if word == entry["limit"] else word for word in fixed]
    assert run("plan", *fixed).exit_code == 0


@pytest.mark.parametrize(("args", "name"), [
    (("--power", "10MW", "--require", "totals.gpus >= 100000"), "--power"),
    (("--power", "10MW", "--set", "power.budget=2GW", "--require", "totals.gpus >= 100000"),
     "--power"),
    (("--set", "power.budget=10MW", "--require", "totals.gpus >= 100000"), "power.budget"),
], ids=["flag", "flag-over-set", "set"])
def test_a_limit_a_flag_set_is_named_by_the_flag(run, args, name):
    # a --set power.budget would lose to --power: the change names what the user must edit
    entries = by_limit(explain_json(*args)["alternatives"])
    power = entries["power.budget"]
    assert power["sufficient_alone"]
    assert power["text"].startswith(f"raise the power budget ({name}) from 10 MW to ")
    argument = shlex.split(power["argument"])
    if name == "--power":
        assert argument[0] == "--power" and re.fullmatch(r"\d+(\.\d+)?[kMG]?W", argument[1])
    else:
        assert argument[0] == "--set" and argument[1].startswith("power.budget=")
    table = run("explain", *args, "--format", "table")
    assert f"({name})" in table.stdout
    result = run("plan", *args)
    assert result.exit_code == 4
    message = " ".join(result.stderr.split())
    assert f"makes the site feasible: {name}, totals.gpus >= 100000" in message
    if name == "--power":
        assert "power.budget" not in message.split("what to change:")[0]


def test_the_explain_command_plan_prints_runs_as_is(tmp_path, run):
    # the site path has a space, the capex a dollar sign, the requirement a '>=': all quoted
    site_file = tmp_path / "my site.toml"
    assert run("init", str(site_file)).exit_code == 0
    args = (str(site_file), "--power", "10MW", "--sku", "gb300-nvl72", "--objective", "gpus",
            "--require", "totals.gpus >= 100000", "--set", "budget.capex=$8B")
    result = CliRunner().invoke(app, ["plan", *args], env={"COLUMNS": "60"},
                                catch_exceptions=False)
    assert result.exit_code == 4
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("what to change")]
    words = shlex.split(line.split(": ", 1)[1])
    assert words == ["gigaplan", "explain", *args]
    assert explain_json(*words[2:]) == explain_json(*args)


# --- phased sites: each phase's limits and the site's keys that bound every phase ------------

def phased(*phases, **overrides):
    return site(**{"phases": [{"name": name, "date": f"2026-0{index + 1}-01", **limits}
                              for index, (name, limits) in enumerate(phases)], **overrides})


def test_a_phase_power_or_its_floor_alone_frees_a_phased_site():
    # block-1 has 1 MW (10 racks) and must deliver 13 racks' GPUs; $20M would buy 20
    bound = phased(("block-1", {"power": 1, "requirements": ["totals.gpus >= 936"]}),
                   ("block-2", {"power": 3}), **{"budget.capex": 20e6})
    assert not plan(bound).found
    entries = alternatives(bound)
    limits = {limit.ident: limit for limit in phased_limits(bound)}
    assert [(entry["limit"], entry["phase"]) for entry in entries] == [
        ("phases[0].power", "block-1"), ("totals.gpus >= 936", "block-1"),
        ("phases[1].power", "block-2"), ("budget.capex", None)]
    power, floor, later, capex = entries
    assert power["sufficient_alone"] and power["proposed"] == pytest.approx(1.3)
    assert power["text"] == "raise the block-1 power (phases[0].power) from 1 MW to 1.3 MW"
    assert power["argument"] is None  # a phase's keys are edited in the site file
    assert floor["sufficient_alone"] and floor["proposed"] == 720
    assert floor["text"] == ("lower the requirement totals.gpus >= 936 of phase block-1 to "
                             "720 GPUs (edit phases[0].requirements in test.toml)")
    assert not later["sufficient_alone"] and not capex["sufficient_alone"]
    # checked by planning again: the proposal frees the site, a kilowatt or a rack less not
    assert plan(relaxed(bound, [(limits["phases[0].power"], 1.3)])).found
    assert not plan(relaxed(bound, [(limits["phases[0].power"], 1.299)])).found
    floor_limit = limits["phases[0].requirements: totals.gpus >= 936"]
    assert plan(relaxed(bound, [(floor_limit, 720)])).found
    assert not plan(relaxed(bound, [(floor_limit, 792)])).found
    assert plan(bound).conflicts == ["phases.block-1: power.budget",
                                     "phases.block-1: totals.gpus >= 936"]


def valid_phases(bound):
    """Phase power is cumulative and within the site's budget, as the site file must say."""
    powers = [phase.power_mw for phase in bound.site.phases]
    return powers == sorted(powers) and powers[-1] <= bound.site.power.budget_mw + 1e-9


def test_raising_a_phase_power_raises_later_phases_and_the_budget_with_it():
    # found by the property below: 1.3 MW in block-1 is above block-2's 1.2 MW and the site's
    # 1.2 MW budget, which a site file must not say; both rise with it
    bound = phased(("block-1", {"power": 1, "requirements": ["totals.gpus >= 936"]}),
                   ("block-2", {"power": 1.2}), **{"power.budget": 1.2})
    power = by_limit(alternatives(bound))["phases[0].power"]
    assert power["proposed"] == pytest.approx(1.3)
    assert power["raises_too"] == ["phases[1].power", "power.budget"]
    assert power["text"] == ("raise the block-1 power (phases[0].power) from 1 MW to 1.3 MW, "
                             "with phases[1].power and power.budget raised to match")
    limit = next(limit for limit in phased_limits(bound) if limit.key == "phases[0].power")
    changed = relaxed(bound, [(limit, 1.3)])
    assert valid_phases(changed) and changed.site.power.budget_mw == 1.3
    assert [phase.power_mw for phase in changed.site.phases] == [1.3, 1.3]


def test_the_capex_cap_bounds_every_phase_and_is_raised_once():
    # the cap holds each phase's cumulative capex: block-1's floor of 13 racks needs $13M
    bound = phased(("block-1", {"power": 2, "requirements": ["totals.gpus >= 936"]}),
                   ("block-2", {"power": 3, "rack_positions": 30}), **{"budget.capex": 10e6})
    entries = by_limit(alternatives(bound))
    capex = entries["budget.capex"]
    assert capex["sufficient_alone"] and capex["least"] == capex["proposed"] == 13e6
    assert capex["text"] == "raise the capex cap (budget.capex) from $10M to $13M"
    assert shlex.split(capex["argument"]) == ["--set", "budget.capex=$13M"]
    assert entries["totals.gpus >= 936"]["proposed"] == 720
    assert not entries["phases[1].rack_positions"]["sufficient_alone"]


def test_a_phased_site_gets_the_smallest_combination():
    # as the single-site case: 10 racks by the cap and $10M in every phase, the last phase
    # must hold 13 racks' GPUs and 14 racks' HBM: lowering both floors is the least change
    bound = phased(("block-1", {"power": 1}),
                   ("block-2", {"power": 2, "requirements": ["totals.gpus >= 936",
                                                             "totals.hbm_tb >= 100"]}),
                   **{"budget.capex": 10e6, "compute.max_racks": {"r": 10}})
    assert not any(entry["sufficient_alone"] for entry in alternatives(bound))
    joint = by_limit(combination(bound))
    assert set(joint) == {"totals.gpus >= 936", "totals.hbm_tb >= 100"}
    assert joint["totals.gpus >= 936"]["proposed"] == 720
    assert joint["totals.hbm_tb >= 100"]["proposed"] == 72.0
    assert {entry["phase"] for entry in joint.values()} == {"block-2"}
    limits = {limit.key: limit for limit in phased_limits(bound)}
    assert plan(relaxed(bound, [(limits[key], entry["proposed"])
                                for key, entry in joint.items()])).found


def test_explain_of_a_phased_site_lists_alternatives(run):
    args = ("docs/examples/phased-site.toml", "--require", "totals.gpus >= 400000")
    data = explain_json(*args)
    alone = [entry for entry in data["alternatives"] if entry["sufficient_alone"]]
    assert alone and data["combination"] is None
    assert {entry["limit"] for entry in alone} >= {"phases[2].power", "totals.gpus >= 400000"}
    power = by_limit(alone)["phases[2].power"]
    assert power["phase"] == "block-3" and power["current"] == 1000
    assert power["text"].startswith("raise the block-3 power (phases[2].power) from 1 GW to ")
    assert power["raises_too"] == ["power.budget"]  # the site's 1 GW budget: no phase above
    table = CliRunner().invoke(app, ["explain", *args], env={"COLUMNS": "80"})
    assert table.exit_code == 4
    assert "raise the block-3 power (phases[2].power) from 1 GW to" in table.stdout
    assert "not relaxed one by one" not in table.stdout
    # raising block-1 or block-2 that far raises block-3 with them: block-3's change, and more
    assert "block-1 power" not in table.stdout and "block-2 power" not in table.stdout
    assert by_limit(alone)["phases[0].power"]["raises_too"][:2] == ["phases[1].power",
                                                                  "phases[2].power"]


def explain_name(entry: dict) -> str:
    """A limit as explain's table names it: a phase's requirement with its phase."""
    phase = entry["phase"] if entry["kind"] == "requirement" and entry["phase"] else None
    return entry["limit"] + (f" (phase {phase})" if phase else "")


@pytest.mark.parametrize(("args", "named"), [
    (("--require", "totals.gpus >= 400000"),
     "relaxing any one of these limits alone makes the site feasible: phases[2].power, "
     "totals.gpus >= 400000"),
    (("--set", "budget.capex=$1B"),
     "totals.gpus >= 40000 (phase block-1) conflicts with the other limits; relaxing it "
     "alone makes the site feasible"),
    (("--set", "budget.capex=$100B", "--set", "compute.min_racks.gb300-nvl72=20000"),
     "compute.min_racks.gb300-nvl72 conflicts with the other limits in every phase it bounds; "
     "relaxing it makes the site feasible"),
], ids=["phase-power", "phase-requirement", "site-key-in-every-phase"])
def test_plan_names_a_phased_sites_limits_as_explain_does(run, args, named):
    # the model's row groups are per phase (phases.block-3: power.budget); the user edits
    # phases[2].power, a phase's requirement, or a site key once for every phase
    args = ("docs/examples/phased-site.toml", *args)
    result = run("plan", *args)
    assert result.exit_code == 4 and result.stdout == ""
    message = " ".join(result.stderr.split("what to change:")[0].split())
    assert named in message and "phases." not in message
    names = named.split(": ", 1)[1] if ": " in named else named.split(" conflicts")[0]
    alone = {explain_name(entry) for entry in explain_json(*args)["alternatives"]
             if entry["sufficient_alone"]}
    assert set(names.split(", ")) <= alone  # each limit plan names, explain offers to change


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first_mw=st.integers(1, 6), more_mw=st.integers(0, 6), positions=st.integers(1, 80),
       capex_musd=st.integers(1, 120), floor_phase=st.sampled_from([0, 1]),
       extra=st.integers(1, 30))
def test_each_phased_alternative_alone_frees_the_site_and_is_the_least(
        first_mw, more_mw, positions, capex_musd, floor_phase, extra):
    # racks of 100 kW and $1M: the floor asks for `extra` racks more than its phase allows
    powers = [first_mw, first_mw + more_mw]
    most = min(powers[floor_phase] * 10, positions, capex_musd)
    floor = f"totals.gpus >= {72 * (most + extra)}"
    phases = [{"power": power} for power in powers]
    phases[floor_phase]["requirements"] = [floor]
    phases[1]["rack_positions"] = positions
    phases[0]["rack_positions"] = min(positions, 40)
    bound = phased(("block-1", phases[0]), ("block-2", phases[1]),
                   **{"budget.capex": capex_musd * 1e6, "power.budget": powers[1]})
    assert not plan(bound).found
    limits = {limit.ident: limit for limit in phased_limits(bound)}
    entries = alternatives(bound)
    assert len(entries) == len(limits)
    for limit, entry in zip(limits.values(), entries, strict=True):
        if not entry["sufficient_alone"]:
            continue
        assert valid_phases(relaxed(bound, [(limit, entry["proposed"])])), entry
        assert plan(relaxed(bound, [(limit, entry["proposed"])])).found, entry
        worse = (entry["least"] * 0.99 if limit.key.endswith(".power") else
                 entry["least"] - 1 if limit.key == "budget.capex" else
                 entry["proposed"] + 72 if limit.requirement is not None else
                 entry["proposed"] - 1)
        assert not plan(relaxed(bound, [(limit, worse)])).found, entry
    assert any(entry["sufficient_alone"] for entry in entries)  # the floor, at least
