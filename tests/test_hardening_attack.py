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
import os
import shutil
import subprocess
import sys

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


# --- deep inline tables in a batch row -------------------------------------------------------


@pytest.mark.parametrize("row", [
    '{"id": "deep", "site": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}",
    '{"id": "deep", "set": {"power.budget": ' + "[" * 900 + "]" * 900 + "}}",
], ids=["site", "set"])
def test_a_deeply_nested_row_is_an_input_error_row(run, tmp_path, row):
    """It used to be an error row of class 70 ("internal error: RecursionError")."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text(row + '\n{"id": "ok"}\n')
    result = run("batch", str(rows))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["id"], line["exit_code"]) for line in lines] == [("deep", 3), ("ok", 0)]
    assert "nested more than 32 levels" in lines[0]["error"]


# --- NaN and Infinity in a JSON document --------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_in_a_plan_json_are_input_errors(run, tmp_path, plan_doc, constant):
    """Python's json reads them; diff -f json then failed to write them (exit 70)."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_doc).replace('"gpus": ', f'"gpus": {constant}, "x": ', 1))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(plan_doc))
    input_error(run("diff", str(path), str(good), "-f", "json"), str(path), constant)
    pytest.importorskip("jinja2")
    input_error(run("report", str(path), "-o", str(tmp_path / "r.html")), str(path), constant)


# --- requirements by the thousand --------------------------------------------------------------


def _requirements(count: int) -> str:
    return "[" + ", ".join(['"totals.gpus >= 1"'] * count) + "]"


def test_more_than_1000_requirements_is_an_input_error(run, tmp_path):
    """100,000 requirements took a minute and a half to render (each is a table row)."""
    from gigaplan.inputs.site import default_site_text

    site = tmp_path / "site.toml"
    site.write_text(default_site_text().replace("requirements = []",
                                                f"requirements = {_requirements(100_000)}", 1))
    input_error(run("plan", str(site)), str(site), "requirements", "1000")
    site.write_text(default_site_text().replace("requirements = []",
                                                f"requirements = {_requirements(1000)}", 1))
    assert run("plan", str(site), "-f", "json").exit_code == 0  # 1,000 is still fine
    input_error(run("plan", str(site), "--require", "totals.gpus >= 2"), "requirements")


def test_a_study_with_more_than_1000_requirements_is_an_input_error(run, tmp_path):
    study = tmp_path / "study.toml"
    study.write_text((ROOT / "docs" / "examples" / "three-sites.toml").read_text().replace(
        'requirements = ["totals.gpus >= 500000"]', f"requirements = {_requirements(1001)}"))
    input_error(run("plan", str(study)), "study.requirements", "1,000")


