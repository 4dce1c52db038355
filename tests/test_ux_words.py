"""Consistent units and words (issue 16, point 6): counts agree with their nouns, every limit
of a study prints with its unit, and each site of a study is named as itself."""

from __future__ import annotations

import re

from conftest import ROOT, parse_json

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
