"""What an attack on the CLI found beyond the campaign (issue 12, second pass).

``batch rows.jsonl -o rows.jsonl`` truncated its own input before reading a row (exit 0,
"0 rows"), and every ``-o`` could replace the site or catalog it was planned from;
``COLUMNS=abc`` was exit 70 and ``COLUMNS=0`` printed nothing at all, errors included; a
time limit that stopped the solver before any plan was found left an infinite MIP gap, so
``-f json`` was exit 70 ("cannot serialise non-finite number inf").
"""

from __future__ import annotations

import datetime
import json
import shutil

import pytest
from test_hardening import ROOT, input_error
from typer.testing import CliRunner

from gigaplan.cli import app

# --- an output never replaces one of the command's own inputs ----------------------------


@pytest.fixture
def inputs(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n{"id": "b"}\n')
    site = tmp_path / "site.toml"
    shutil.copy(ROOT / "gigaplan" / "inputs" / "default_site.toml", site)
    catalog = tmp_path / "catalog.toml"
    shutil.copy(ROOT / "catalogs" / "generic.toml", catalog)
    (tmp_path / "link.jsonl").symlink_to(rows)
    return {path.name: path for path in (rows, site, catalog, tmp_path / "link.jsonl")}


CLOBBERS = [
    ("batch", "{rows.jsonl}", "-o", "{rows.jsonl}"),
    ("batch", "{rows.jsonl}", "-o", "{link.jsonl}"),
    ("batch", "{rows.jsonl}", "-o", "{rows.jsonl}", "--resume"),
    ("batch", "{rows.jsonl}", "-f", "csv", "-o", "{rows.jsonl}"),
    ("plan", "{site.toml}", "-o", "{site.toml}"),
    ("plan", "{site.toml}", "-f", "toml", "-o", "{site.toml}"),
    ("plan", "-c", "{catalog.toml}", "-o", "{catalog.toml}"),
    ("montecarlo", "{site.toml}", "--samples", "2", "--uncertain", "power.pue=uniform(1.1, 1.3)",
     "-o", "{site.toml}"),
    ("check", "{site.toml}", "--require", "totals.gpus >= 1", "--junit", "{site.toml}"),
    ("check", "{site.toml}", "--require", "totals.gpus >= 1", "--plan-json", "{site.toml}"),
    ("sweep", "{site.toml}", "--vary", "power.pue=1.2,1.3", "-o", "{site.toml}"),
]


@pytest.mark.parametrize("args", CLOBBERS, ids=[" ".join(a[:1] + a[-2:]) for a in CLOBBERS])
def test_an_output_never_replaces_an_input(run, inputs, args):
    before = {name: path.read_bytes() for name, path in inputs.items()}
    named = list(args)
    for name, path in inputs.items():
        named = [arg.replace(f"{{{name}}}", str(path)) for arg in named]
    result = run(*named)
    input_error(result, named[-1] if named[-1] != "--resume" else named[-2],
                "is an input of this command")
    assert {name: path.read_bytes() for name, path in inputs.items()} == before


def test_report_never_replaces_its_site(run, inputs):
    pytest.importorskip("jinja2")
    site = inputs["site.toml"]
    before = site.read_bytes()
    input_error(run("report", str(site), "-o", str(site)), str(site), "is an input")
    assert site.read_bytes() == before


def test_outputs_beside_the_inputs_are_still_written(run, inputs, tmp_path):
    """The refusal is about the same file, not the same name or folder."""
    out = tmp_path / "out.jsonl"
    result = run("batch", str(inputs["rows.jsonl"]), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "b"]
    copy = tmp_path / "copy.toml"
    shutil.copy(inputs["site.toml"], copy)  # same content, another file
    assert run("plan", str(inputs["site.toml"]), "-f", "json", "-o", str(copy)).exit_code == 0
    assert json.loads(copy.read_text())["status"] == "optimal"


def test_one_command_reading_a_file_does_not_stop_the_next_writing_it(run, inputs, tmp_path):
    """Commands run one after another in one process (as these tests do) each start afresh."""
    plan = tmp_path / "plan.json"
    assert run("plan", "-f", "json", "-o", str(plan)).exit_code == 0
    assert run("diff", str(plan), str(plan)).exit_code == 0  # reads plan.json
    assert run("plan", "-f", "json", "-o", str(plan)).exit_code == 0  # may write it again


# --- COLUMNS that is not a width ----------------------------------------------------------


@pytest.mark.parametrize("columns", ["abc", "0", "-5", "", " ", "1e3", "99999999999", "\u00b2",
                                     "9" * 5000])
def test_a_columns_value_that_is_not_a_width_is_ignored(columns):
    runner = CliRunner()
    result = runner.invoke(app, ["plan"], env={"COLUMNS": columns}, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "Build-out" in result.stdout and "gb300-nvl72" in result.stdout
    assert max(map(len, result.stdout.splitlines())) <= 400
    failed = runner.invoke(app, ["plan", "--set", "power.budget=x"], env={"COLUMNS": columns},
                           catch_exceptions=False)
    input_error(failed, "power.budget")  # the error is printed, on one line


@pytest.mark.parametrize("lines", ["\u00b2", "9" * 5000, "0", "abc"])
def test_a_lines_value_that_is_not_a_height_is_ignored(run, tmp_path, lines):
    out = tmp_path / "plan.txt"
    for args in (("plan",), ("plan", "-o", str(out))):
        result = CliRunner().invoke(app, list(args), env={"LINES": lines},
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    assert "Build-out" in out.read_text()


def test_a_columns_value_that_is_a_width_still_applies():
    result = CliRunner().invoke(app, ["plan"], env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0
    assert max(map(len, result.stdout.splitlines())) <= 80


# --- a time limit before any plan is found ------------------------------------------------


def _phased_site(tmp_path, phases: int):
    text = (ROOT / "docs" / "examples" / "phased-site.toml").read_text()
    head = text[:text.index("[[phases]]")].replace("horizon_end = 2031-06-01",
                                                    "horizon_end = 2100-01-01")
    start = datetime.date(2026, 3, 1)
    blocks = "".join(f'[[phases]]\nname = "b{i}"\ndate = {start + datetime.timedelta(days=30 * i)}'
                     f'\npower = "{300 + i} MW"\n\n' for i in range(phases))
    site = tmp_path / "phased.toml"
    site.write_text(head + blocks)
    return site


@pytest.mark.parametrize("fmt", ["json", "toml", "table"])
def test_a_time_limit_before_any_plan_is_found_is_exit_5_not_70(run, tmp_path, fmt):
    """200 phases: the solver stops after 1 s with nothing found, or with the empty plan
    (objective 0, so the relative gap is infinite); either way the gap is unknown, null."""
    site = _phased_site(tmp_path, 200)
    result = run("plan", str(site), "-f", fmt, "--time-limit", "1")
    assert result.exit_code == 5, result.stderr[-2000:]
    assert "internal error" not in result.stderr
    if fmt == "json":
        doc = json.loads(result.stdout)
        assert doc["status"] == "time_limit" and doc["solver"]["mip_gap"] is None


# --- Monte Carlo samples that cannot fit -------------------------------------------------------


def test_more_samples_than_fit_in_memory_is_a_usage_error():
    """10,000,000 samples (the old maximum) ran out of memory drawing them: exit 70."""
    from test_hardening import gigaplan

    done = gigaplan("montecarlo", "--samples", "10000000", "--uncertain",
                    "power.pue=uniform(1.1, 1.3)", timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "100000" in done.stderr.replace(",", "") and "Traceback" not in done.stderr


# --- CSV batches that are not quite CSV, and byte-order marks ------------------------------------


def test_an_unclosed_csv_quote_is_an_error_not_one_row_swallowing_the_rest(run, tmp_path):
    """It used to swallow every following line into one id: 2 rows planned as 1, exit 0."""
    rows = tmp_path / "rows.csv"
    rows.write_text('id,power.pue\n"a,1.2\nb,1.3\nc,1.25\n')
    input_error(run("batch", str(rows)), f"{rows}:4", "quote")


def test_a_csv_cell_over_the_field_limit_is_an_input_error(run, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("id,name\na," + "x" * 200_000 + "\n")
    input_error(run("batch", str(rows)), str(rows), "field limit")  # was exit 70
    input_error(run("batch", "-", input=rows.read_text()), "<stdin>", "field limit")


def test_a_csv_column_named_twice_is_an_input_error(run, tmp_path):
    rows = tmp_path / "rows.csv"  # csv.DictReader kept the last 'id': row 'a' was lost
    rows.write_text("id,id,power.pue\na,b,1.2\n")
    input_error(run("batch", str(rows)), f"{rows}:1", "'id'")


@pytest.mark.parametrize(("name", "text"), [
    ("rows.csv", "id,power.pue\na,1.2\n"), ("rows.jsonl", '{"id": "a"}\n')])
def test_a_byte_order_mark_before_a_batch_is_not_content(run, tmp_path, name, text):
    rows = tmp_path / name
    rows.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = run("batch", str(rows))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "a"


def test_a_byte_order_mark_before_a_site_is_not_content(run, tmp_path):
    site = tmp_path / "site.toml"
    site.write_bytes(b"\xef\xbb\xbf" + (ROOT / "gigaplan" / "inputs" /
                                        "default_site.toml").read_bytes())
    result = run("plan", str(site), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "optimal"


# --- report of an incomplete JSON document ------------------------------------------------------


@pytest.fixture(scope="module")
def plan_doc():
    result = CliRunner().invoke(app, ["plan", "-f", "json"], catch_exceptions=False)
    return json.loads(result.stdout)


def _keys(doc):
    return sorted(key for key in doc if key != "schema")


@pytest.mark.parametrize("fmt", ["html", "xlsx"])
def test_a_plan_json_missing_any_key_is_an_input_error_never_70(run, tmp_path, plan_doc, fmt):
    """Each top-level key of a real plan JSON taken out in turn (a truncated or hand-edited
    file): the report is written or refused on one line; it used to be exit 70 (KeyError)."""
    pytest.importorskip("openpyxl" if fmt == "xlsx" else "jinja2")
    path = tmp_path / "plan.json"
    for key in _keys(plan_doc):
        path.write_text(json.dumps({k: v for k, v in plan_doc.items() if k != key}))
        result = run("report", str(path), "-f", fmt, "-o", str(tmp_path / f"r.{fmt}"))
        if result.exit_code != 0:
            input_error(result, str(path), "not a complete gigaplan.plan/1 document")


@pytest.mark.parametrize("schema", ["gigaplan.plan/1", "gigaplan.study/1", "gigaplan.sweep/1",
                                    "gigaplan.montecarlo/1", "gigaplan.reference/1"])
def test_a_bare_schema_is_an_input_error(run, tmp_path, schema):
    pytest.importorskip("jinja2")
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"schema": schema}))
    input_error(run("report", str(path), "-o", str(tmp_path / "r.html")), str(path), schema)


def test_a_value_of_the_wrong_kind_is_an_input_error(run, tmp_path, plan_doc):
    pytest.importorskip("openpyxl")
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**plan_doc, "racks": 5}))
    input_error(run("report", str(path), "-o", str(tmp_path / "r.xlsx")), str(path))