# --- a ratio that overflows ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "toml"])
def test_a_training_time_that_overflows_is_null_not_exit_70(run, fmt):
    """MFU 1e-300 is in range (> 0) but makes the training days infinite: JSON, CSV and TOML
    could not write it (exit 70)."""
    result = run("plan", "--set", "workload.mfu=1e-300", "--train-params", "1T",
                 "--train-tokens", "20T", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    if fmt == "json":
        assert json.loads(result.stdout)["workload"]["train_days"] is None


# --- a long unknown SKU id is quoted short -------------------------------------------------------

LONG_ID = "gb300-" * 20_000


@pytest.mark.parametrize("args", [
    ("catalog", "show", LONG_ID), ("plan", "--sku", LONG_ID),
    ("plan", "--set", f"economics.prices.{LONG_ID}=1"),
    ("montecarlo", "--samples", "2", "--uncertain", f"catalog.{LONG_ID}.power_kw=uniform(1, 2)"),
], ids=["catalog-show", "sku", "prices", "uncertain"])
def test_an_unknown_sku_id_is_quoted_short(run, args):
    """The 120,000-character id was echoed whole (twice for --uncertain)."""
    result = run(*args)
    input_error(result, "unknown SKU id", "120,000 characters")
    assert len(result.stderr) < 1000


# --- a full disk ----------------------------------------------------------------------------------


FULL = "/dev/full"  # every write fails with ENOSPC, as on a full disk


@pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full")
@pytest.mark.parametrize("args", [
    ("plan",), ("plan", "-f", "json"), ("catalog", "list"), ("batch", "-"),
    ("sweep", "--vary", "power.pue=1.2,1.3"), ("--help",), ("--version",), ("plan", "--help"),
], ids=lambda args: " ".join(args))
def test_stdout_on_a_full_disk_is_one_line_not_70(args):
    """Every one of these was exit 70 (OSError: No space left on device) or a traceback."""
    with open(FULL, "w") as full:
        done = subprocess.run([sys.executable, "-m", "gigaplan", *args], stdout=full,
                              stderr=subprocess.PIPE, text=True, input='{"id": "a"}\n',
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    assert done.stderr.strip().splitlines() == [
        "error: the output cannot be written (No space left on device)"], done.stderr[-2000:]


@pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full")
def test_a_batch_output_on_a_full_disk_names_the_file(run, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n')
    input_error(run("batch", str(rows), "-o", FULL), FULL, "No space left on device")


# --- closed standard streams ---------------------------------------------------------------------


def _with_closed(fd: int, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI with descriptor ``fd`` closed, as ``gigaplan ... >&-`` does."""
    return subprocess.run([sys.executable, "-m", "gigaplan", *args], capture_output=fd != 1,
                          stderr=subprocess.PIPE if fd == 1 else None, text=True, timeout=120,
                          preexec_fn=lambda: os.close(fd),
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize(("fd", "args", "message"), [
    (0, ("batch", "-"), "standard input is closed"),
    (1, ("plan",), "standard output is closed"),
    (1, ("plan", "-f", "json"), "standard output is closed"),
    (1, ("--help",), "standard output is closed"),
], ids=["stdin-batch", "stdout-table", "stdout-json", "stdout-help"])
def test_a_closed_standard_stream_is_one_line_not_70(fd, args, message):
    """Python leaves sys.stdin/sys.stdout None: AttributeError, exit 70 (or a traceback)."""
    done = _with_closed(fd, *args)
    assert done.returncode == 3, done.stderr[-2000:]
    assert done.stderr.strip().splitlines() == [f"error: {message}; "
                                                + ("give a file instead of -" if fd == 0
                                                   else "give --output FILE")]


def test_a_closed_stdout_does_not_stop_an_output_file(tmp_path):
    out = tmp_path / "plan.json"
    done = _with_closed(1, "plan", "-f", "json", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["status"] == "optimal"


def test_a_closed_stderr_keeps_the_exit_code():
    assert _with_closed(2, "plan", "--set", "power.budget=x").returncode == 3


# --- a string that looks like a spreadsheet formula -------------------------------------------


def test_an_xlsx_report_holds_no_formula_from_a_name(run, tmp_path):
    """openpyxl stored a string starting with '=' as a formula: a SKU named
    =cmd|"/c calc"!A1 or a site named =HYPERLINK(...) ran when the workbook was opened."""
    openpyxl = pytest.importorskip("openpyxl")
    import tomllib

    import tomli_w

    from gigaplan.inputs.site import default_site_text

    site = tmp_path / "site.toml"
    site.write_text(default_site_text().replace('name = "default 1 GW AI factory"',
                                                'name = "=HYPERLINK(\\"http://x\\",\\"y\\")"', 1))
    skus = tomllib.loads((ROOT / "catalogs" / "nvidia.toml").read_text())["sku"]
    sku = {**next(s for s in skus if s["id"] == "gb300-nvl72"), "name": '=cmd|"/c calc"!A1'}
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(tomli_w.dumps({"sku": [sku]}))
    out = tmp_path / "plan.xlsx"
    result = run("report", str(site), "-c", str(catalog), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    book = openpyxl.load_workbook(out)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    values = {cell.value for cell in cells}
    assert '=cmd|"/c calc"!A1' in values and '=HYPERLINK("http://x","y")' in values


# --- file names with control characters or undecodable bytes -----------------------------------


def _site_named(tmp_path, name: bytes):
    path = os.path.join(os.fsencode(tmp_path), name)
    shutil.copy(ROOT / "gigaplan" / "inputs" / "default_site.toml", path)
    return os.fsdecode(path)  # an undecodable byte becomes a lone surrogate, as in sys.argv


@pytest.mark.parametrize("name", [b"ct\x01l.toml", b"bad\xff.toml", b"e\x1b[2J.toml"],
                         ids=["control", "not-utf8", "escape"])
def test_a_junit_file_stays_xml_whatever_the_site_is_called(run, tmp_path, name):
    """A control character in a file name made the JUnit file invalid XML; an undecodable
    byte made writing it exit 70 (UnicodeEncodeError)."""
    import xml.etree.ElementTree as ElementTree

    site = _site_named(tmp_path, name)
    junit = tmp_path / "junit.xml"
    result = run("check", site, "--require", "totals.gpus >= 1", "--junit", str(junit))
    assert result.exit_code == 0, result.stderr
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    assert [case.get("name") for case in cases] == ["totals.gpus >= 1"]


def test_an_output_naming_an_undecodable_site_is_written(run, tmp_path):
    """The plan's TOML or the HTML report names the site file: exit 70 when writing it."""
    site = _site_named(tmp_path, b"bad\xff.toml")
    out = tmp_path / "plan.toml"
    assert run("plan", site, "-f", "toml", "-o", str(out)).exit_code == 0
    import tomllib

    assert tomllib.loads(out.read_text())["inputs"]["source"].startswith(str(tmp_path))
