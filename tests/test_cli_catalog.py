"""The catalog commands through typer's CliRunner, and start-up imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import parse_json


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("gigaplan ")


def test_help_lists_commands_and_exit_codes(run):
    result = run("--help")
    assert result.exit_code == 0
    assert "catalog" in result.stdout and "Exit codes" in result.stdout


def test_catalog_list_json_is_full_entries(run):
    result = run("catalog", "list", "--format", "json")
    assert result.exit_code == 0
    rows = parse_json(result)
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    gb300 = next(row for row in rows if row["id"] == "gb300-nvl72")
    assert gb300["sources"] and gb300["kind"] == "compute_rack"
    assert result.stderr == ""


def test_catalog_list_filters_by_kind(run):
    rows = parse_json(run("catalog", "list", "--kind", "switch", "--format", "json"))
    assert {row["kind"] for row in rows} == {"switch"}
    assert run("catalog", "list", "--kind", "toaster").exit_code == 2


def test_catalog_list_table_marks_estimates(run):
    result = run("catalog", "list")
    assert result.exit_code == 0
    assert "gb300-nvl72" in result.stdout and "$3.5M*" in result.stdout


def test_catalog_show_json_has_documented_facts(run):
    result = run("catalog", "show", "gb300-nvl72", "--format", "json")
    assert result.exit_code == 0
    entry = parse_json(result)
    assert entry["gpu_count"] == 72 and entry["cpu_count"] == 36 and entry["power_kw"] == 142
    assert "price_usd" in entry["estimates"]


def test_catalog_show_table_marks_estimates_and_sources(run):
    result = run("catalog", "show", "vera-rubin-nvl72")
    assert result.exit_code == 0
    assert "estimate" in result.stdout and "Sources:" in result.stdout
    assert "sources range 180 to 230" in result.stdout


def test_catalog_show_unknown_id_exits_3_with_suggestion(run):
    result = run("catalog", "show", "gb300")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "unknown SKU id 'gb300'; did you mean gb300-nvl72" in result.stderr
    assert "Traceback" not in result.stderr


def test_catalog_validate(run, tmp_path):
    from gigaplan.inputs.catalog import bundled_catalog_paths

    paths = [str(path) for path in bundled_catalog_paths()]
    ok = run("catalog", "validate", *paths)
    assert ok.exit_code == 0 and ok.stdout.count("ok: ") == len(paths)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sku]]\nid = "x"\nkind = "switch"\n')
    result = run("catalog", "validate", str(bad))
    assert result.exit_code == 3
    assert f"error: {bad}: sku.x.name: required key is missing" in result.stderr
    assert result.stderr.count("required key is missing") >= 5  # every problem, at once


def test_user_catalog_with_markup_like_name_renders(run, tmp_path):
    from test_catalog import GOOD

    path = tmp_path / "markup.toml"
    path.write_text(GOOD.replace('name = "Test rack"', 'name = "x [/y] [bold]"'))
    for args in (("catalog", "list"), ("catalog", "show", "test-rack")):
        result = run(*args, "--catalog", str(path))
        assert result.exit_code == 0, result.stderr
        assert "x [/y] [bold]" in result.stdout


def test_bad_user_catalog_exits_3(run, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[[sku]]\nid = 'x'\n")
    result = run("catalog", "list", "--catalog", str(path))
    assert result.exit_code == 3 and "Traceback" not in result.stderr


def test_help_and_catalog_do_not_import_numpy_or_scipy():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from gigaplan.cli import app\n"
        "runner = CliRunner()\n"
        "for args in (['--help'], ['catalog', 'list'], ['catalog', 'show', 'gb300-nvl72']):\n"
        "    assert runner.invoke(app, args).exit_code == 0\n"
        "print(sorted(m for m in ('numpy', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []


def test_python_dash_m_runs():
    out = subprocess.run([sys.executable, "-m", "gigaplan", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("gigaplan ")


def test_root_help_has_an_example_per_command(run):
    from gigaplan.cli import app, catalog_app

    text = run("--help").stdout
    for command in app.registered_commands:
        assert f"gigaplan {command.name} " in text
    for command in catalog_app.registered_commands:
        assert f"gigaplan catalog {command.name} " in text


@pytest.mark.parametrize("args", [["catalog", "list"], ["--debug", "catalog", "list"],
                                  ["catalog", "list", "--kind", "compute_rack", "-f", "json"],
                                  ["catalog"], ["catalog", "lst"], ["plan", "--help"],
                                  ["--help"]])
def test_the_entry_point_answers_as_the_whole_app(args):
    """``main`` runs ``catalog ...`` on an app without the other commands (start-up): the
    output, the exit code and the errors are those of the whole app."""
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-m", "gigaplan", *args], capture_output=True,
                          text=True, env=env)
    whole = subprocess.run([sys.executable, "-c", "import sys\nfrom gigaplan.cli import app\n"
                            "app(sys.argv[1:], prog_name='python -m gigaplan')", *args],
                           capture_output=True, text=True, env=env)
    assert done.returncode == whole.returncode
    assert done.stdout == whole.stdout
    assert done.stderr == whole.stderr


def test_the_command_a_line_names():
    from gigaplan.cli.app import _command_name

    assert _command_name(["--debug", "catalog", "list"]) == "catalog"
    assert _command_name(["plan", "catalog"]) == "plan"
    assert _command_name(["--version"]) is None
