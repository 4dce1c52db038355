"""Every table command at 60, 80 and 120 columns: no number, date or id is ever cut.

rich cuts a cell that does not fit with ``…``; gigaplan drops low-priority columns or stacks
the rows instead (gigaplan.output.tablefit). Each test also finds the figures of the JSON
output whole in the table output, and no line is wider than the terminal unless it is a URL.
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from gigaplan.cli import app

WIDTHS = (60, 80, 120)


def table(*args: str, width: int, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(width)},
                                catch_exceptions=False)
    assert result.exit_code == code, result.stderr
    assert "…" not in result.stdout, result.stdout
    for line in result.stdout.splitlines():
        assert len(line) <= width or re.fullmatch(r"\s*- https?://\S+", line), line
    return result.stdout


def as_json(*args: str) -> dict:
    return json.loads(CliRunner().invoke(app, [*args, "--format", "json"]).stdout)


def whole(text: str, token: str) -> bool:
    """``token`` appears with no digit, letter or dash glued to either side."""
    return re.search(rf"(?<![\w,.-]){re.escape(token)}(?![\w-])", text) is not None


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_prints_every_count_and_sku_whole(width):
    data = as_json("plan")
    text = table("plan", width=width)
    for token in (f"{data['totals']['gpus']:,}", f"{data['totals']['cpu_cores']:,}",
                  f"{data['totals']['racks']:,}", f"{data['objective']['value']:,}",
                  *(line["sku"] for line in data["racks"]),
                  *(f"{line['count']:,}" for line in data["racks"])):
        assert whole(text, token), (token, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_phased_timeline_prints_dates_whole(width):
    data = as_json("plan", "docs/examples/phased-site.toml")
    text = table("plan", "docs/examples/phased-site.toml", width=width)
    dropped = "(date not shown at this width)" in text  # a low-priority column may go
    for phase in data["phases"]:
        assert dropped or whole(text, phase["date"]), (phase["date"], text)
        for token in (phase["in_service"], phase["name"], f"{phase['gpus']:,}"):
            assert whole(text, token), (token, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_study_and_reference_print_whole(width):
    data = as_json("plan", "docs/examples/three-sites.toml")
    text = table("plan", "docs/examples/three-sites.toml", width=width)
    for site in data["sites"]:
        assert whole(text, f"{site['totals']['gpus']:,}")
    reference = table("plan", "docs/examples/three-sites.toml", "--reference", "ohio",
                      width=width)
    assert whole(reference, "texas") and whole(reference, "norway")


@pytest.mark.parametrize("width", WIDTHS)
def test_catalog_list_prints_every_id_and_date_whole(width):
    entries = as_json("catalog", "list")
    text = table("catalog", "list", width=width)
    for entry in entries:
        assert whole(text, entry["id"]) and whole(text, str(entry["available_from"])), entry["id"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("sku", ["gb300-nvl72", "grace-cpu-rack", "quantum-x800-q3400"])
def test_catalog_show_prints_values_and_urls_whole(width, sku):
    entry = as_json("catalog", "show", sku)
    text = table("catalog", "show", sku, width=width)
    assert "None" not in text
    lines = text.splitlines()
    for url in entry["sources"]:
        assert f"  - {url}" in lines, url
    for name in ("power_kw", "power_w", "price_usd", "available_from"):
        if entry.get(name) is not None:
            assert whole(text, name)


@pytest.mark.parametrize("width", WIDTHS)
def test_sweep_explain_diff_check_montecarlo_print_whole(width, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('requirements = ["totals.gpus >= 1000"]\n[power]\nbudget = "20 MW"\n')
    other = tmp_path / "other.toml"
    other.write_text('requirements = ["totals.gpus >= 1000"]\n[power]\nbudget = "30 MW"\n')
    sweep = table("sweep", str(site), "--vary", "power.budget=1MW,20MW,1GW", width=width,
                  code=1)
    planned = as_json("plan", str(site))
    assert whole(sweep, f"{planned['objective']['value']:,}") and whole(sweep, "1GW")
    assert "infeasible" in sweep
    assert "Objective (fp4) against power.budget" in " ".join(sweep.split())
    table("explain", str(site), width=width)
    table("diff", str(site), str(other), width=width)
    check = table("check", str(site), width=width)
    assert whole(check, f"{planned['totals']['gpus']:,}")
    table("montecarlo", str(site), "--samples", "3", "--uncertain",
          "power.pue=uniform(1.1, 1.3)", width=width)
