"""Scale-out (issue 17): tasks carry contents, not paths; a real Dask scheduler and workers.

The cluster test starts ``dask scheduler`` and two ``dask worker`` processes on loopback
(127.0.0.1 only), each in its own empty directory, and runs a sweep and a batch from a third
directory with relative paths: the workers have none of the client's files, as on a cluster.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gigaplan.errors import InputError
from gigaplan.inputs import catalog as catalog_module
from gigaplan.studies import executors

ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).parent / "dask"
USER_CATALOG = """
[[sku]]
id = "test-rack"
name = "Test rack"
kind = "compute_rack"
status = "shipping"
available_from = 2025-01-01
gpu_count = 72
cpu_count = 36
cpu_core_count = 2592
power_kw = 100
fp4_dense_pflops_per_gpu = 10
fp8_dense_pflops_per_gpu = 5
bf16_dense_pflops_per_gpu = 2.5
tf32_dense_pflops_per_gpu = 1.2
fp64_dense_pflops_per_gpu = 0.04
hbm_gb_per_gpu = 192
nic_count = 72
nic_gbps = 800
liquid_frac = 0.85
footprint_m2 = 0.6
mass_kg = 1400
price_usd = 3000000
sources = ["a test"]
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers on loopback, each in an empty directory."""
    if not DASK.exists():
        pytest.skip("the dask command is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED":
           "error"}
    processes = []
    folder = tmp_path_factory.mktemp("scheduler")
    processes.append(subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL))
    try:
        for number in range(2):
            folder = tmp_path_factory.mktemp(f"worker{number}")
            processes.append(subprocess.Popen(
                [str(DASK), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                 "--nworkers", "1", "--no-dashboard", "--local-directory", str(folder)],
                cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        import distributed

        deadline = time.monotonic() + 60
        while True:
            try:
                with distributed.Client(address, timeout="5s") as client:
                    if len(client.scheduler_info()["workers"]) == 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the Dask scheduler and workers did not start within 60 s")
            time.sleep(0.5)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture()
def client_dir(tmp_path, monkeypatch):
    """The client's own directory, with a site file and a user catalog (relative paths)."""
    (tmp_path / "site.toml").write_text('[power]\nbudget = "100 MW"\n'
                                        '[compute]\nskus = ["test-rack", "gb300-nvl72"]\n')
    (tmp_path / "mine.toml").write_text(USER_CATALOG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _sweep(run, *extra: str):
    result = run("sweep", "site.toml", "--vary", "power.budget=100MW:400MW:50MW",
                 "--catalog", "mine.toml", "--format", "json", *extra)
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def test_a_real_cluster_plans_from_contents_like_the_local_pool(run, cluster, client_dir):
    local, local_data = _sweep(run, "--jobs", "2")
    assert local.exit_code == 0, local.stderr
    dask, dask_data = _sweep(run, "--executor", "dask", "--scheduler", cluster)
    assert dask.exit_code == 0, dask.stderr
    assert dask_data == local_data
    assert len(dask_data["rows"]) == 7
    assert all(row["status"] == "optimal" for row in dask_data["rows"])
    assert any(row["racks"].get("test-rack") for row in dask_data["rows"])  # the user catalog


def test_a_real_cluster_runs_a_batch_with_relative_site_paths(run, cluster, client_dir):
    rows = client_dir / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": str(i), "site": "site.toml",
                                        "set": {"power.budget": f"{50 + 25 * i} MW"}}) + "\n"
                            for i in range(6)) + '{"id": "gone", "site": "missing.toml"}\n')
    local = run("batch", "rows.jsonl", "--catalog", "mine.toml", "--jobs", "2")
    dask = run("batch", "rows.jsonl", "--catalog", "mine.toml", "--executor", "dask",
               "--scheduler", cluster)
    assert local.stdout == dask.stdout
    lines = [json.loads(line) for line in dask.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["optimal"] * 6 + ["error"]
    assert lines[-1]["error"].endswith("missing.toml: no such file")


def test_a_missing_site_is_one_error_before_any_task(run, client_dir, monkeypatch):
    submitted = []
    monkeypatch.setattr(executors, "_apply", lambda *args: submitted.append(args) or [])
    result = run("sweep", "nowhere.toml", "--vary", "power.budget=100MW:400MW:50MW",
                 "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 3
    assert result.stderr.strip() == "error: nowhere.toml: no such file"
    assert submitted == []


def test_a_bad_user_catalog_is_one_error_before_any_task(run, client_dir):
    (client_dir / "bad.toml").write_text("[[sku]]\nid = 'x'\n")
    rows = client_dir / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": str(i)}) + "\n" for i in range(5)))
    result = run("batch", "rows.jsonl", "--catalog", "bad.toml", "--executor", "dask",
                 "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "bad.toml" in result.stderr and "cannot connect" not in result.stderr


def test_results_stream_from_a_bounded_window():
    """Items are drawn as results come back: never more than the window ahead."""
    drawn = []

    def items():
        for number in range(10_000):
            drawn.append(number)
            yield number

    lines = executors.run(_double, items(), jobs=2, count=10_000)
    first = next(lines)
    window = 2 * executors.WINDOW_PER_WORKER * executors.chunk_size(10_000, 2)
    assert first == {"value": 0}
    assert len(drawn) <= window + executors.chunk_size(10_000, 2)
    rest = list(lines)
    assert [line["value"] for line in [first, *rest]] == [2 * n for n in range(10_000)]


def _double(number: int) -> dict[str, int]:
    return {"value": 2 * number}


def test_montecarlo_parses_the_base_catalog_once(monkeypatch):
    from gigaplan.inputs.scenario import Scenario
    from gigaplan.studies.montecarlo import montecarlo

    calls = []
    real = catalog_module.load_catalog
    monkeypatch.setattr(catalog_module, "load_catalog",
                        lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    catalog_module.shipped_catalog.cache_clear()
    result = montecarlo(Scenario(overrides=(("power.budget", "50 MW"),)),
                        {"catalog.gb300-nvl72.power_kw": "uniform(135 kW, 145 kW)",
                         "power.pue": "uniform(1.1, 1.3)"}, samples=12, seed=3)
    assert result.samples == 12 and not result.errors
    assert len(calls) == 1


def test_batch_rows_are_read_as_they_are_needed():
    """``iter_rows`` draws lines from its stream one row at a time."""
    from gigaplan.studies import batch

    read = []

    def lines():
        for number in range(100_000):
            read.append(number)
            yield json.dumps({"id": str(number)}) + "\n"

    rows = batch.iter_rows(lines(), "rows.jsonl")
    first = next(rows)
    assert first.id == "0" and len(read) <= 2
    assert [row.id for row in itertools.islice(rows, 9)] == [str(n) for n in range(1, 10)]
    assert len(read) <= 11


def test_streamed_rows_equal_the_whole_text_reading():
    from gigaplan.studies import batch

    text = ('{"id": "a"}\r\n\n{"id": "b", "set": {"power.budget": "5 MW"}}\u2028{"id": "c"}\n'
            'not json\n{"id": "d"}\n')
    whole = batch.read_rows(text, "x.jsonl")
    streamed = list(batch.iter_rows(iter(text.splitlines(keepends=True)), "x.jsonl"))
    assert streamed == whole
    assert [row.id for row in whole] == ["a", "b", "c", "line-5", "d"]
    # a repeated id: refused up front from a whole text (a file is read twice); an error row
    # naming both lines from a stream read once (standard input)
    repeated = text + '{"id": "a"}\n'
    with pytest.raises(InputError, match=r"x\.jsonl:1 and x\.jsonl:7: id 'a' appears twice"):
        batch.read_rows(repeated, "x.jsonl")
    last = list(batch.iter_rows(iter(repeated.splitlines(keepends=True)), "x.jsonl"))[-1]
    assert last.id == "a" and "x.jsonl:1 and x.jsonl:7" in last.problem


def test_a_batch_file_that_is_not_utf8_is_one_error(run, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"id": "a"}\n{"id": "\xff"}\n')
    result = run("batch", str(path))
    assert result.exit_code == 3 and result.stdout == ""
    assert "rows.jsonl: cannot be read" in result.stderr
