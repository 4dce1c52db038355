"""Processes, interrupts and batch ids (issue 12, defects 5 and 8).

Pool workers of ``batch``, ``sweep`` and ``montecarlo`` die with their parent even after
SIGKILL; Ctrl-C under ``--executor dask`` is one "interrupted" line and exit 130, however
loaded the machine (the tests wait on what the process says and does, never on a fixed
sleep); duplicate batch ids are refused up front, naming both
lines; the ids given to unparsable lines never collide with a user's ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _processes(field: int, value: int) -> list[int]:
    """Live processes whose stat ``field`` (1: parent pid, 2: process group) is ``value``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[field]) == value and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _children(pid: int) -> list[int]:
    return _processes(1, pid)


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _wait(condition, timeout: float, step: float = 0.05) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass (a loaded machine is
    slow: every wait here is generous, and ends as soon as the condition holds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


class _Stderr:
    """A process's stderr, read on a thread, so the test waits for a line without blocking."""

    def __init__(self, stream) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.text += line

    def wait_for(self, needle: str, timeout: float) -> bool:
        return _wait(lambda: needle in self.text, timeout)

    def finish(self) -> str:
        self._thread.join(timeout=60)
        return self.text


def _rows(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"r{i}", "set": {"power.budget": f"{50 + i} MW"}})
                            + "\n" for i in range(count)))
    return path


def _python_children(pid: int) -> int:
    count = 0
    for child in _children(pid):
        try:
            count += b"python" in Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
    return count


# What keeps each command busy long enough to be killed mid-run on two parallel workers.
POOLED = {
    "batch": lambda tmp: ["batch", str(_rows(tmp / "rows.jsonl", 3000)), "-o",
                          str(tmp / "out.jsonl")],
    "sweep": lambda tmp: ["sweep", "--vary", "power.budget=50MW:3000MW:1MW", "-f", "json"],
    "montecarlo": lambda tmp: ["montecarlo", "--samples", "3000", "-f", "json",
                               "--uncertain", "power.pue=uniform(1.1, 1.3)"],
}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("command", sorted(POOLED))
def test_pool_workers_die_with_their_parent_after_sigkill(tmp_path, command):
    process = subprocess.Popen([sys.executable, "-m", "gigaplan", *POOLED[command](tmp_path),
                                "--jobs", "2"], env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        started = _wait(lambda: len(_children(process.pid)) >= 2, 180)
        workers = _children(process.pid)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert started, "the pool never started"
    _wait(lambda: not any(map(_alive, workers)), 60, step=0.1)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"workers {survivors} outlived their parent"


def test_a_worker_whose_parent_died_before_it_started_still_exits():
    """The parent is killed before the worker runs its initializer: the worker, already
    reparented, must still notice (it used to record its new parent, init, and live on)."""
    code = ("import os, time\n"
            "from gigaplan.studies.executors import _die_with_parent\n"
            "_die_with_parent(os.getppid() + 1_000_000)  # a parent that is already gone\n"
            "time.sleep(60)\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=ENV, timeout=120)
    assert done.returncode == 1 and time.monotonic() - started < 50


@pytest.mark.parametrize("when", ["starting", "planning"])
def test_ctrl_c_under_dask_is_quiet(tmp_path, when):
    """Ctrl-C while the cluster starts (workers importing) or while it plans: one line, exit
    130, and nothing of the run left behind; a second Ctrl-C while it shuts down changes
    nothing."""
    pytest.importorskip("distributed")
    rows = _rows(tmp_path / "rows.jsonl", 4000)
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "gigaplan", "batch", str(rows), "--jobs",
                                "2", "--executor", "dask", "-o", str(out)], env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # its own group, like a terminal job
    stderr = _Stderr(process.stderr)
    try:
        if when == "starting":  # the workers exist and are importing distributed
            assert _wait(lambda: _python_children(process.pid) >= 2, 180), stderr.text
            time.sleep(0.3)
        else:  # the cluster is planning: rows are coming back
            assert _wait(lambda: out.exists() and out.read_bytes().count(b"\n") >= 3, 300,
                         step=0.02), stderr.text
        # what Ctrl-C sends: the whole foreground group. One pressed while the cluster starts
        # is ignored by design (the workers must not see it), so press until the run says it
        # is stopping, as a user would
        deadline = time.monotonic() + 180
        while "interrupted" not in stderr.text and process.poll() is None \
                and time.monotonic() < deadline:
            os.killpg(process.pid, signal.SIGINT)
            stderr.wait_for("interrupted", 3)
        assert stderr.wait_for("interrupted", 10), stderr.text[-3000:]
        if process.poll() is None:  # pressed again while the cluster shuts down
            os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    text = stderr.finish()
    assert process.returncode == 130, text[-3000:]
    # one line: what was written and the command that finishes the run (issue 16)
    (line,) = text.strip().splitlines() or [""]
    assert line.startswith("interrupted: ") and line.endswith(
        f"--output {out} --resume --jobs 2 --executor dask"), text[-3000:]
    # the cluster's scheduler and workers ended with the run
    assert _wait(lambda: not _processes(2, process.pid), 60, step=0.2), \
        _processes(2, process.pid)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 once it is gone)."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) \
        / os.sysconf("SC_CLK_TCK")


