"""gigaplan benchmarks: prints a table of figures. Not a test; run it on a quiet machine.

    python benchmarks/run.py            # everything (about 10 minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller counts (about 1 minute)
    python benchmarks/run.py --only startup planning

Sections: startup (CLI start-up against a bare Typer hello-world, and no numpy/scipy),
planning (solve and end-to-end times, growth with SKUs and phases), batch (scenarios per
second at --jobs 1 and 2, overhead over a bare solve), quality (MILP against enumeration and
against the greedy heuristic), scale (a 10,000-scenario sweep on the local pool and on a
two-worker Dask LocalCluster, and a 1,000-sample Monte Carlo run).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
PY = sys.executable


def timed(command: list[str], repeat: int) -> float:
    """Median wall time of ``command`` over ``repeat`` runs, after one warm-up."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, value: str, target: str = "") -> None:
    print(f"| {name} | {value} | {target} |", flush=True)


def startup(quick: bool) -> None:
    repeat = 5 if quick else 15
    hello_help = timed([PY, str(ROOT / "benchmarks/hello.py"), "--help"], repeat)
    hello_run = timed([PY, str(ROOT / "benchmarks/hello.py")], repeat)
    row("bare Typer hello-world --help", f"{hello_help * 1000:.0f} ms", "baseline for --help")
    row("bare Typer hello-world, run", f"{hello_run * 1000:.0f} ms",
        "baseline for a command (Typer's command path imports more)")
    for label, args, base in (("gigaplan --help", ["--help"], hello_help),
                              ("gigaplan catalog list", ["catalog", "list"], hello_run)):
        seconds = timed([PY, "-m", "gigaplan", *args], repeat)
        row(label, f"{seconds * 1000:.0f} ms ({seconds / base:.2f}x)", "<= 1.5x")
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom gigaplan.cli import app\n"
            "for args in (['--help'], ['catalog', 'list']):\n"
            "    CliRunner().invoke(app, args)\n"
            "print(json.dumps(sorted(m for m in ('numpy', 'scipy') if m in sys.modules)))")
    out = subprocess.run([PY, "-c", "import json\n" + code], capture_output=True, text=True,
                         check=True).stdout
    row("numpy/scipy imported by --help, catalog list", out.strip(), "[]")


def _solve_times(bound, repeat: int) -> tuple[float, float]:
    from gigaplan.formulation.build import build
    from gigaplan.planner import plan
    from gigaplan.solve import optimize

    solves, ends = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        model = build(bound)
        optimize(model)
        solves.append(time.perf_counter() - start)
        start = time.perf_counter()
        plan(bound)
        ends.append(time.perf_counter() - start)
    return statistics.median(solves), statistics.median(ends)


