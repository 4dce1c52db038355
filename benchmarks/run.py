"""gigaplan benchmarks: prints a table of figures. Not a test; run it on a quiet machine.

    python benchmarks/run.py            # everything (about 10 minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller counts (about 1 minute)
    python benchmarks/run.py --only startup planning

Sections: startup (CLI start-up against a bare Typer hello-world, and no numpy/scipy),
planning (solve and end-to-end times, growth with SKUs and phases), batch (scenarios per
second at --jobs 1 and 2, overhead over a bare solve), quality (MILP against enumeration and
against the greedy heuristic), scale (a 10,000-scenario sweep on the local pool and on a
two-worker Dask LocalCluster, and a 1,000-sample Monte Carlo run), targets (issue 17: phased
and multi-site ratios to the default plan, 400 phases / 500 sites, build-time growth exponent,
MB per 1,000 variables), studycore (why a capped study's first stage is slow: an integer
knapsack over the sites' racks), scaleout (Dask on a running scheduler against the local pool on
2,000 rows; batch peak memory at 10^5 against 10^3 rows).
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import cases  # noqa: E402  (the scale cases of issue 17, shared with tests/test_scale.py)

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


def _interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds (user + system of the child) of each command, its runs
    interleaved with the others' so that a load that comes and goes hits them all alike.

    The commands run with their bytecode cached (in a temporary ``PYTHONPYCACHEPREFIX``, written
    by the warm-up run), as an installed package has it (pip compiles it on install), even
    where ``PYTHONDONTWRITEBYTECODE`` is set: without it every run compiles gigaplan's modules
    from source, a cost the one-file hello-world baseline hardly pays.
    """
    import resource

    cache = tempfile.mkdtemp(prefix="pycache-")
    env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for command in commands.values():  # warm-up: writes the bytecode
        subprocess.run(command, capture_output=True, check=True, env=env)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True, env=env)
            walls[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name]))
            for name in commands}


def startup(quick: bool) -> None:
    repeat = 7 if quick else 15
    hello = str(ROOT / "benchmarks/hello.py")
    figures = _interleaved({"--help": [PY, hello, "--help"], "run": [PY, hello],
                            "gigaplan --help": [PY, "-m", "gigaplan", "--help"],
                            "gigaplan catalog list": [PY, "-m", "gigaplan", "catalog", "list"]},
                           repeat)
    for name, label in (("--help", "baseline for --help"),
                        ("run", "baseline for a command (Typer's command path imports more)")):
        wall, cpu = figures[name]
        row(f"bare Typer hello-world {name}", f"{wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU",
            label)
    for name, base, target in (("gigaplan --help", "--help", "<= 1.0x"),
                               ("gigaplan catalog list", "run", "<= 1.5x")):
        (wall, cpu), (base_wall, base_cpu) = figures[name], figures[base]
        row(f"{name} ({repeat} runs interleaved with the baseline's)",
            f"{wall * 1000:.0f} ms: {wall / base_wall:.2f}x wall, {cpu / base_cpu:.2f}x CPU",
            target)
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
    for i in range(count):  # the same rows as the batch below: a paired baseline
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
            "overhead <= 15 %" if jobs == 1 else "scales with --jobs")


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



# --- issue 17: scale targets --------------------------------------------------------------------


def _plan_seconds(make, time_limit_s: float | None = None) -> tuple[float, str]:
    from gigaplan.planner import plan

    bound = make()
    start = time.perf_counter()
    result = plan(bound, time_limit_s=time_limit_s)
    return time.perf_counter() - start, result.status


def _study_seconds(sites: int, skus: int, time_limit_s: float | None) -> tuple[float, str]:
    from gigaplan.planner import plan_study

    study = cases.study(sites, skus)
    start = time.perf_counter()
    result = plan_study(study, time_limit_s=time_limit_s)
    return time.perf_counter() - start, result.status


def _built(kind: str, size: int):
    from gigaplan.formulation.phases import build_phased
    from gigaplan.formulation.sites import build_study

    if kind == "phases":
        return build_phased(cases.phased(size, 2)).model
    return build_study(cases.study(size, 2)).model


