"""Consistent units and words (issue 16, point 6): counts agree with their nouns, every limit
of a study prints with its unit, and each site of a study is named as itself."""

from __future__ import annotations

import re

from conftest import ROOT, parse_json
from typer.testing import CliRunner

from gigaplan.cli import app
from gigaplan.cli.app import run_summary
from gigaplan.inputs.units import counted

STUDY = ROOT / "docs" / "examples" / "three-sites.toml"


def test_counted_is_singular_for_one_and_plural_otherwise():
    assert counted(1, "grace-cpu-rack rack", signed=True) == "+1 grace-cpu-rack rack"
    assert counted(-1, "GPU", signed=True) == "-1 GPU"
    assert counted(52, "gb300-nvl72 rack", signed=True) == "+52 gb300-nvl72 racks"
    assert counted(0, "error") == "0 errors"
    assert counted(1_000, "sample re-planned", "samples re-planned") == \
        "1,000 samples re-planned"


CHANGE = re.compile(r"([+-][\d,]+) (?:[\w.-]+ )?(racks?|GPUs?)\b")


def test_explain_marginals_agree_in_number(run):
    result = run("explain", "--format", "json")
    texts = [row["text"] for row in parse_json(result)["marginals"]]
    changes = [match for text in texts for match in CHANGE.findall(text)]
    assert changes, texts  # the default site's power budget binds: racks change
    for count, noun in changes:
        assert noun.endswith("s") == (abs(int(count.replace(",", ""))) != 1), texts
    assert not any("racks racks" in text or "rack racks" in text for text in texts)
    # the default site adds exactly one CPU rack for 10 MW more (the case the issue saw)
    assert any("+1 grace-cpu-rack rack," in text for text in texts), texts


def test_run_summary_counts_in_the_singular_for_one():
    line = run_summary("sweep", ("combination", "combinations"),
                       {"optimal": 0, "error": 1}, 0.04)
    assert line == "sweep: 1 combination: 0 planned, 0 infeasible, 1 error; 0.0 s"
    line = run_summary("batch", ("row", "rows"), {"optimal": 2, "error": 3}, 1.25)
    assert line == "batch: 5 rows: 2 planned, 0 infeasible, 3 errors; 1.2 s"


def test_study_limits_print_with_their_units(run):
    result = run("plan", str(STUDY), "--format", "json")
    capex = next(row for row in parse_json(result)["constraints"] if row["unit"] == "USD")
    table = run("plan", str(STUDY)).stdout
    line = next(line for line in table.splitlines() if "study capex" in line)
    cells = [cell.strip() for cell in line.strip("│ ").split("│")]
    assert cells[2] == "<= $60B"  # the limit, in its unit, not 60,000,000,000
    assert cells[1].startswith("$") and cells[1].endswith("B")
    used = float(cells[1].strip("$B")) * 1e9
    assert abs(used - capex["used"]) <= 5e-6 * capex["used"]  # six significant digits


def test_study_sites_keep_their_own_names(run, tmp_path):
    data = parse_json(run("plan", str(STUDY), "--format", "json"))
    assert {site["name"]: site["inputs"]["site"]["name"] for site in data["sites"]} == \
        {"texas": "texas", "ohio": "ohio", "norway": "norway"}
    (tmp_path / "east.toml").write_text('name = "East campus"\n[power]\nbudget = "50 MW"\n')
    study = tmp_path / "study.toml"
    study.write_text('[study]\nname = "two"\n\n[[sites]]\nname = "east"\nfile = "east.toml"\n\n'
                     '[[sites]]\nname = "west"\n[sites.power]\nbudget = "40 MW"\n')
    data = parse_json(run("plan", str(study), "--format", "json"))
    assert {site["name"]: site["inputs"]["site"]["name"] for site in data["sites"]} == \
        {"east": "East campus", "west": "west"}


def test_power_waterfall_column_headed_mw_holds_bare_megawatts():
    result = CliRunner().invoke(app, ["plan"], env={"COLUMNS": "120"}, catch_exceptions=False)
    lines = result.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Power waterfall")))
    header = lines[start + 2]
    assert [cell.strip() for cell in header.strip("┃").split("┃")][1] == "MW"
    cells = []
    for line in lines[start + 4:]:
        if line.startswith("└"):
            break
        cells.append(line.strip("│").split("│")[1].strip())
    assert len(cells) >= 10 and all(re.fullmatch(r"[\d,]+(\.\d+)?", cell) for cell in cells), \
        cells  # no "1 GW", "0 W" or "195.8 kW" under a MW heading
    plan = parse_json(CliRunner().invoke(app, ["plan", "--format", "json"]))
    assert float(cells[0].replace(",", "")) == plan["power_mw"]["budget"]


def test_catalog_show_writes_n_a_for_a_missing_value_and_urls_whole():
    entry = parse_json(CliRunner().invoke(app, ["catalog", "show", "gb200-nvl72", "-f",
                                                "json"]))
    assert entry["inference_tokens_per_s_per_gpu"] is None
    shown = CliRunner().invoke(app, ["catalog", "show", "gb200-nvl72"],
                               env={"COLUMNS": "60"}).stdout
    assert "None" not in shown and "n/a" in shown
    lines = shown.splitlines()
    for url in entry["sources"]:
        assert f"  - {url}" in lines  # one line each, never wrapped or cut


def test_sweep_whose_first_row_is_infeasible_titles_the_chart_and_keeps_words_whole():
    args = ["sweep", "--vary", "power.budget=1MW,1GW", "--set",
            'requirements=["totals.gpus >= 1000"]']
    data = parse_json(CliRunner().invoke(app, [*args, "--format", "json"]))
    note = data["rows"][0]["error"]
    assert data["rows"][0]["status"] == "infeasible" and note
    for width in (60, 80, 120):
        shown = CliRunner().invoke(app, args, env={"COLUMNS": str(width)}).stdout
        assert "Objective (fp4) against power.budget" in " ".join(shown.split())
        assert "Objective ()" not in shown
        tokens = set(re.split(r"[\s│┃]+", shown))
        assert all(word in tokens for word in note.split()), (width, shown)
