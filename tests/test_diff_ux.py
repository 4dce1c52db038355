"""gigaplan diff leads with what matters (issue 16, point 3)."""

from __future__ import annotations

import json


def _sites(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('[power]\nbudget = "100 MW"\n')
    b.write_text('[power]\nbudget = "90 MW"\n')
    return a, b


def test_diff_table_starts_with_a_summary_of_signed_changes(run, tmp_path):
    a, b = _sites(tmp_path)
    plans = [json.loads(run("plan", str(site), "-f", "json").stdout) for site in (a, b)]
    result = run("diff", str(a), str(b))
    assert result.exit_code == 0
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    assert lines.index("Summary") < lines.index("Changed inputs") < \
        lines.index("Other changed results")
    gpus = [plan["totals"]["gpus"] for plan in plans]
    change = gpus[1] - gpus[0]
    row = f"GPUs {gpus[0]:,} {gpus[1]:,} {change:+,} {change / gpus[0]:+.2%}"
    assert row in lines, result.stdout
    assert any(line.startswith("power.budget 100 90 -10 -10.00%") for line in lines)
    assert "e-0" not in result.stdout  # no raw floating-point noise
    assert "--all shows them" in result.stdout


def test_negligible_rows_are_hidden_unless_all(run, tmp_path):
    a, b = _sites(tmp_path)
    short = json.loads(run("diff", str(a), str(b), "-f", "json").stdout)
    everything = json.loads(run("diff", str(a), str(b), "-f", "json", "--all").stdout)
    assert not any(change["negligible"] for change in short["inputs"] + short["results"])
    assert any(change["negligible"] for change in everything["inputs"])
    assert len(everything["results"]) > len(short["results"])
    assert [row["label"] for row in short["summary"]][:3] == [
        "objective (dense FP4 PFLOPS)", "GPUs", "racks"]


def test_exit_code_says_whether_they_differ(run, tmp_path):
    a, b = _sites(tmp_path)
    assert run("diff", str(a), str(b), "--exit-code").exit_code == 1
    same = run("diff", str(a), str(a), "--exit-code")
    assert same.exit_code == 0 and "No difference." in same.stdout
    assert json.loads(run("diff", str(a), str(a), "-f", "json").stdout)["same"] is True
    assert run("diff", str(a), str(b)).exit_code == 0  # without --exit-code: 0
