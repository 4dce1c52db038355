"""Monte Carlo ranges of a plan, and batches, sweeps and samples on Dask."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import parse_json

from gigaplan.errors import SiteError
from gigaplan.inputs.site import parse_uncertainty as parse_distribution
from gigaplan.studies.montecarlo import draw

PUE = "power.pue=uniform(1.1, 1.3)"
RACK = "catalog.gb300-nvl72.power_kw=triangular(130 kW, 142 kW, 150 kW)"


def test_same_seed_gives_byte_identical_json(run):
    args = ("montecarlo", "--samples", "12", "--seed", "42", "--uncertain", PUE,
            "--uncertain", RACK, "--set", "power.budget=50MW", "--format", "json")
    first, second = run(*args), run(*args)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    data = parse_json(first)
    assert data["seed"] == 42 and data["samples"] == 12 and data["errors"] == []
    other = run(*args[:4], "43", *args[5:])
    assert other.stdout != first.stdout


def test_degenerate_distribution_p50_equals_the_deterministic_plan(run):
    plan = parse_json(run("plan", "--power", "50MW", "--format", "json"))
    data = parse_json(run("montecarlo", "--samples", "5", "--set", "power.budget=50MW",
                          "--uncertain", "power.pue=uniform(1.22, 1.22)", "--format", "json"))
    for name in ("totals.gpus", "cost.capex_usd", "power_mw.facility"):
        section, key = name.split(".")
        expected = plan[section][key]
        assert data["optimal_plans"]["fields"][name]["p50"] == pytest.approx(expected)
        assert data["fixed_plan"]["fields"][name]["p50"] == pytest.approx(expected)
    assert data["fixed_plan"]["limit_broken_probability"]["power.budget"] == 0.0


def test_fixed_plan_breaks_the_budget_when_racks_draw_more(run):
    data = parse_json(run("montecarlo", "--samples", "20", "--seed", "1", "--set",
                          "power.budget=50MW", "--uncertain",
                          "catalog.gb300-nvl72.power_kw=uniform(150 kW, 160 kW)",
                          "--format", "json"))
    assert data["fixed_plan"]["limit_broken_probability"]["power.budget"] == 1.0
    assert data["fixed_plan"]["fields"]["power_mw.facility"]["p10"] > 50
    assert data["optimal_plans"]["fields"]["totals.gpus"]["p90"] < \
        data["nominal"]["totals.gpus"]


def test_requirement_probabilities(run):
    data = parse_json(run("montecarlo", "--samples", "30", "--seed", "3", "--set",
                          "power.budget=50MW", "--set",
                          'requirements=["power_mw.it <= 41"]',
                          "--uncertain", RACK, "--format", "json"))
    share = data["fixed_plan"]["requirement_holds_probability"]["power_mw.it <= 41"]
    assert 0.0 < share < 1.0  # sometimes the racks draw more than planned


def test_distributions_parse_and_draw():
    dist = parse_distribution("power.budget", "triangular(0.8 GW, 1 GW, 1.2 GW)")
    values = [row["power.budget"] for row in draw([dist], 200, seed=9)]
    numbers = [float(value.split()[0]) for value in values]
    assert all(0.8 <= n <= 1.2 for n in numbers) and values[0].endswith(" GW")
    assert draw([dist], 5, seed=9) == draw([dist], 5, seed=9)
    choice = parse_distribution("power.redundancy", "choice(N, 2N)")
    assert {row["power.redundancy"] for row in draw([choice], 50, 1)} == {"N", "2N"}
    median = parse_distribution("economics.electricity_price", "lognormal($66/MWh, 0.1)")
    assert median.unit == "$|/MWh"


@pytest.mark.parametrize(
    ("key", "text", "fragment"),
    [
        ("power.pue", "uniform(1.3, 1.1)", "low is above high"),
        ("power.pue", "gaussian(1, 2)", "expected one of uniform(...)"),
        ("power.pue", "normal(1)", "takes 2 values"),
        ("power.budget", "uniform(1 GW, 900 MW)", "in one unit"),
        ("power.budgt", "uniform(1, 2)", "did you mean power.budget?"),
        ("catalog.gb300", "uniform(1, 2)", "catalog.<sku-id>.<field>"),
    ],
)
def test_bad_distributions_are_input_errors(key, text, fragment):
    with pytest.raises(SiteError) as error:
        parse_distribution(key, text)
    assert fragment in str(error.value)


def test_bad_uncertainty_exits_3(run, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[power]\nbudget = "50 MW"\n[uncertainty]\n"power.pue" = "uniform(2, 1)"\n')
    result = run("montecarlo", str(site))
    assert result.exit_code == 3 and "uncertainty" in result.stderr
    assert run("montecarlo", "--power", "1").exit_code == 2  # no such option
    # no [uncertainty] table: the catalog's estimate ranges are sampled (issue 14)
    default = run("montecarlo", "--samples", "3", "-f", "json")
    assert default.exit_code == 0, default.stderr
    assert all(key.startswith("catalog.") for key in json.loads(default.stdout)["uncertain"])


def test_dask_executor_matches_the_local_executor_row_for_row(run, tmp_path):
    pytest.importorskip("distributed")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(
        f'{{"id": "d{i}", "set": {{"power.budget": "{20 + 5 * i} MW"}}}}' for i in range(12))
        + '\n{"id": "bad", "set": {"power.budget": "x"}}\n')
    local = run("batch", str(rows))
    dask = run("batch", str(rows), "--executor", "dask", "--jobs", "2")
    assert dask.stdout == local.stdout and dask.stdout.count("\n") == 13
    sweep_args = ("sweep", "--vary", "power.budget=50MW:150MW:50MW", "--format", "json")
    assert run(*sweep_args, "--executor", "dask", "--jobs", "2").stdout == \
        run(*sweep_args).stdout
    mc = ("montecarlo", "--samples", "8", "--seed", "5", "--uncertain", PUE, "--set",
          "power.budget=50MW", "--format", "json")
    assert run(*mc, "--executor", "dask", "--jobs", "2").stdout == run(*mc).stdout


def test_dask_without_the_extra_exits_3_and_says_how_to_install(run, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n')
    result = run("batch", str(rows), "--executor", "dask")
    assert result.exit_code == 3
    assert "pip install 'gigaplan[dask]'" in result.stderr


def test_a_failed_dask_task_becomes_error_rows(monkeypatch):
    pytest.importorskip("distributed")
    from gigaplan.studies import executors

    def on_error(item, error):
        return {"id": item, "status": "error", "error": str(error)}

    lines = list(executors.run(_explode, [1, 2, 3], jobs=1, executor="dask",
                               on_error=on_error))
    assert [line["id"] for line in lines] == [1, 2, 3]
    assert all(line["status"] == "error" for line in lines)


def _explode(item):
    raise RuntimeError(f"worker lost on {item}")


def test_scheduler_address_connects_to_an_existing_cluster(run, tmp_path):
    distributed = pytest.importorskip("distributed")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(f'{{"id": "s{i}", "set": {{"power.budget": "{30 + i} MW"}}}}'
                              for i in range(4)) + "\n")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run("batch", str(rows), "--executor", "dask", "--scheduler",
                     cluster.scheduler_address)
    assert remote.exit_code == 0, remote.stderr
    assert remote.stdout == run("batch", str(rows)).stdout
    refused = run("batch", str(rows), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert refused.exit_code == 3 and "cannot connect" in refused.stderr
    assert run("batch", str(rows), "--scheduler", "tcp://127.0.0.1:9").exit_code == 3
