"""Keep the solver's own output off standard output, at the file-descriptor level.

HiGHS can write to file descriptor 1 from C++ regardless of its ``output_flag``/``disp``
options (ERGO-Code/HiGHS issue 2783: ``HighsMipSolverData::transformNewIntegerFeasibleSolution
tmpSolver.run();``), which breaks ``--format json | jq`` and JSON Lines batches. Python's
``sys.stdout`` redirection cannot catch a C library's writes, so :func:`solver_output_off`
points descriptor 1 itself elsewhere around each solve and restores it afterwards.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

_libc: list[Any] = []  # the C library, loaded once on the first solve
_sink: list[int] = []  # a descriptor open on /dev/null, opened once


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers (``fflush(NULL)``): text HiGHS left in the buffer of a piped
    stdout must reach the redirected descriptor, not the restored one at exit."""
    with suppress(OSError, AttributeError, TypeError):
        if not _libc:
            _libc.append(ctypes.CDLL(None))
        _libc[0].fflush(None)


_LOCK = threading.RLock()  # descriptor 1 is process-wide: one redirection at a time
_state = {"to_stderr": False}


def send_solver_output_to_stderr(enabled: bool) -> None:
    """Under ``--debug`` the solver's chatter goes to stderr instead of being dropped.

    Parameters
    ----------
    enabled : bool
        Send the solver's output to stderr when True, drop it when False.
    """
    _state["to_stderr"] = enabled


@contextmanager
def solver_output_off() -> Iterator[None]:
    """Redirect descriptor 1 to ``/dev/null`` (or stderr) for the duration of the block.

    Python's buffered stdout is flushed first, so nothing written before the block is lost
    or reordered; the original descriptor is restored in ``finally`` even when the solve
    raises or is interrupted.

    Returns
    -------
    contextlib.AbstractContextManager
        A context manager that yields None while descriptor 1 is redirected.
    """
    with _LOCK:
        with suppress(AttributeError, ValueError, OSError):
            sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no descriptor 1 at all (a closed stdout): nothing to protect
            yield
            return
        try:
            if _state["to_stderr"]:
                os.dup2(2, 1)
            else:
                if not _sink:
                    _sink.append(os.open(os.devnull, os.O_WRONLY))
                os.dup2(_sink[0], 1)
            yield
        finally:
            _flush_c_stdio()
            with suppress(AttributeError, ValueError, OSError):
                sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
