"""An output name ending in '/' names a folder: a usage error, never a file without the slash.

``pathlib.Path("plans/")`` is ``Path("plans")``, so ``-o plans/`` used to write a file called
``plans`` (exit 0). Every option and argument that names an output file is checked.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = [
    ["plan", "-f", "json", "-o", "plans/"],
    ["init", "plans/"],
    ["check", "SITE", "--junit", "plans/"],
    ["check", "SITE", "--plan-json", "plans/"],
    ["batch", "rows.jsonl", "-o", "plans/"],
    ["sweep", "SITE", "--vary", "power.budget=100MW:200MW:100MW", "-o", "plans/"],
    ["report", "-o", "plans/"],
]


@pytest.mark.parametrize("args", CASES, ids=lambda args: " ".join(args[:1] + args[-2:]))
def test_an_output_ending_in_a_slash_is_refused_and_nothing_is_written(tmp_path, args):
    site = tmp_path / "site.toml"
    site.write_text('[power]\nbudget = "10 MW"\n')
    (tmp_path / "rows.jsonl").write_text('{"id": "a"}\n')
    args = [str(site) if arg == "SITE" else arg for arg in args]
    run = subprocess.run([sys.executable, "-m", "gigaplan", *args], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "'plans/' names a folder" in run.stderr
    assert run.stdout == ""
    assert not (tmp_path / "plans").exists()


def test_a_plain_file_name_still_works(tmp_path):
    run = subprocess.run([sys.executable, "-m", "gigaplan", "init", "plans"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "plans").is_file()
