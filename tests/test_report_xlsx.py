"""The xlsx workbook, read back with openpyxl, and the report command's contract."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl", reason="the report extra is not installed")
pytest.importorskip("matplotlib", reason="the report extra is not installed")

from report_fixtures import doc  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from gigaplan.cli import app  # noqa: E402
from gigaplan.output.xlsx import render_xlsx  # noqa: E402


def sheets(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def table(rows: list[tuple]) -> list[dict]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_plan_workbook_has_one_sheet_per_table_with_real_numbers(tmp_path: Path) -> None:
    out = tmp_path / "plan.xlsx"
    result = invoke("report", "-o", str(out), "--no-marginals")  # format from the suffix
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    book = sheets(out.read_bytes())
    assert list(book) == ["Summary", "Build-out", "Power", "Fabric BOM", "Capex", "TCO",
                          "Constraints", "Inputs", "Catalog"]
    plan = doc("default")
    racks = table(book["Build-out"])
    assert [(r["SKU"], r["racks"], r["power (MW)"], r["capex (USD)"]) for r in racks] == [
        (r["sku"], r["count"], r["power_mw"], r["capex_usd"]) for r in plan["racks"]]
    assert all(isinstance(r["racks"], int) for r in racks)  # numbers, not text
    capex = {r["item"]: r["capex, upfront (USD)"] for r in table(book["Capex"])}
    assert capex["total"] == pytest.approx(plan["cost"]["capex_usd"])
    assert sum(v for k, v in capex.items() if k != "total") == pytest.approx(capex["total"])
    tco = {r["item"]: r["cost (USD per year)"] for r in table(book["TCO"])}
    assert tco["TCO"] == pytest.approx(plan["cost"]["tco_usd_per_year"])
    power = {r["item"]: r["power (MW)"] for r in table(book["Power"])}
    assert power["facility"] == plan["power_mw"]["facility"]
    assert power["compute"] + power["network"] + power["auxiliary_networks"] + power["storage"] \
        + power["cpu"] == pytest.approx(power["it"])
    limits = table(book["Constraints"])
    assert [c["limit"] for c in limits] == [c["name"] for c in plan["constraints"]]
    assert [c["binding"] for c in limits] == [c["binding"] for c in plan["constraints"]]
    summary = {r["JSON key"]: r["value"] for r in table(book["Summary"])}
    assert summary["totals.gpus"] == 377_424
    assert summary["cost.usd_per_gpu_hour"] == plan["cost"]["usd_per_gpu_hour"]
    inputs = {r["site key (site-file units)"]: r["value"] for r in table(book["Inputs"])}
    assert inputs["power.budget"] == 1000 and inputs["power.pue"] == 1.22
    catalog = table(book["Catalog"])
    price = next(r for r in catalog if r["SKU"] == "gb300-nvl72" and
                 r["field (unit in name)"] == "price_usd")
    assert price["provenance"] == "estimate" and price["sources"].startswith("https://")
    for rows in book.values():  # every header names a unit or is a label column
        assert all(isinstance(h, str) and h for h in rows[0])


def test_phased_study_and_reference_workbooks() -> None:
    phased = sheets(render_xlsx(doc("phased")))
    rows = table(phased["Phases"])
    assert [r["GPUs"] for r in rows] == [p["gpus"] for p in doc("phased")["phases"]]
    assert rows[-1]["capex cumulative (USD)"] == pytest.approx(
        doc("phased")["phases"][-1]["capex_usd_cumulative"])
    study = sheets(render_xlsx(doc("three-sites")))
    sites = table(study["Sites"])
    assert [s["site"] for s in sites] == ["texas", "ohio", "norway"]
    assert sum(s["GPUs"] for s in sites) == doc("three-sites")["totals"]["gpus"]
    build = table(study["Build-out"])
    assert {r["site"] for r in build} == {"texas", "ohio", "norway"}
    assert sum(r["GPUs"] for r in build) == doc("three-sites")["totals"]["gpus"]
    reference = sheets(render_xlsx(doc("reference")))
    assert [r["copies"] for r in table(reference["Copies"])] == [
        c["copies"] for c in doc("reference")["copies"]]


def test_sweep_montecarlo_and_batch_workbooks(tmp_path: Path) -> None:
    sweep = table(sheets(render_xlsx(doc("sweep")))["Rows"])
    assert len(sweep) == len(doc("sweep")["rows"])
    assert list(sweep[0])[:2] == ["vary.power.budget", "vary.power.pue"]
    assert sweep[0]["totals.gpus"] == doc("sweep")["rows"][0]["totals.gpus"]
    assert sweep[0]["racks.gb300-nvl72"] == doc("sweep")["rows"][0]["racks"]["gb300-nvl72"]
    mc = sheets(render_xlsx(doc("montecarlo")))
    percentiles = {(r["field"], r["plan"]): r for r in table(mc["Percentiles"])}
    stats = doc("montecarlo")["optimal_plans"]["fields"]["objective.value"]
    assert percentiles["objective.value", "re-planned"]["P50"] == stats["p50"]
    assert sum(r["samples"] for r in table(mc["Objective histogram"])) == 24
    rows = tmp_path / "rows.jsonl"
    lines = [{"id": "a", "set": {"power.budget": "10MW"}},
             {"id": "b", "set": {"power.budget": "20MW"}}]
    rows.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = invoke("batch", str(rows), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.stderr
    result = invoke("report", str(tmp_path / "out.jsonl"), "-f", "xlsx", "-o",
                    str(tmp_path / "out.xlsx"))
    assert result.exit_code == 0, result.stderr
    batch = table(sheets((tmp_path / "out.xlsx").read_bytes())["Rows"])
    assert [r["id"] for r in batch] == ["a", "b"]
    assert batch[1]["totals.gpus"] > batch[0]["totals.gpus"] > 0


def test_report_command_reads_json_from_a_file_and_stdin(tmp_path: Path) -> None:
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(doc("default")))
    from_file = invoke("report", str(source))
    assert from_file.exit_code == 0 and from_file.stdout.startswith("<!DOCTYPE html>")
    from_stdin = invoke("report", "-", input=json.dumps(doc("default")))
    assert from_stdin.stdout == from_file.stdout
    assert 'data-value="377424"' in from_file.stdout


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["-"], '{"schema": "gigaplan.check/1"}', "cannot make a report of gigaplan.check/1"),
    (["-"], "[1, 2]", "not a gigaplan document"),
    (["-"], "{nope", "not JSON"),
    (["missing.json"], None, "missing.json: no such file"),  # as every input says it
])
def test_report_command_refuses_what_it_cannot_read(args, stdin, message) -> None:
    result = invoke("report", *args, input=stdin)
    assert result.exit_code == 3
    assert message in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_batch_rows_make_no_html_report(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a", "status": "optimal", "exit_code": 0, "totals.gpus": 5}\n')
    result = invoke("report", str(rows))
    assert result.exit_code == 3 and "use -f xlsx" in result.stderr


def test_infeasible_site_still_gets_a_report_then_exit_4(tmp_path: Path) -> None:
    out = tmp_path / "tiny.html"
    result = invoke("report", "--set", "power.budget=1MW", "--set",
                    "requirements=['totals.gpus >= 100000']", "-o", str(out))
    assert result.exit_code == 4, result.stderr
    assert 'id="infeasible"' in out.read_text()


def test_missing_report_extra_is_one_line_and_exit_3(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "gigaplan.output.html" or name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}", name="matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = invoke("report", "-")
    assert result.exit_code == 3
    assert "pip install 'gigaplan[report]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_report_files_keep_the_users_umask(tmp_path: Path) -> None:
    import os

    source = tmp_path / "plan.json"
    source.write_text(json.dumps(doc("default")))
    old = os.umask(0o022)
    try:
        for name in ("r.html", "r.xlsx"):
            result = invoke("report", str(source), "-o", str(tmp_path / name))
            assert result.exit_code == 0, result.stderr
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "r.html", "r.xlsx"]
