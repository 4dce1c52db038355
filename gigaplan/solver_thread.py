"""Run each solve on a helper thread, so that Ctrl-C stops a long solve at once.

HiGHS runs in C++ and returns to Python only when its solve ends. Python runs a signal
handler (Ctrl-C's ``KeyboardInterrupt``) only between bytecodes of the main thread, so a
``plan`` interrupted during a solve that takes minutes (a capped multi-site study) went on
until the solve ended. scipy releases the GIL while HiGHS runs; the main thread therefore
waits for a helper thread that runs the solve, and the wait, which signals do interrupt,
raises ``KeyboardInterrupt`` at once.

scipy's ``milp`` cannot be cancelled: the abandoned helper is a daemon thread that runs on
until it ends or the process does, and until then it keeps descriptor 1 pointed away from
standard output (:mod:`gigaplan.fdguard`), so nothing it prints reaches stdout. That suits a
command that exits on Ctrl-C (the CLI prints "interrupted" and exits 130), not a Python
session that goes on after it, so the CLI turns this on (:func:`interrupt_solves_at_once`)
and a library caller's solves run in place, as before.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_state = {"at_once": False, "helper_started": False}
WAKE_UP_S = 0.1  # the longest a Ctrl-C waits while a solve runs


def interrupt_solves_at_once(enabled: bool) -> None:
    """Whether solves on the main thread run on a helper thread that Ctrl-C abandons.

    Parameters
    ----------
    enabled : bool
        True in a process that exits on ``KeyboardInterrupt`` (the CLI).
    """
    _state["at_once"] = enabled


class _Helper:
    """One daemon thread that runs the solves handed to it, one at a time.

    It lives as long as the process: HiGHS sets up its task scheduler once per calling
    thread, about 0.3 ms that a new thread per solve would pay again each time.
    """

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[tuple[Callable[[], Any], list, threading.Event]] = \
            queue.SimpleQueue()
        threading.Thread(target=self._serve, name="gigaplan-solve", daemon=True).start()

    def _serve(self) -> None:
        while True:
            solve, outcome, done = self.jobs.get()
            try:
                outcome.append((True, solve()))
            except BaseException as error:  # re-raised in the waiting thread
                outcome.append((False, error))
            done.set()


_helpers: list[_Helper] = []  # the helper, started on the first solve


def _forked() -> None:
    # a forked child (a pool worker) has no thread but the one that forked: a helper of its
    # own, when it solves
    _helpers.clear()
    _state["helper_started"] = False


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere processes are spawned, not forked
    os.register_at_fork(after_in_child=_forked)


def solver_threads_started() -> bool:
    """Whether this process has run a solve on a helper thread (HiGHS's threads with it).

    A process interrupted after that must end with :func:`os._exit`: a normal exit runs the
    C++ runtime's teardown under HiGHS's threads, which may still be solving (an abandoned
    solve) or winding down, and that aborts the process ("terminate called without an
    active exception", SIGABRT) instead of exiting 130.

    Returns
    -------
    bool
        True once a helper thread has started in this process.
    """
    return _state["helper_started"]


def import_solver() -> None:
    """Import numpy and scipy's ``milp`` (HiGHS) with Ctrl-C held back until they are in.

    A Ctrl-C during the import of a compiled module makes it fail as ``ImportError``
    ("initialization failed"), which scipy's optional imports catch as a module that is not
    there: the Ctrl-C was lost, and the plan went on into its solves (about one Ctrl-C in
    fifty, sent 0.4 s after start). Held back, it is raised here once the imports are done.
    Threads the imports start (numpy's linear algebra) keep SIGINT blocked, so the kernel
    hands a later Ctrl-C to the threads that handle it.
    """
    if "scipy.optimize" in sys.modules:
        return
    hold = hasattr(signal, "pthread_sigmask") and \
        threading.current_thread() is threading.main_thread()
    if hold:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        import scipy.optimize  # noqa: F401  (and numpy, which it imports)
    finally:
        if hold:  # a Ctrl-C held back is raised here (CPython runs the handlers on unblock)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _run_signal_handlers() -> None:
    """Run the Python handler of any signal another thread took, here on the main thread.

    The kernel may hand Ctrl-C to any thread that does not block it (HiGHS's, the
    helper). CPython's C handler then records it on that thread, and the main thread's wait
    is not interrupted: it only wakes at its timeout. ``signal.pthread_sigmask`` ends with
    CPython's ``PyErr_CheckSignals()``, which runs the recorded handlers at that wake-up
    rather than whenever the interpreter next looks; blocking no signal changes nothing else.
    """
    if hasattr(signal, "pthread_sigmask"):  # POSIX
        signal.pthread_sigmask(signal.SIG_BLOCK, ())


def run_interruptibly(solve: Callable[[], T]) -> T:
    """``solve()``, on the helper thread while the main thread waits for it.

    It runs in place when :func:`interrupt_solves_at_once` is off, and off the main thread
    (a Dask worker's task, a caller's own thread), where no signal arrives.

    Parameters
    ----------
    solve : callable
        The solve, with no arguments.

    Returns
    -------
    object
        What ``solve`` returns; what it raises is raised here.
    """
    if not _state["at_once"] or threading.current_thread() is not threading.main_thread():
        return solve()
    if not _helpers:
        _helpers.append(_Helper())
        _state["helper_started"] = True
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()
    _helpers[0].jobs.put((solve, outcome, done))
    try:
        while not done.wait(WAKE_UP_S):  # Ctrl-C interrupts the wait, or:
            _run_signal_handlers()
    except BaseException:
        _helpers.clear()  # the helper is busy with the abandoned solve: a new one next time
        raise
    finished, value = outcome[0]
    if not finished:
        raise value
    return value
