"""gigaplan against publicly reported AI sites: the table of docs/validation.md.

    python benchmarks/validation.py            # print the table (Markdown)
    python benchmarks/validation.py --write    # rewrite the table in docs/validation.md

Each site of tests/validation_sites.toml is planned with its reported power, basis and
hardware (objective: the most GPUs) and every other value at gigaplan's default. The error is
the model's GPU count against the nearest end of the reported range (zero inside it).
tests/test_validation.py asserts the firm rows land in the band and that the table in
docs/validation.md is the one this script prints.
"""

from __future__ import annotations

import statistics
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "tests" / "validation_sites.toml"
DOC = ROOT / "docs" / "validation.md"
BEGIN, END = "<!-- validation-table:begin -->", "<!-- validation-table:end -->"
BAND = (0.8, 1.2)  # the asserted band: the reported range widened by 20% each way


def sites() -> list[dict[str, Any]]:
    return tomllib.loads(SITES.read_text(encoding="utf-8"))["site"]


def model_gpus(site: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The GPUs gigaplan plans for ``site`` with its reported inputs, and the plan."""
    from gigaplan.inputs.scenario import Scenario
    from gigaplan.planner import plan

    table = {**site["site"], "objective": "gpus", "name": site["name"]}
    result = plan(Scenario(site=table, source=site["id"]).bind()).to_dict()
    return int(result["totals"]["gpus"]), result


def error(model: float, low: float, high: float) -> float:
    """Relative error against the nearest end of [low, high]; zero inside the range."""
    if model < low:
        return model / low - 1.0
    if model > high:
        return model / high - 1.0
    return 0.0


def in_band(model: float, low: float, high: float) -> bool:
    return BAND[0] * low <= model <= BAND[1] * high


def rows() -> list[dict[str, Any]]:
    out = []
    for site in sites():
        gpus, result = model_gpus(site)
        low, high = site["reported_gpus"]
        out.append({"site": site, "gpus": gpus, "error": error(gpus, low, high),
                    "in_band": in_band(gpus, low, high),
                    "it_mw": result["power_mw"]["it"],
                    "facility_mw": result["power_mw"]["facility"]})
    return out


def _count(low: int, high: int) -> str:
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| site | reported power (basis) | hardware | reported GPUs | model GPUs | "
             "error | firm | in band |",
             "|---|---|---|---:|---:|---:|:-:|:-:|"]
    for row in results:
        site = row["site"]
        lines.append(
            f"| {site['name']} ({site['date']}) | {site['power']} ({site['basis']}) | "
            f"{site['hardware']} | {_count(*site['reported_gpus'])} | {row['gpus']:,} | "
            f"{row['error']:+.0%} | {'yes' if site['firm'] else 'no'} | "
            f"{'yes' if row['in_band'] else 'no'} |")
    every = [abs(row["error"]) for row in results]
    firm = [abs(row["error"]) for row in results if row["site"]["firm"]]
    lines.append("")
    lines.append(f"Median absolute error: **{statistics.median(every):.1%}** over all "
                 f"{len(every)} sites, **{statistics.median(firm):.1%}** over the "
                 f"{len(firm)} firm ones; {sum(r['in_band'] for r in results)} of "
                 f"{len(results)} land in the band (reported range ±20%).")
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")


def main(argv: list[str]) -> None:
    text = table(rows())
    if "--write" in argv:
        write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
