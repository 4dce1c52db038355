"""Every file a command reads goes through the bounded reader (issue 12, defect 3, second pass).

``report``'s JSON input, ``batch --resume``'s earlier output and a file name with a NUL
character (from a batch row or a study's ``file = ...``) each once escaped it: a FIFO hung the
command, ``/dev/zero`` ate memory, a directory or a NUL was exit 70. Each case runs in a
subprocess with a timeout and an address-space cap (``test_hardening.gigaplan``), so a
regression fails instead of stalling the suite.
"""

from __future__ import annotations

import json
import os

import pytest
from test_hardening import gigaplan, input_error

pytest.importorskip("jinja2")  # report renders HTML; the reading is checked before it


# --- report ----------------------------------------------------------------------------------


def test_report_never_blocks_on_a_fifo(tmp_path):
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    done = gigaplan("report", str(fifo), "-o", str(tmp_path / "r.html"), timeout=60)
    input_error(done, str(fifo), "not a regular file")
    assert not (tmp_path / "r.html").exists()


def test_report_never_reads_a_device(tmp_path):
    zero = tmp_path / "zero.json"  # the .json suffix takes the JSON path, not the TOML one
    zero.symlink_to("/dev/zero")
    input_error(gigaplan("report", str(zero), "-o", str(tmp_path / "r.html"), timeout=60),
                str(zero), "not a regular file")


def test_report_refuses_a_json_file_over_the_size_limit_unread(tmp_path):
    big = tmp_path / "big.json"
    with big.open("wb") as stream:  # sparse: 4 GiB of nothing, instantly
        stream.truncate(4 * 2**30)
    input_error(gigaplan("report", str(big), "-o", str(tmp_path / "r.html"), timeout=60),
                str(big), "MiB")


def test_report_bounds_its_standard_input(tmp_path):
    done = gigaplan("report", "-", "-o", str(tmp_path / "r.html"), timeout=60,
                    stdin=" " * (17 * 2**20))
    input_error(done, "stdin", "16 MiB")


@pytest.mark.parametrize("text", ["[" * 100_000, "1" + "0" * 5000, '{"schema": ' * 50_000],
                         ids=["deep-array", "long-integer", "deep-object"])
def test_report_json_too_deep_or_too_long_is_an_input_error(run, tmp_path, text):
    path = tmp_path / "doc.json"
    path.write_text(text)
    input_error(run("report", str(path), "-o", str(tmp_path / "r.html")), str(path))


def test_report_binary_json_is_an_input_error(run, tmp_path):
    path = tmp_path / "doc.json"
    path.write_bytes(b"\xff\xfe{}")
    input_error(run("report", str(path), "-o", str(tmp_path / "r.html")), str(path), "UTF-8")


def test_report_still_reads_a_plan_json_and_stdin(run, tmp_path):
    plan = run("plan", "-f", "json")
    assert plan.exit_code == 0
    for args, stdin in (((str(tmp_path / "p.json"),), None), (("-",), plan.stdout)):
        (tmp_path / "p.json").write_text(plan.stdout)
        out = tmp_path / "r.html"
        out.unlink(missing_ok=True)
        result = run("report", *args, "-o", str(out), input=stdin)
        assert result.exit_code == 0, result.stderr
        assert out.read_text().lstrip().lower().startswith("<!doctype html")


# --- every other command that reads a file -----------------------------------------------------

COMMANDS = [
    ("explain", "{f}"), ("check", "{f}"), ("diff", "{f}", "{f}"),
    ("sweep", "{f}", "--vary", "power.pue=1.2,1.3"), ("montecarlo", "{f}", "--samples", "2"),
    ("report", "{f}", "-o", "{o}"), ("catalog", "list", "--catalog", "{f}"),
    ("catalog", "show", "gb300-nvl72", "--catalog", "{f}"),
    ("sweep", "--catalog", "{f}", "--vary", "power.pue=1.2,1.3"),
    ("montecarlo", "--catalog", "{f}", "--samples", "2"), ("explain", "--catalog", "{f}"),
    ("check", "--catalog", "{f}", "{f}"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_command_refuses_a_fifo_without_blocking(tmp_path, args):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    done = gigaplan(*(a.format(f=fifo, o=tmp_path / "r.html") for a in args), timeout=60)
    input_error(done, str(fifo), "not a regular file")


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_command_refuses_an_oversize_file_unread(tmp_path, args):
    big = tmp_path / "big.toml"
    with big.open("wb") as stream:
        stream.truncate(4 * 2**30)
    done = gigaplan(*(a.format(f=big, o=tmp_path / "r.html") for a in args), timeout=60)
    input_error(done, str(big), "MiB")


# --- batch --resume reads the earlier output ---------------------------------------------------


def _rows(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n')
    return rows


def test_resume_from_a_fifo_does_not_block(tmp_path):
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    done = gigaplan("batch", str(_rows(tmp_path)), "-o", str(fifo), "--resume", timeout=60)
    input_error(done, str(fifo), "not a regular file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_resume_from_a_device_is_refused(tmp_path, device):
    done = gigaplan("batch", str(_rows(tmp_path)), "-o", device, "--resume", timeout=60)
    input_error(done, device, "not a regular file")


def test_resume_into_a_directory_is_an_input_error(run, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    input_error(run("batch", str(_rows(tmp_path)), "-o", str(folder), "--resume"), str(folder),
                "directory")


def test_resume_streams_an_output_with_a_huge_torn_tail(tmp_path):
    """A torn tail of 1.5 GiB (more than the 1 GiB address-space cap) is cut off without
    being held in memory; the rows before it still count as done."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n{"id": "b"}\n')
    out = tmp_path / "out.jsonl"
    done_row = json.dumps({"id": "a", "status": "optimal", "exit_code": 0})
    with out.open("wb") as stream:
        stream.write(done_row.encode() + b"\n" + b'{"id": "b", "x": "')
        stream.truncate(3 * 2**29)  # a sparse torn tail, 1.5 GiB
    done = gigaplan("batch", str(rows), "-o", str(out), "--resume", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 rows already done, 1 planned" in done.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == done_row and json.loads(lines[1])["id"] == "b" and len(lines) == 2


def test_resume_skips_a_line_longer_than_the_line_limit(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n')
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"id": "a", "pad": "' + b"x" * (17 * 2**20) + b'"}\n')
    done = gigaplan("batch", str(rows), "-o", str(out), "--resume", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "0 rows already done, 1 planned" in done.stderr  # the long line is not ours


# --- a file name with a NUL character ----------------------------------------------------------


def test_a_nul_in_a_batch_rows_site_is_an_error_row(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "nul", "site": "a\\u0000b.toml"}\n{"id": "ok"}\n')
    done = gigaplan("batch", str(rows), timeout=120)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(line["id"], line["exit_code"]) for line in lines] == [("nul", 3), ("ok", 0)]
    assert "NUL" in lines[0]["error"]
    assert "internal error" not in done.stderr


def test_a_nul_in_a_study_site_file_is_an_input_error(run, tmp_path):
    study = tmp_path / "study.toml"
    study.write_text('[study]\nname = "s"\n[[sites]]\nname = "a"\nfile = "a\\u0000b.toml"\n')
    input_error(run("plan", str(study)), "NUL")