def planning(quick: bool) -> None:
    from helpers import bound_site

    from gigaplan.inputs.scenario import Scenario

    repeat = 5 if quick else 20
    default = Scenario().bind()
    solve, _ = _solve_times(default, repeat)
    row("default site: build + solve (3 lexicographic stages)", f"{solve * 1000:.1f} ms",
        "<= 50 ms")
    end = timed([PY, "-m", "gigaplan", "plan", "--format", "json"], 3 if quick else 7)
    row("default site: `gigaplan plan --format json` end to end", f"{end * 1000:.0f} ms",
        "dominated by the scipy import")
    imports = timed([PY, "-c", "import scipy.optimize"], 3 if quick else 7)
    row("  of which `import scipy.optimize` alone", f"{imports * 1000:.0f} ms", "")
    skus = ["gb300-nvl72", "gb200-nvl72", "dgx-b300-rack", "dgx-b200-rack",
            "vera-rubin-nvl72"]
    for count in range(1, len(skus) + 1):
        bound = bound_site({"power": {"budget": "1 GW"}}, overrides={
            "compute.skus": skus[:count], "compute.allow_announced": True})
        solve, _ = _solve_times(bound, max(3, repeat // 4))
        row(f"1 GW, {count} compute SKU(s)", f"{solve * 1000:.1f} ms", "")
    for phases in (1, 2, 3, 4):
        step = 1000 / phases
        listing = [{"name": f"p{i}", "date": f"{2026 + i // 2}-{1 + 6 * (i % 2):02d}-01",
                    "power": f"{step * (i + 1):.0f} MW"} for i in range(phases)]
        bound = bound_site({"power": {"budget": "1 GW"}}, overrides={
            "compute.skus": skus, "compute.allow_announced": True, "phases": listing,
            "requirements": ["totals.gpus >= 100000", "power_mw.network <= 150",
                             "cost.usd_per_gpu_hour <= 3"]})
        from gigaplan.planner import plan

        start = time.perf_counter()
        result = plan(bound)
        seconds = time.perf_counter() - start
        row(f"large: 5 SKUs, 3 requirements, {phases} phase(s)",
            f"{seconds * 1000:.0f} ms ({result.status})", "")


def batch(quick: bool) -> None:
    from gigaplan.inputs.scenario import Scenario
    from gigaplan.planner import plan
    from gigaplan.studies import batch as core

    count = 100 if quick else 400
    rows = [core.Row(id=str(i), sets=(("power.budget", f"{50 + i} MW"),))
            for i in range(count)]
    bare = []
    for i in range(min(count, 100)):
        scenario = Scenario(overrides=(("power.budget", f"{50 + i} MW"),))
        bound = scenario.bind()
        start = time.perf_counter()
        plan(bound)
        bare.append(time.perf_counter() - start)
    bare_mean = statistics.mean(bare)
    row("bare solve per scenario (bind excluded)", f"{bare_mean * 1000:.1f} ms", "")
    for jobs in (1, 2):
        start = time.perf_counter()
        for _ in core.run(rows, jobs):
            pass
        seconds = time.perf_counter() - start
        rate = count / seconds
        overhead = (seconds / count) / bare_mean - 1 if jobs == 1 else None
        row(f"batch --jobs {jobs}: {count} scenarios", f"{rate:.1f} scenarios/s" + (
            f", overhead {overhead:+.0%} over a bare solve" if overhead is not None else ""),
            "overhead <= 20 %" if jobs == 1 else "scales with --jobs")


def quality(quick: bool) -> None:
    from test_plan_properties import enumerate_best, plan_instance, random_instance

    rng = random.Random(2026)
    equal, gains = 0, []
    count = 50 if quick else 200
    for _ in range(count):
        skus, budget_kw, capex_cap, positions = random_instance(rng)
        result, _ = plan_instance(skus, budget_kw, capex_cap, positions)
        best, _ = enumerate_best(skus, budget_kw, capex_cap, positions)
        equal += abs(result.objective["value"] - best) <= 1e-6
        greedy_sku = max(skus, key=lambda s: s.dense_pflops("fp4") / s.power_kw)
        greedy = (budget_kw // greedy_sku.power_kw) * greedy_sku.dense_pflops("fp4")
        if capex_cap is None and positions is None and greedy > 0:
            gains.append(result.objective["value"] / greedy - 1)
    row(f"MILP = exhaustive enumeration ({count} random instances)", f"{equal}/{count}",
        "all equal")
    row("MILP vs greedy best-PFLOPS-per-watt (power only)",
        f"never worse: {min(gains) >= -1e-9}; median gain {statistics.median(gains):.1%}, "
        f"best {max(gains):.1%} over {len(gains)} instances", "never worse")



def scale(quick: bool) -> None:
    from gigaplan.inputs.scenario import Scenario
    from gigaplan.studies import batch as core
    from gigaplan.studies.montecarlo import montecarlo

    count = 1000 if quick else 10_000
    rows = [core.Row(id=str(i), sets=(("power.budget", f"{10 + (i % 1000) * 2} MW"),
                                      ("power.pue", 1.1 + (i // 1000) * 0.02)))
            for i in range(count)]
    figures = {}
    for label, executor in (("local pool, 2 processes", "local"),
                            ("Dask LocalCluster, 2 workers", "dask")):
        start = time.perf_counter()
        lines = list(core.run(rows, 2, executor))
        seconds = time.perf_counter() - start
        figures[executor] = lines
        row(f"sweep of {count:,} scenarios, {label}", f"{count / seconds:.1f} scenarios/s "
            f"({seconds:.0f} s)", "")
    row("  local and Dask rows identical", str(figures["local"] == figures["dask"]), "True")
    samples = 100 if quick else 1000
    start = time.perf_counter()
    montecarlo(Scenario(), {"power.pue": "uniform(1.1, 1.3)",
                            "catalog.gb300-nvl72.power_kw": "triangular(130 kW, 142 kW, 150 kW)"},
               samples, seed=1, jobs=2)
    row(f"montecarlo, {samples:,} samples, --jobs 2", f"{time.perf_counter() - start:.1f} s",
        "")


SECTIONS = {"startup": startup, "planning": planning, "batch": batch, "quality": quality,
            "scale": scale}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), default=None)
    args = parser.parse_args()
    os.environ.setdefault("COLUMNS", "120")
    print(f"gigaplan benchmarks on {platform.node() or 'this machine'}: {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.platform()}\n")
    print("| measure | result | target |\n|---|---|---|")
    for name in args.only or SECTIONS:
        SECTIONS[name](args.quick)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        main()

