"""The scale cases of issue 17, shared by ``benchmarks/run.py`` and ``benchmarks/profile.py``.

- ``phased(n, skus)``: one 1 GW campus energized in ``n`` monthly phases from 2026-01-01,
  the power rising evenly to 1 GW (GB300 NVL72, then GB200 NVL72 as the second SKU);
- ``study(n, skus)``: ``n`` sites of 50-545 MW planned jointly under one capex cap (45 % of
  what the sites' power could buy) and one GPU floor (35 % of what it could hold).

Both build the same objects the CLI does (a site table through ``validate_site``/``bind``,
a study through ``load_study``), so the figures measure what a user runs.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

SKUS = ("gb300-nvl72", "gb200-nvl72")


def _month(start: date, months: int) -> str:
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, 1).isoformat()


def phased_site(phases: int, skus: int = 1) -> dict[str, Any]:
    """A site table with ``phases`` monthly phases rising to 1 GW."""
    start = date(2026, 1, 1)
    return {
        "power": {"budget": "1 GW"},
        "compute": {"skus": list(SKUS[:skus])},
        "schedule": {"objective_over_time": "time_weighted",
                     "horizon_end": _month(start, phases + 48)},
        "phases": [{"name": f"m{i + 1:03d}", "date": _month(start, i),
                    "power": f"{1000 * (i + 1) / phases:.3f} MW"} for i in range(phases)],
    }


def phased(phases: int, skus: int = 1) -> Any:
    """The bound phased site."""
    from gigaplan.inputs.catalog import load_catalog
    from gigaplan.inputs.site import bind, validate_site

    raw = phased_site(phases, skus)
    return bind(validate_site(raw, f"phased-{phases}x{skus}"), load_catalog(),
                f"phased-{phases}x{skus}")


def study_text(sites: int, skus: int = 1) -> str:
    """A study TOML with ``sites`` sites, a shared capex cap and a GPU floor."""
    budgets = [50 + (i * 37) % 500 for i in range(sites)]
    # about $40M of capex and ~280 GPUs per MW of facility power on the default site
    cap = 0.45 * 40e6 * sum(budgets)
    floor = int(0.35 * 280 * sum(budgets))
    lines = ["[study]", f'name = "scale-{sites}x{skus}"', 'objective = "fp4"',
             f'capex = "${cap / 1e9:.3f}B"', f'requirements = ["totals.gpus >= {floor}"]', ""]
    for i, budget in enumerate(budgets):
        lines += ["[[sites]]", f'name = "s{i + 1:03d}"', "[sites.power]",
                  f'budget = "{budget} MW"', f"pue = {1.15 + (i % 7) * 0.02:.2f}",
                  "[sites.compute]", f"skus = {list(SKUS[:skus])!r}".replace("'", '"'), ""]
    return "\n".join(lines)


def study(sites: int, skus: int = 1) -> Any:
    """The loaded study (through a temporary file, as the CLI reads it)."""
    from gigaplan.inputs.catalog import load_catalog
    from gigaplan.inputs.study import load_study

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"study-{sites}x{skus}.toml"
        path.write_text(study_text(sites, skus))
        return load_study(path, load_catalog())