def _threads(pid: int) -> int:
    """How many threads a live process runs (0 once it is gone)."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


@pytest.mark.parametrize("when", ["solving", "deep"])
def test_ctrl_c_stops_a_long_solve_at_once(tmp_path, when):
    """Ctrl-C in the middle of a long HiGHS solve (a capped 20-site study's first stage, which
    runs for minutes) stops ``plan`` at once: "interrupted", exit 130, nothing on stdout.

    HiGHS runs in C++, so before the solve moved to a helper thread
    (gigaplan/solver_thread.py) the signal waited for the solve to end. Pressed as soon as
    the solves begin (the helper thread has started; numpy's linear algebra runs on one
    thread here, so the helper is the second), a normal exit ran the C++ teardown under
    HiGHS's threads: SIGABRT, "terminate called without an active exception".
    """
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cases  # the scale cases of issue 17

    study = tmp_path / "study.toml"
    study.write_text(cases.study_text(20, 2))
    # Ctrl-C as at a terminal: a test run in the background (`pytest &`) inherits SIGINT
    # ignored, and Python keeps an ignored SIGINT ignored
    process = subprocess.Popen([sys.executable, "-m", "gigaplan", "plan", str(study),
                                "--format", "json"], env={**ENV, "OPENBLAS_NUM_THREADS": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        if when == "solving":  # the sites' own solves have begun
            assert _wait(lambda: _threads(process.pid) >= 2, 180, step=0.005), "no solve"
            time.sleep(0.2)
        else:  # 4 s of CPU: imports, the build and the sites' own solves (about 1.5 s) are
            # over, and the first stage, about 10 minutes of CPU, has begun
            assert _wait(lambda: _cpu_seconds(process.pid) >= 4.0, 180), "never got busy"
        assert process.poll() is None, process.communicate()
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stderr[-3000:]
    assert stderr == "interrupted\n" and stdout == ""


def test_a_long_plan_at_a_terminal_says_it_is_solving_then_clears_the_line(tmp_path):
    """At a terminal, a plan that takes more than a moment shows a spinner on stderr with the
    seconds so far, the limit and how to stop it; the line is gone before the plan prints."""
    import pty

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cases  # the scale cases of issue 17

    study = tmp_path / "study.toml"
    study.write_text(cases.study_text(20, 2))
    pid, terminal = pty.fork()
    if pid == 0:  # the child: gigaplan on the terminal, stdout and stderr alike
        os.execve(sys.executable, [sys.executable, "-m", "gigaplan", "plan", str(study),
                                   "--time-limit", "3"], {**ENV, "COLUMNS": "100"})
    seen = b""
    with contextlib.suppress(OSError):  # the terminal closes when the child exits
        while chunk := os.read(terminal, 65536):
            seen += chunk
    os.close(terminal)
    _, status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 5, text[-3000:]
    assert "solving: 1 s of the 3 s limit (Ctrl-C stops)" in text, text[-3000:]
    after = text.rsplit("(Ctrl-C stops)", 1)[1]  # the spinner's last frame, then the result
    assert after.startswith("\r\n") and "error: the time limit" in after, after


def test_the_helper_thread_returns_and_raises_as_a_solve_in_place():
    """Under the CLI a solve on the main thread runs on the helper thread, and returns or
    raises there as it would in place; off the main thread, or for a library caller, it runs
    in place."""
    from gigaplan.solver_thread import interrupt_solves_at_once, run_interruptibly

    def where() -> str:
        return threading.current_thread().name

    def fails() -> None:
        raise ValueError("no point")

    interrupt_solves_at_once(True)
    try:
        assert run_interruptibly(where) == run_interruptibly(where) == "gigaplan-solve"
        with pytest.raises(ValueError, match="no point"):
            run_interruptibly(fails)
        names: list[str] = []
        worker = threading.Thread(target=lambda: names.append(run_interruptibly(where)),
                                  name="a-dask-task")
        worker.start()
        worker.join()
        assert names == ["a-dask-task"]
    finally:
        interrupt_solves_at_once(False)
    assert run_interruptibly(where) == threading.main_thread().name


def test_a_forked_worker_gets_a_helper_thread_of_its_own():
    """A pool worker forked after the parent solved has none of the parent's threads: its
    solves must not wait for the parent's helper (``montecarlo --jobs 2`` hung so)."""
    from gigaplan.solver_thread import interrupt_solves_at_once, run_interruptibly

    codes: list[int] = []
    child = 0

    def ended() -> bool:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            codes.append(os.waitstatus_to_exitcode(status))
        return bool(pid)

    interrupt_solves_at_once(True)
    try:
        assert run_interruptibly(lambda: 1) == 1  # the parent's helper is running
        child = os.fork()
        if child == 0:  # the worker: exit with what its solve returns
            os._exit(run_interruptibly(lambda: 7))
        assert _wait(ended, 20), "the forked worker's solve never ran"
    finally:
        interrupt_solves_at_once(False)
        if child and not codes:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
    assert codes == [7]


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
