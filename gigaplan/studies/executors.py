"""Where many independent plans run: a local process pool, or a Dask cluster.

``run(worker, items, jobs, executor, scheduler)`` yields ``worker(item)`` for every item, in
input order, whichever executor runs them, so results are identical row for row.

Work goes out in chunks sized so that scheduling overhead stays small against the solve time
(about eight chunks per worker, at most :data:`MAX_CHUNK` items each), and only a bounded
window of chunks (:data:`WINDOW_PER_WORKER` per worker) is in flight at a time: items are
drawn from the iterable as results come back, so a batch of any length runs in bounded
memory. A chunk that fails on a Dask worker becomes one error result per item, never a lost
row. Dask is optional: ``pip install 'gigaplan[dask]'``. Items must carry what the worker
needs (contents, not paths: a Dask worker may be on another machine).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from gigaplan.errors import EXIT_INTERNAL, InputError

T = TypeVar("T")
EXECUTORS = ("local", "dask")
INSTALL_DASK = "pip install 'gigaplan[dask]'"
MAX_CHUNK = 64  # items: ~0.6 s of work per chunk at ~10 ms a plan, against ~ms to schedule it
WINDOW_PER_WORKER = 4  # chunks in flight per worker: enough to keep each one busy
PARENT_POLL_S = 0.2  # how often a pool worker checks that its parent is alive


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _apply(worker: Callable[[T], dict[str, Any]], chunk: Sequence[T]) -> list[dict[str, Any]]:
    return [worker(item) for item in chunk]


def chunk_size(count: int | None, workers: int) -> int:
    """Items per chunk: about eight chunks per worker, at most :data:`MAX_CHUNK`.

    Parameters
    ----------
    count : int or None
        Number of items [count]; None when unknown.
    workers : int
        Worker processes [count].

    Returns
    -------
    int
        Items per chunk [count].
    """
    if count is None:
        return MAX_CHUNK
    return max(1, min(MAX_CHUNK, count // (max(1, workers) * 8)))


def _windowed(submit: Callable[[list[T]], Any], result: Callable[[Any, list[T]],
              list[dict[str, Any]]], chunks: Iterator[list[T]], window: int
              ) -> Iterator[dict[str, Any]]:
    """Keep ``window`` chunks submitted; yield their results in order as they finish."""
    pending: deque[tuple[list[T], Any]] = deque()
    for chunk in itertools.islice(chunks, window):
        pending.append((chunk, submit(chunk)))
    while pending:
        chunk, future = pending.popleft()
        lines = result(future, chunk)
        for following in itertools.islice(chunks, 1):
            pending.append((following, submit(following)))
        yield from lines


def _die_with_parent(parent: int) -> None:
    """In a pool worker: exit as soon as ``parent``, the process that started it, is gone.

    A SIGKILL gives the parent no chance to stop its pool, and the workers, blocked on a
    queue whose other end their siblings still hold, would live on (reparented to init). A
    daemon thread polls the worker's parent pid and ends the worker when it is no longer
    ``parent``. The pid is passed in, not read here: a parent killed before this worker ran
    its initializer would otherwise be recorded as init, and never missed.

    Parameters
    ----------
    parent : int
        The pid of the process that owns the pool.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="gigaplan-parent-watch", daemon=True).start()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C (SIGINT) while a Dask LocalCluster starts its worker processes.

    An ignored signal stays ignored across ``exec``, so the workers never see the Ctrl-C
    meant for this process (a blocked mask does not reach them: Dask starts them from its
    own threads). A Ctrl-C reaches only this process, which shuts the cluster down in order
    instead of every worker printing its traceback. One pressed during the second or two
    the cluster takes to start is lost; the next one stops the run.
    """
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _quiet_dask() -> None:
    """No log lines or tracebacks from a cluster being shut down (after Ctrl-C too)."""
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def require_dask() -> Any:
    """Import ``distributed`` or raise an input error that says how to install it.

    Returns
    -------
    module
        The ``distributed`` module.
    """
    try:
        import distributed  # lazily: Dask is optional and slow to import
    except ImportError:
        raise InputError(f"--executor dask: Dask is not installed; install it with: "
                         f"{INSTALL_DASK}") from None
    return distributed


def run(worker: Callable[[T], dict[str, Any]], items: Iterable[T], jobs: int = 1,
        executor: str = "local", scheduler: str | None = None,
        on_error: Callable[[T, BaseException], dict[str, Any]] | None = None,
        count: int | None = None) -> Iterator[dict[str, Any]]:
    """``worker(item)`` for each item, in order, on the chosen executor.

    ``count`` is the number of items when ``items`` is an iterator (it sizes the chunks).

    Parameters
    ----------
    worker : callable
        The function applied to each item; it returns a result dict.
    items : iterable
        The items.
    jobs : int, default 1
        Parallel workers [count].
    executor : str, default "local"
        ``"local"`` (a process pool) or ``"dask"``.
    scheduler : str or None, default None
        Address of an existing Dask scheduler.
    on_error : callable or None, default None
        Turns an item and the exception its worker raised into a result dict.
    count : int or None, default None
        Number of items when ``items`` is an iterator [count].

    Returns
    -------
    iterator of dict
        One result per item, in order.
    """
    if executor not in EXECUTORS:
        raise InputError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if count is None and isinstance(items, Sequence):
        count = len(items)
    if executor == "dask":
        yield from _run_dask(worker, items, count, jobs, scheduler, on_error)
        return
    if scheduler is not None:
        raise InputError("--scheduler: only with --executor dask")
    if jobs <= 1 or count == 1:
        yield from map(worker, items)
        return
    chunks = _chunks(items, chunk_size(count, jobs))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        yield from _windowed(lambda chunk: pool.submit(_apply, worker, chunk),
                             lambda future, chunk: future.result(), chunks,
                             jobs * WINDOW_PER_WORKER)


def _run_dask(worker: Callable[[T], dict[str, Any]], items: Iterable[T], count: int | None,
              jobs: int, scheduler: str | None,
              on_error: Callable[[T, BaseException], dict[str, Any]] | None
              ) -> Iterator[dict[str, Any]]:
    distributed = require_dask()
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its shutdown chatter is noise
    chunks = _chunks(items, 1)
    first = next(chunks, None)  # a client-side error (a missing file) raises before connecting
    if first is None:
        return
    cluster = client = None
    closed = False
    try:
        if scheduler is None:
            with _sigint_ignored(), warnings.catch_warnings():
                # the scheduler's HTTP server moves off a busy port 8787 with a UserWarning
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                # silence_logs: the level of the workers' own log handlers, in their own
                # processes. CRITICAL: a worker that outlives the scheduler during a shutdown
                # (Ctrl-C on a loaded machine) logs heartbeat failures with tracebacks at
                # ERROR; a failed task still comes back as an error row
                cluster = distributed.LocalCluster(
                    n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.CRITICAL)
                client = distributed.Client(cluster)
        else:
            try:
                client = distributed.Client(scheduler, timeout="10s")
            except OSError as error:
                raise InputError(f"--scheduler {scheduler}: cannot connect ({error})") from None
        workers = max(1, len(client.scheduler_info().get("workers", {})) or jobs)
        rest = itertools.chain(first, itertools.chain.from_iterable(chunks))
        sized = _chunks(rest, chunk_size(count, workers))

        def result(future: Any, chunk: list[T]) -> list[dict[str, Any]]:
            try:
                return future.result()
            except Exception as error:  # a lost worker or a bug: rows, not a crash
                return [on_error(item, error) if on_error else {
                    "status": "error", "exit_code": EXIT_INTERNAL,
                    "error": f"task failed: {type(error).__name__}: {error}"} for item in chunk]

        yield from _windowed(lambda chunk: client.submit(_apply, worker, chunk, pure=False),
                             result, sized, workers * WINDOW_PER_WORKER)
    except KeyboardInterrupt:  # Ctrl-C: shut the cluster down without a word from it
        _quiet_dask()
        # a second Ctrl-C while the cluster closes would leave it half closed, to be torn
        # down at exit with tracebacks: ignored until it is closed
        with _sigint_ignored():
            _close(client, cluster)
        closed = True
        raise
    finally:
        if not closed:
            _close(client, cluster)


def _close(client: Any, cluster: Any) -> None:
    """Close the client, then the cluster this run started (either may be None)."""
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()
