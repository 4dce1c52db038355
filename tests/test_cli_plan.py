"""`gigaplan plan` and `gigaplan init` through typer's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from importlib import resources

import jsonschema
import pytest
from conftest import parse_json

SCHEMA = json.loads(resources.files("gigaplan").joinpath("schemas/plan.schema.json").read_text())


def test_default_plan_json_validates_and_holds_the_default_site(run):
    result = run("plan", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = parse_json(result)
    jsonschema.validate(data, SCHEMA)
    assert data["schema"] == "gigaplan.plan/1" and data["status"] == "optimal"
    assert data["inputs"]["site"]["power"]["budget"] == 1000
    assert data["inputs"]["site"]["power"]["basis"] == "facility"
    assert [line["sku"] for line in data["racks"]] == ["gb300-nvl72", "grace-cpu-rack",
                                                      "storage-rack-qlc"]
    gb300 = data["racks"][0]
    assert data["totals"]["gpus"] == gb300["count"] * 72
    assert data["objective"] == {"name": "fp4", "unit": "dense FP4 PFLOPS",
                                 "value": data["totals"]["fp4_dense_pflops"]}
    assert data["power_mw"]["facility"] <= 1000
    assert data["network"]["tiers"] == 3  # > 10,368 GPUs needs a third tier at k = 144
    assert "seconds" not in data["solver"]
    assert any(row["name"] == "facility power" and row["binding"] for row in data["constraints"])


def test_plan_json_is_byte_identical_across_runs(run):
    assert run("plan", "--format", "json").stdout == run("plan", "--format", "json").stdout


def test_timings_adds_seconds(run):
    data = parse_json(run("plan", "--format", "json", "--timings"))
    assert data["solver"]["seconds"] > 0


def test_toml_and_csv_carry_the_same_content(run):
    data = parse_json(run("plan", "--format", "json"))
    as_toml = tomllib.loads(run("plan", "--format", "toml").stdout)
    assert as_toml["totals"] == data["totals"]
    assert as_toml["power_mw"] == pytest.approx(data["power_mw"])
    rows = dict(csv.reader(io.StringIO(run("plan", "--format", "csv").stdout)))
    assert rows["totals.gpus"] == str(data["totals"]["gpus"])
    assert rows["racks[gb300-nvl72].count"] == str(data["racks"][0]["count"])
    assert rows["network.leaf_switches"] == str(data["network"]["leaf_switches"])


def test_table_has_every_section(run):
    result = run("plan")
    assert result.exit_code == 0
    for title in ("Build-out", "Totals", "Power waterfall", "Fabric bill of materials",
                  "Space and cooling", "Capex (upfront)", "Cost per year",
                  "Energy, carbon, water", "What it delivers", "Constraints"):
        assert title in result.stdout
    assert "gb300-nvl72" in result.stdout


def test_flags_override_set_which_overrides_the_file(run, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[power]\nbudget = "100 MW"\nbasis = "it"\n[compute]\nskus = ["gb300-nvl72"]\n')
    base = parse_json(run("plan", str(site), "--format", "json"))
    assert base["inputs"]["site"]["power"]["budget"] == 100
    assert base["inputs"]["source"] == str(site)
    over = parse_json(run("plan", str(site), "--format", "json", "--set", "power.budget=50MW"))
    assert over["inputs"]["site"]["power"]["budget"] == 50
    flag = parse_json(run("plan", str(site), "--format", "json", "--set", "power.budget=50MW",
                          "--power", "0.2 GW", "--basis", "facility", "--pue", "1.1",
                          "--objective", "gpus"))
    power = flag["inputs"]["site"]["power"]
    assert (power["budget"], power["basis"], power["pue"]) == (200, "facility", 1.1)
    assert flag["objective"]["name"] == "gpus"


def test_sku_flag_restricts_compute(run):
    data = parse_json(run("plan", "--format", "json", "--power", "50MW", "--sku", "gb200-nvl72"))
    assert data["racks"][0]["sku"] == "gb200-nvl72"
    assert data["inputs"]["site"]["compute"]["skus"] == ["gb200-nvl72"]


def test_require_is_a_constraint(run):
    data = parse_json(run("plan", "--format", "json", "--power", "100MW",
                          "--require", "gpus <= 10000"))
    assert data["totals"]["gpus"] <= 10000
    assert data["inputs"]["site"]["requirements"] == ["gpus <= 10000"]
    assert any(row["name"] == "gpus <= 10000" for row in data["constraints"])


def test_infeasible_exits_4_naming_the_conflict(run):
    result = run("plan", "--power", "10MW", "--require", "totals.gpus >= 1000000")
    assert result.exit_code == 4
    assert "totals.gpus >= 1000000" in result.stderr and result.stdout == ""
    data = parse_json(run("plan", "--power", "10MW", "--require", "totals.gpus >= 1000000",
                          "--format", "json"))
    jsonschema.validate(data, SCHEMA)
    assert data["status"] == "infeasible" and data["conflicts"] == ["totals.gpus >= 1000000"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--require", "totals.gpuz >= 3"), "unknown field 'totals.gpuz'; valid fields: "),
        (("--require", "gpus >> 3"), "operator"),
        (("--set", "power.budgt=3"), "did you mean power.budget?"),
        (("--set", "nonsense"), "expected KEY=VALUE"),
        (("--power", "1.2 GWh"), '--power: expected a power such as "1.2 GW", got '
                                 '"1.2 GWh" (an energy)'),
        (("--sku", "gb300"), "--sku: unknown SKU id 'gb300'; did you mean"),
        (("--sku", "vera-rubin-nvl72"), "is announced, not shipping"),
        (("--sku", "quantum-x800-q3400"), "is a switch, expected a compute_rack"),
        (("--set", "power.pue=0.5"), "power.pue: Input should be greater than or equal to 1"),
    ],
)
def test_bad_input_exits_3_with_one_line_per_problem(run, args, fragment):
    result = run("plan", *args)
    assert result.exit_code == 3, result.stdout
    assert fragment in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_site_file_problems_name_the_file_and_every_key(run, tmp_path):
    site = tmp_path / "bad.toml"
    site.write_text('[power]\nbudget = "1 GWh"\nbasis = "campus"\n[network]\nswitch = "nope"\n'
                    '[spaec]\nrack_positions = 3\n')
    result = run("plan", str(site))
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert f"error: {site}: power.budget: expected a power" in lines[0] or any(
        f"{site}: power.budget" in line for line in lines)
    assert any(f"{site}: power.basis" in line for line in lines)
    assert any(f"{site}: spaec: unknown key" in line for line in lines)


@pytest.mark.parametrize("kind", ["missing", "dir", "binary", "syntax"])
def test_unreadable_site_files_exit_3(run, tmp_path, kind):
    path = tmp_path / "site.toml"
    if kind == "dir":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\x89PNG\x00\xff")
    elif kind == "syntax":
        path.write_text("[power\nbudget = 1\n")
    result = run("plan", str(path))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: {path}: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_bind_reference_in_a_site_file(run, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[power]\nbudget = 100\n[storage]\nrack = "gb300-nvl72"\n'
                    '[cpu]\nrack = "grace"\n')
    result = run("plan", str(site))
    assert result.exit_code == 3
    assert "storage.rack: 'gb300-nvl72' is a compute_rack, expected a storage_rack" in result.stderr
    assert "cpu.rack: unknown SKU id 'grace'" in result.stderr  # every problem at once


def test_output_file_is_written_atomically(run, tmp_path):
    out = tmp_path / "plan.json"
    result = run("plan", "--format", "json", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["status"] == "optimal"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temporary left behind
    table = tmp_path / "plan.txt"
    assert run("plan", "--output", str(table)).exit_code == 0
    assert "Build-out" in table.read_text()
    assert run("plan", "--output", str(tmp_path / "no" / "x.json")).exit_code == 3


def test_time_limit_exits_5_with_the_best_plan(run, monkeypatch):
    from gigaplan import solve

    real = solve.run_milp

    def stopped(*args, **kwargs):
        outcome = real(*args, **kwargs)
        return solve.StageResult(solve.SolveStatus.TIME_LIMIT, outcome.x, 0.02)

    monkeypatch.setattr(solve, "run_milp", stopped)
    result = run("plan", "--format", "json", "--time-limit", "1")
    assert result.exit_code == 5
    data = parse_json(result)
    assert data["status"] == "time_limit" and data["solver"]["mip_gap"] == 0.02
    assert "time limit" in result.stderr


def test_internal_error_exits_70_with_a_hint(run, monkeypatch):
    from gigaplan import planner

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(planner, "plan", broken)
    result = run("plan")
    assert result.exit_code == 70
    assert result.stderr.strip() == ("internal error: RuntimeError: boom (a bug; rerun with "
                                     "--debug for the traceback)")
    debug = run("--debug", "plan")
    assert debug.exit_code == 70 and "Traceback" in debug.stderr


def test_verification_failure_is_an_internal_error(monkeypatch):
    from gigaplan import planner, solve
    from gigaplan.errors import VerificationError
    from gigaplan.inputs.catalog import load_catalog
    from gigaplan.inputs.site import bind, load_site

    real = solve.run_milp

    def cheating(*args, **kwargs):
        outcome = real(*args, **kwargs)
        return solve.StageResult(outcome.status, [v + 1000.0 for v in outcome.x], 0.0)

    monkeypatch.setattr(solve, "run_milp", cheating)
    site, source = load_site()
    with pytest.raises(VerificationError, match="breaks the model"):
        planner.plan(bind(site, load_catalog(), source))


def test_verification_failure_through_the_cli_exits_70(run, monkeypatch):
    from gigaplan import solve

    real = solve.run_milp

    def cheating(*args, **kwargs):
        outcome = real(*args, **kwargs)
        return solve.StageResult(outcome.status, [v + 0.5 for v in outcome.x], 0.0)

    monkeypatch.setattr(solve, "run_milp", cheating)
    result = run("plan", "--power", "10MW")
    assert result.exit_code == 70
    assert "breaks the model" in result.stderr and "--debug" in result.stderr


def test_init_writes_the_default_site_and_never_overwrites(run, tmp_path):
    path = tmp_path / "site.toml"
    result = run("init", str(path))
    assert result.exit_code == 0 and path.exists()
    text = path.read_text()
    assert "# " in text and 'budget = "1 GW"' in text
    assert parse_json(run("plan", str(path), "--format", "json"))["totals"] == \
        parse_json(run("plan", "--format", "json"))["totals"]
    path.write_text("mine")
    again = run("init", str(path))
    assert again.exit_code == 3 and "--force" in again.stderr and path.read_text() == "mine"
    assert run("init", str(path), "--force").exit_code == 0
    assert path.read_text() == text
    assert run("init", "-").stdout == text


def test_plan_help_has_examples(run):
    result = run("plan", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and "gigaplan plan site.toml" in result.stdout