def _build_and_matrix(kind: str, size: int) -> tuple[float, int, float]:
    """Seconds to build the model and its CSR matrix, variables, peak MB (tracemalloc)."""
    import tracemalloc

    from gigaplan.solve import constraint_matrix

    start = time.perf_counter()  # timed without tracemalloc, which slows Python several-fold
    model = _built(kind, size)
    constraint_matrix(model.rows, model.layout.size)
    seconds = time.perf_counter() - start
    del model
    tracemalloc.start()
    model = _built(kind, size)
    constraint_matrix(model.rows, model.layout.size)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, model.layout.size, peak


def targets(quick: bool) -> None:
    """Every target of issue 17, ratios measured in this one run."""
    import json
    import math

    import tomli_w

    limit = 30 if quick else 120
    Path("phased-40x2.toml").write_text(tomli_w.dumps(cases.phased_site(40, 2)))
    Path("study-20x2.toml").write_text(cases.study_text(20, 2))
    base = timed([PY, "-m", "gigaplan", "plan", "--format", "json"], 3 if quick else 5)
    row("default `gigaplan plan --format json`, end to end", f"{base * 1000:.0f} ms",
        "baseline of the two ratios below")
    for label, path in (("40 monthly phases x 2 SKUs", "phased-40x2.toml"),
                        ("20-site x 2-SKU study, capex cap + GPU floor", "study-20x2.toml")):
        start = time.perf_counter()
        done = subprocess.run([PY, "-m", "gigaplan", "plan", path, "--format", "json",
                               "--time-limit", str(limit)], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        status = json.loads(done.stdout)["status"] if done.stdout.strip() else "no output"
        row(f"{label}, `plan` end to end", f"{seconds:.1f} s = {seconds / base:.1f}x "
            f"({status}, limit {limit} s)", "<= 8x")
    for kind, size in (("phases", 400), ("sites", 500)):
        built, variables, _ = _build_and_matrix(kind, size)
        row(f"{size} {kind}: build + sparse matrix ({variables:,} variables)",
            f"{built:.2f} s", "<= 1 s")
        if kind == "phases":
            seconds, status = _plan_seconds(lambda: cases.phased(400, 2), 10.0)
        else:
            seconds, status = _study_seconds(500, 2, 10.0)
        row(f"{size} {kind}: plan with --time-limit 10", f"{seconds:.1f} s ({status})",
            "<= 10 s + margin, never `optimal` unless proven")
    sizes = (50, 100, 200, 400) if quick else (50, 100, 200, 400, 800)
    points = []
    for size in sizes:
        built, variables, peak = _build_and_matrix("sites", size)
        points.append((variables, built, peak))
        row(f"  study build, {size} sites", f"{built * 1000:.0f} ms, {variables:,} variables, "
            f"peak {peak:.1f} MB = {1000 * peak / variables:.2f} MB per 1,000 variables", "")
    xs = [math.log(v) for v, _, _ in points]
    ys = [math.log(t) for _, t, _ in points]
    mean_x, mean_y = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / \
        sum((x - mean_x) ** 2 for x in xs)
    row(f"build-time growth exponent (log-log fit over {len(points)} sizes)", f"{slope:.2f}",
        "<= 1.1")


def _peak_batch_mb(rows: int, extra: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of `gigaplan batch` on ``rows`` cheap rows."""
    text = "".join(f'{{"id": "{i}", "set": {{"power.budget": "{5 + i % 50} MW"}}}}\n'
                   for i in range(rows))
    path = Path(f"rows-{rows}.jsonl")
    path.write_text(text)
    start = time.perf_counter()
    process = subprocess.Popen([PY, "-m", "gigaplan", "batch", str(path), *extra],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def scaleout(quick: bool) -> None:
    """Dask on a running scheduler + 2 workers against the local pool; streaming memory."""
    rows = 2000
    port = 8790 + os.getpid() % 100
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(PY).parent / "dask")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port",
                                   str(port), "--no-dashboard"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    processes += [subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1",
                                    "--nthreads", "1", "--no-dashboard"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                  for _ in range(2)]
    try:
        import distributed

        while True:
            try:
                with distributed.Client(address, timeout="5s") as client:
                    if len(client.scheduler_info()["workers"]) == 2:
                        # warm, as a long-running cluster is (the pool's forks pay this once too)
                        client.run(lambda: [__import__(name) for name in
                                            ("gigaplan.planner", "scipy.optimize")])
                        break
            except OSError:
                time.sleep(0.5)
        from gigaplan.studies import batch as core

        items = [core.Row(id=str(i), sets=(("power.budget", f"{10 + (i % 1000) * 2} MW"),))
                 for i in range(rows)]
        timing: dict[str, float] = {}
        lines = {}
        runs = (("local pool, --jobs 2", "local", None),
                ("Dask, running scheduler + 2 workers", "dask", address))
        for _ in range(2 if quick else 3):  # interleaved; the best of each, as load comes and goes
            for _, executor, scheduler in runs:
                start = time.perf_counter()
                lines[executor] = list(core.run(items, 2, executor, scheduler))
                seconds = time.perf_counter() - start
                timing[executor] = min(timing.get(executor, seconds), seconds)
        for label, executor, _ in runs:
            row(f"{rows:,} rows, {label}", f"{rows / timing[executor]:.0f} rows/s", "")
        row("Dask / local throughput (same rows, same cores)",
            f"{timing['local'] / timing['dask']:.2f}x", ">= 0.9x")
        row("  local and Dask lines identical", str(lines["local"] == lines["dask"]), "True")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()
    small, big = 1000, (10_000 if quick else 100_000)
    small_mb, _ = _peak_batch_mb(small, ["--jobs", "2"])
    big_mb, seconds = _peak_batch_mb(big, ["--jobs", "2"])
    row(f"`gigaplan batch --jobs 2` peak RSS: {big:,} vs {small:,} rows",
        f"{big_mb:.0f} MB vs {small_mb:.0f} MB = {big_mb / small_mb:.2f}x ({seconds:.0f} s)",
        "<= 1.2x")

def studycore(quick: bool) -> None:
    """Why a capped study is hard: under the shared capex cap, its first stage is an integer
    knapsack over the sites' racks, which HiGHS's branch and bound closes slowly.

    The first stage alone (the most objective, every row of the study) of capped studies of
    2 to 20 sites, then of the 20-site study with every integer but the 40 rack counts made
    continuous. Gaps are in granules of the objective: 360 PFLOPS, the greatest common
    divisor of the two racks' dense FP4 PFLOPS, the least step HiGHS must rule out.
    """
    import math

    from gigaplan.formulation.sites import build_study
    from gigaplan.solve import run_milp

    limit = 30.0 if quick else 120.0

    def first_stage(label: str, model: Any) -> None:
        start = time.perf_counter()
        result = run_milp(model, model.objective, maximize=model.maximize, rows=model.rows,
                          time_limit_s=limit)
        seconds = time.perf_counter() - start
        granule = math.gcd(*(int(coef) for coef in model.objective.coefs.values()))
        value = model.objective.value(result.x) if result.x is not None else float("nan")
        bound = result.proven_bound if result.proven_bound is not None else float("nan")
        above = (bound - value) / granule
        row(label, f"{seconds:.1f} s, {result.status}: {value:,.0f} PFLOPS, bound "
            f"{bound:,.0f} = {above:.0f} granule{'' if above == 1 else 's'} of {granule} above",
            f"limit {limit:.0f} s")

    for sites in (2, 5, 10, 20):
        first_stage(f"capped study, {sites} sites x 2 SKUs: first stage",
                    build_study(cases.study(sites, 2)).model)
    model = build_study(cases.study(20, 2)).model
    racks = [i for i, name in enumerate(model.layout.names) if "/rack-count[" in name]
    for index in range(model.layout.size):
        model.layout.integer[index] = index in racks
    first_stage(f"the same, 20 sites, only the {len(racks)} rack counts integer", model)


def report(quick: bool) -> None:
    from report_bench import report as report_section

    report_section(quick, row)


SECTIONS = {"startup": startup, "planning": planning, "batch": batch, "quality": quality,
            "scale": scale, "targets": targets, "studycore": studycore, "scaleout": scaleout,
            "report": report}


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

