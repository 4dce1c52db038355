"""Output files (issue 12, defect 1 and the unwritable part of 4).

``--output`` replaces a regular file atomically, and writes through anything else: a symlink
is followed to its target (and stays a symlink), a FIFO or a device node is written to, never
replaced. New files get the process umask; an existing file keeps its mode. An output that
cannot be written is exit 3 with one line, never an internal error.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def umask():
    """Run with a known umask, restored afterwards."""
    old = os.umask(0o022)
    try:
        yield lambda mask: os.umask(mask)
    finally:
        os.umask(old)


def test_output_follows_a_symlink_and_keeps_it(run, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = run("plan", "-f", "json", "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert json.loads(target.read_text())["schema"] == "gigaplan.plan/1"


def test_output_through_a_dangling_symlink_creates_its_target(run, tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    result = run("plan", "-f", "json", "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert json.loads((tmp_path / "new.json").read_text())["schema"] == "gigaplan.plan/1"


def test_output_writes_through_a_fifo(run, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run("plan", "-f", "json", "-o", str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not a regular file
    assert json.loads(received[0])["schema"] == "gigaplan.plan/1"


def test_output_writes_through_a_device_node(run, tmp_path):
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("creating a device node needs CAP_MKNOD")
    result = run("plan", "-f", "json", "-o", str(null))
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode)  # still the null device


def test_output_to_a_symlink_to_stdout_reaches_stdout(tmp_path):
    link = tmp_path / "out"
    link.symlink_to("/dev/stdout")
    done = subprocess.run([sys.executable, "-m", "gigaplan", "plan", "-f", "json", "-o",
                           str(link)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema"] == "gigaplan.plan/1"
    assert link.is_symlink()


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_new_output_files_get_the_process_umask(run, tmp_path, umask, mask):
    umask(mask)
    expected = 0o666 & ~mask
    site = tmp_path / "site.toml"
    assert run("init", str(site)).exit_code == 0
    assert stat.S_IMODE(site.stat().st_mode) == expected
    plan = tmp_path / "plan.json"
    assert run("plan", "-f", "json", "-o", str(plan)).exit_code == 0
    assert stat.S_IMODE(plan.stat().st_mode) == expected
    site.write_text(site.read_text().replace("requirements = []",
                                             'requirements = ["totals.gpus >= 1"]'))
    junit = tmp_path / "check.xml"
    result = run("check", str(site), "--junit", str(junit))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(junit.stat().st_mode) == expected
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n')
    out = tmp_path / "out.jsonl"
    assert run("batch", str(rows), "-o", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == expected


def test_an_existing_file_keeps_its_mode(run, tmp_path, umask):
    plan = tmp_path / "plan.json"
    plan.write_text("old")
    plan.chmod(0o664)
    assert run("plan", "-f", "json", "-o", str(plan)).exit_code == 0
    assert stat.S_IMODE(plan.stat().st_mode) == 0o664
    assert json.loads(plan.read_text())["schema"] == "gigaplan.plan/1"
    site = tmp_path / "site.toml"
    site.write_text("old")
    site.chmod(0o640)
    assert run("init", str(site), "--force").exit_code == 0
    assert stat.S_IMODE(site.stat().st_mode) == 0o640


@pytest.fixture
def unwritable(tmp_path):
    """A folder this process cannot create files in (a read-only one, or /sys as root)."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys")
    try:
        os.close(os.open(folder / "gigaplan-probe", os.O_WRONLY | os.O_CREAT, 0o644))
    except OSError:
        yield folder
        return
    pytest.skip("no folder here refuses root")


def _one_error_line(result, name: str) -> None:
    assert result.exit_code == 3, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert name in lines[0] and "internal error" not in lines[0]


def test_unwritable_outputs_are_input_errors(run, tmp_path, unwritable):
    target = unwritable / "gigaplan-out.json"
    _one_error_line(run("plan", "-f", "json", "-o", str(target)), str(target))
    _one_error_line(run("init", str(unwritable / "site.toml")), "site.toml")
    site = tmp_path / "site.toml"
    assert run("init", str(site)).exit_code == 0
    junit = unwritable / "check.xml"
    _one_error_line(run("check", str(site), "--require", "totals.gpus >= 1", "--junit",
                        str(junit)), str(junit))
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a"}\n')
    out = unwritable / "out.jsonl"
    _one_error_line(run("batch", str(rows), "-o", str(out)), str(out))
