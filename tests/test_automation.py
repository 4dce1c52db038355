"""check, batch, sweep, explain and diff (issue: automation for CI and scripts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from xml.etree import ElementTree

import pytest
from conftest import parse_json

SITE = """
requirements = ["totals.gpus >= 1000", "power_mw.facility <= 100"]
[power]
budget = "100 MW"
[compute]
skus = ["gb300-nvl72"]
"""


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(SITE)
    return path


# --- check ----------------------------------------------------------------------------------


def test_check_passes_with_exit_0_and_writes_junit(run, site, tmp_path):
    junit = tmp_path / "check.xml"
    result = run("check", str(site), "--junit", str(junit))
    assert result.exit_code == 0, result.stderr
    assert "pass" in result.stdout and "FAIL" not in result.stdout
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == ["totals.gpus >= 1000",
                                                   "power_mw.facility <= 100"]
    assert suite.get("failures") == "0" and not suite.findall(".//failure")


def test_check_fails_with_exit_1_and_a_measured_value(run, site, tmp_path):
    junit = tmp_path / "check.xml"
    result = run("check", str(site), "--require", "totals.gpus >= 1000000", "--junit",
                 str(junit), "--format", "json")
    assert result.exit_code == 1
    report = parse_json(result)
    assert report["schema"] == "gigaplan.check/1" and report["passed"] is False
    failed = [item for item in report["requirements"] if not item["passed"]]
    assert [item["requirement"] for item in failed] == ["totals.gpus >= 1000000"]
    assert failed[0]["value"] == report["plan"]["totals"]["gpus"] < 1_000_000
    failures = ElementTree.parse(junit).getroot().findall(".//failure")
    assert len(failures) == 1
    assert f"totals.gpus = {report['plan']['totals']['gpus']}" in failures[0].get("message")
    assert "1 of 3 requirements not met" in result.stderr


def test_check_evaluates_requirements_as_assertions_not_constraints(run, site):
    # As a constraint, gpus <= 72 would shrink the plan; as an assertion it simply fails.
    report = parse_json(run("check", str(site), "--require", "totals.gpus <= 72", "-f", "json"))
    assert report["plan"]["totals"]["gpus"] > 72 and not report["passed"]


def test_check_invalid_and_infeasible_exit_codes(run, site, tmp_path):
    assert run("check", str(site), "--require", "totals.gpuz >= 3").exit_code == 3
    bare = tmp_path / "bare.toml"
    bare.write_text('[power]\nbudget = "100 MW"\n')
    assert "nothing to check" in run("check", str(bare)).stderr
    infeasible = run("check", str(site), "--set", "compute.min_racks.gb300-nvl72=100000")
    assert infeasible.exit_code == 4 and "compute.min_racks" in infeasible.stderr


# --- batch ----------------------------------------------------------------------------------


def batch_input(tmp_path, count=50):
    lines = []
    for index in range(count):
        if index % 17 == 5:
            lines.append("{not json")
        elif index % 17 == 9:
            lines.append(json.dumps({"id": f"r{index}", "set": {"power.budget": "1.2 GWh"}}))
        else:
            lines.append(json.dumps({"id": f"r{index}",
                                     "set": {"power.budget": f"{10 + index} MW"}}))
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_batch_keeps_order_and_turns_bad_rows_into_error_rows(run, tmp_path):
    path = batch_input(tmp_path)
    result = run("batch", str(path))
    assert result.exit_code == 1  # some rows failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 50
    assert [line["id"] for line in lines] == [
        f"line-{i + 1}" if i % 17 == 5 else f"r{i}" for i in range(50)]
    errors = [line for line in lines if line["status"] == "error"]
    assert len(errors) == 6 and all(line["exit_code"] == 3 for line in errors)
    assert any('got "1.2 GWh" (an energy)' in line["error"] for line in errors)
    good = [line for line in lines if line["status"] == "optimal"]
    assert all(line["exit_code"] == 0 and line["totals.gpus"] > 0 for line in good)
    assert good[1]["totals.gpus"] >= good[0]["totals.gpus"]


def test_batch_output_is_identical_for_any_jobs(tmp_path):
    path = batch_input(tmp_path)
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        done = subprocess.run([sys.executable, "-m", "gigaplan", "batch", str(path), "--jobs",
                               jobs, "--output", str(out)], capture_output=True, text=True)
        assert done.returncode == 1, done.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") == 50


def test_batch_csv_in_and_out(run, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("id,power.budget,objective\na,100 MW,gpus\nb,200 MW,fp4\nc,nope,fp4\n")
    result = run("batch", str(path), "--format", "csv")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("id,status,exit_code,objective,objective.value,totals.gpus")
    assert [line.split(",")[:2] for line in lines[1:]] == [["a", "optimal"], ["b", "optimal"],
                                                           ["c", "error"]]


def test_batch_reads_stdin_and_inline_sites(run):
    rows = "\n".join([
        json.dumps({"id": "inline", "site": {"power": {"budget": "50 MW", "basis": "it"},
                                             "compute": {"skus": ["gb300-nvl72"]}}}),
        json.dumps({"id": "default", "set": {"power.budget": "50 MW"}}),
    ])
    result = run("batch", "-", input=rows)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["inline", "default"]
    assert lines[0]["totals.gpus"] > lines[1]["totals.gpus"]  # IT basis holds more


def test_batch_resume_after_sigkill_loses_and_duplicates_nothing(tmp_path):
    rows = [json.dumps({"id": f"k{i}", "set": {"power.budget": f"{20 + i} MW"}})
            for i in range(80)]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "gigaplan", "batch", str(path), "--output", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= 5:
            break
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = out.read_bytes().count(b"\n")
    assert 5 <= partial < 80, "the batch finished before it could be killed"
    with out.open("ab") as stream:  # a torn last line, as a kill in mid-write would leave
        stream.write(b'{"id": "k7')
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert sorted(ids) == sorted(f"k{i}" for i in range(80))  # every id exactly once
    assert len(ids) == len(set(ids)) == 80
    assert f"{partial} rows already done" in done.stderr


def test_batch_resume_needs_an_output(run, tmp_path):
    assert run("batch", str(batch_input(tmp_path, 3)), "--resume").exit_code == 3


# --- sweep, explain, diff -------------------------------------------------------------------


def test_sweep_on_a_power_range_is_monotone(run):
    result = run("sweep", "--vary", "power.budget=100MW:500MW:100MW", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = parse_json(result)
    budgets = [row["vary.power.budget"] for row in data["rows"]]
    assert budgets == ["100 MW", "200 MW", "300 MW", "400 MW", "500 MW"]
    values = [row["objective.value"] for row in data["rows"]]
    assert values == sorted(values) and values[0] < values[-1]


def test_sweep_product_table_chart_and_csv(run):
    result = run("sweep", "--vary", "power.budget=50MW,100MW", "--vary", "power.pue=1.1,1.3")
    assert result.exit_code == 0
    assert "Objective (fp4) against power.budget" in result.stdout
    assert result.stdout.count("█") > 0 and result.stdout.count("optimal") == 4
    csv_text = run("sweep", "--vary", "power.budget=50MW,100MW", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("vary.power.budget,id,status")
    assert run("sweep", "--vary", "power.budget=100MW:50MW:10MW").exit_code == 3
    assert run("sweep", "--vary", "power.budget=50MW:1GW:10MW").exit_code == 3  # two units


def test_explain_marginal_value_matches_a_direct_replan(run):
    data = parse_json(run("explain", "--power", "100MW", "--format", "json"))
    power = next(row for row in data["marginals"] if row["limit"] == "power.budget")
    assert power["step"] == 1.0  # 1 % of 100 MW
    base = parse_json(run("plan", "--power", "100MW", "--format", "json"))
    moved = parse_json(run("plan", "--power", "101MW", "--format", "json"))
    assert power["delta"]["objective"] == pytest.approx(
        moved["objective"]["value"] - base["objective"]["value"])
    assert power["delta"]["gpus"] == moved["totals"]["gpus"] - base["totals"]["gpus"]
    assert any("facility power binds" in line for line in data["binding"])


def test_explain_says_a_non_binding_limit_changes_nothing(run):
    result = run("explain", "--power", "100MW", "--set", "space.rack_positions=100000")
    assert "rack positions is not binding: +1,000 changes nothing" in result.stdout


def test_explain_infeasible_site_says_how_far_limits_must_move(run):
    result = run("explain", "--power", "10MW", "--require", "totals.gpus >= 10000",
                 "--format", "json")
    assert result.exit_code == 4
    data = parse_json(result)
    alone = {entry["limit"]: entry for entry in data["alternatives"]
             if entry["sufficient_alone"]}
    assert set(alone) == {"power.budget", "totals.gpus >= 10000"}
    assert data["combination"] is None
    # each answer is itself feasible: moving that limit alone to its value gives a plan
    power = alone["power.budget"]["proposed"]
    assert run("plan", "--power", f"{power}MW", "--require", "totals.gpus >= 10000"
               ).exit_code == 0
    floor = alone["totals.gpus >= 10000"]["requirement"]
    assert run("plan", "--power", "10MW", "--require", floor).exit_code == 0


def test_diff_of_a_file_with_itself_shows_no_change(run, site):
    data = parse_json(run("diff", str(site), str(site), "--format", "json"))
    assert data["inputs"] == [] and data["results"] == []
    assert data["same"] is True
    shown = run("diff", str(site), str(site)).stdout
    assert "No difference." in shown and "Changed inputs: none." in shown


def test_diff_of_two_plans(run, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    run("plan", "--power", "100MW", "--format", "json", "--output", str(a))
    run("plan", "--power", "120MW", "--format", "json", "--output", str(b))
    data = parse_json(run("diff", str(a), str(b), "--format", "json"))
    (budget,) = [c for c in data["inputs"] if c["key"] == "power.budget"]
    assert (budget["a"], budget["b"], budget["delta"]) == (100, 120, 20)
    assert budget["relative"] == pytest.approx(0.2)
    gpus = next(c for c in data["summary"] if c["key"] == "totals.gpus")
    assert gpus["delta"] > 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other"}')
    assert run("diff", str(a), str(bad)).exit_code == 3
