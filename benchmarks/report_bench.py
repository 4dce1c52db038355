"""The report section of ``benchmarks/run.py``: ``gigaplan report`` end to end, the renderers
in process, the size of what they write and the import cost the report path alone pays."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable


def _timed(command: list[str], repeat: int) -> float:
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median(call, repeat: int) -> float:
    call()  # warm: font cache, template compilation
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(quick: bool, row) -> None:
    from gigaplan.output.html import render_html
    from gigaplan.output.xlsx import render_xlsx

    repeat = 3 if quick else 7
    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "report.html"
        plan_json = Path(folder) / "plan.json"
        seconds = _timed([PY, "-m", "gigaplan", "report", "-o", str(html)], repeat)
        row("default site: `gigaplan report -o report.html` end to end", f"{seconds * 1000:.0f} ms",
            "plan, explain's re-solves, 6 charts")
        seconds = _timed([PY, "-m", "gigaplan", "report", "--no-marginals", "-o", str(html)],
                         repeat)
        row("the same with `--no-marginals`", f"{seconds * 1000:.0f} ms", "plan, 6 charts")
        row("default site: report.html size", f"{html.stat().st_size / 1024:.0f} kB",
            "one file, no script; plotly would embed ~3.5 MB of JS")
        subprocess.run([PY, "-m", "gigaplan", "plan", "-f", "json", "-o", str(plan_json)],
                       check=True)
        seconds = _timed([PY, "-m", "gigaplan", "report", str(plan_json), "-o", str(html)],
                         repeat)
        row("`gigaplan report plan.json` (no solve)", f"{seconds * 1000:.0f} ms", "")
        plan = json.loads(plan_json.read_text())
        seconds = _median(lambda: render_html(plan), repeat)
        row("`render_html(plan)` in process", f"{seconds * 1000:.0f} ms", "6 matplotlib charts")
        seconds = _median(lambda: render_xlsx(plan), repeat)
        row("`render_xlsx(plan)` in process", f"{seconds * 1000:.0f} ms, "
            f"{len(render_xlsx(plan)) / 1024:.0f} kB", "9 sheets")
        seconds = _timed([PY, "-c", "import gigaplan.output.html"], repeat)
        row("`import gigaplan.output.html` (matplotlib, Jinja2)", f"{seconds * 1000:.0f} ms",
            "paid by `report` only")
        leaked = subprocess.run(
            [PY, "-c", "import sys, runpy\nsys.argv = ['gigaplan', 'plan', '-f', 'json']\n"
             "try:\n    runpy.run_module('gigaplan', run_name='__main__')\nexcept SystemExit:\n"
             "    pass\nprint(sorted(m for m in ('matplotlib', 'jinja2', 'openpyxl') if m in "
             "sys.modules), file=sys.stderr)"], capture_output=True, text=True, check=True)
        row("report libraries imported by `gigaplan plan`", leaked.stderr.strip().splitlines()[-1],
            "[]")
