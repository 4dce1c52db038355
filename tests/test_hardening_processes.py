"""Processes, interrupts and batch ids (issue 12, defects 5 and 8).

Pool workers die with their parent even after SIGKILL; Ctrl-C under ``--executor dask`` is
one "interrupted" line and exit 130; duplicate batch ids are refused up front, naming both
lines; the ids given to unparsable lines never collide with a user's ids.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _rows(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"r{i}", "set": {"power.budget": f"{50 + i} MW"}})
                            + "\n" for i in range(count)))
    return path


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_pool_workers_die_with_their_parent_after_sigkill(tmp_path):
    rows = _rows(tmp_path / "rows.jsonl", 3000)
    process = subprocess.Popen([sys.executable, "-m", "gigaplan", "batch", str(rows), "--jobs",
                                "2", "-o", str(tmp_path / "out.jsonl")], env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the pool never started"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(map(_alive, workers)):
        time.sleep(0.1)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"workers {survivors} outlived their parent"


def _python_children(pid: int) -> int:
    return sum(1 for child in _children(pid)
               if "python" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"))


@pytest.mark.parametrize("when", ["starting", "planning"])
def test_ctrl_c_under_dask_is_quiet(tmp_path, when):
    """Ctrl-C while the cluster starts (workers importing) or while it plans: one line."""
    pytest.importorskip("distributed")
    rows = _rows(tmp_path / "rows.jsonl", 4000)
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "gigaplan", "batch", str(rows), "--jobs",
                                "2", "--executor", "dask", "-o", str(out)], env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # its own group, like a terminal job
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if when == "starting" and _python_children(process.pid) >= 2:
            time.sleep(0.3)  # the workers are importing distributed
            break
        if when == "planning" and out.exists() and out.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.02)
    # what Ctrl-C sends: the whole foreground group; pressed again while nothing happens (one
    # pressed while the cluster starts is lost)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            continue
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    # one line: what was written and the command that finishes the run (issue 16)
    (line,) = stderr.strip().splitlines() or [""]
    assert line.startswith("interrupted: ") and line.endswith(
        f"--output {out} --resume --jobs 2 --executor dask"), stderr[-3000:]


def test_duplicate_batch_ids_are_refused_naming_both_lines(run, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n{"id": "b"}\n\n{"id": "a", "set": {"power.pue": 1.3}}\n')
    result = run("batch", str(rows))
    assert result.exit_code == 3, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert f"{rows}:1" in lines[0] and f"{rows}:4" in lines[0] and "'a'" in lines[0]


def test_duplicate_csv_ids_are_refused_naming_both_lines(run, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("id,power.pue\nx,1.2\ny,1.3\nx,1.4\n")
    result = run("batch", str(rows))
    assert result.exit_code == 3, result.stderr
    assert f"{rows}:2" in result.stderr and f"{rows}:4" in result.stderr


def test_integer_and_string_ids_that_print_alike_are_duplicates(run, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": 7}\n{"id": "7"}\n')
    result = run("batch", str(rows))
    assert result.exit_code == 3, result.stderr
    assert f"{rows}:1" in result.stderr and f"{rows}:2" in result.stderr


def test_synthetic_ids_never_collide_with_user_ids(run, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "line-2"}\nnot json\n{"id": "line-2-1"}\n[1,\n')
    result = run("batch", str(rows))
    assert result.exit_code == 1, result.stderr  # two error rows, no duplicate-id refusal
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    ids = [line["id"] for line in lines]
    assert len(ids) == len(set(ids)) == 4
    assert ids[0] == "line-2" and ids[2] == "line-2-1"
    assert lines[0]["status"] == lines[2]["status"] == "optimal"
    assert lines[1]["status"] == lines[3]["status"] == "error"
    assert f"{rows}:2" in lines[1]["error"] and f"{rows}:4" in lines[3]["error"]


def test_resume_with_synthetic_ids_plans_nothing_twice(run, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "line-2"}\nnot json\n')
    out = tmp_path / "out.jsonl"
    assert run("batch", str(rows), "-o", str(out)).exit_code == 1
    first = out.read_text()
    result = run("batch", str(rows), "-o", str(out), "--resume")
    assert result.exit_code == 1
    assert out.read_text() == first
    assert "2 rows already done, 0 planned" in result.stderr
