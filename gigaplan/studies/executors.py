"""Where many independent plans run: a local process pool, or a Dask cluster.

``run(worker, items, jobs, executor, scheduler)`` yields ``worker(item)`` for every item, in
input order, whichever executor runs them, so results are identical row for row. Work goes
out in chunks (about eight per worker) so that scheduling overhead stays small against the
solve time. A chunk that fails on a Dask worker becomes one error result per item, never a
lost row. Dask is optional: ``pip install 'gigaplan[dask]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from gigaplan.errors import EXIT_INTERNAL, InputError

T = TypeVar("T")
EXECUTORS = ("local", "dask")
INSTALL_DASK = "pip install 'gigaplan[dask]'"


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _apply(worker: Callable[[T], dict[str, Any]], chunk: Sequence[T]) -> list[dict[str, Any]]:
    return [worker(item) for item in chunk]


def chunk_size(count: int, workers: int) -> int:
    return max(1, count // (max(1, workers) * 8))


def require_dask() -> Any:
    """Import ``distributed`` or raise an input error that says how to install it."""
    try:
        import distributed  # lazily: Dask is optional and slow to import
    except ImportError:
        raise InputError(f"--executor dask: Dask is not installed; install it with: "
                         f"{INSTALL_DASK}") from None
    return distributed


def run(worker: Callable[[T], dict[str, Any]], items: Sequence[T], jobs: int = 1,
        executor: str = "local", scheduler: str | None = None,
        on_error: Callable[[T, BaseException], dict[str, Any]] | None = None
        ) -> Iterator[dict[str, Any]]:
    """``worker(item)`` for each item, in order, on the chosen executor."""
    if executor not in EXECUTORS:
        raise InputError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "dask":
        yield from _run_dask(worker, items, jobs, scheduler, on_error)
        return
    if scheduler is not None:
        raise InputError("--scheduler: only with --executor dask")
    if jobs <= 1 or len(items) <= 1:
        yield from map(worker, items)
        return
    size = chunk_size(len(items), jobs)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(worker, items, chunksize=size)


def _run_dask(worker: Callable[[T], dict[str, Any]], items: Sequence[T], jobs: int,
              scheduler: str | None,
              on_error: Callable[[T, BaseException], dict[str, Any]] | None
              ) -> Iterator[dict[str, Any]]:
    distributed = require_dask()
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its shutdown chatter is noise
    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(n_workers=max(1, jobs), threads_per_worker=1,
                                           processes=True, dashboard_address=None,
                                           silence_logs=logging.ERROR)
        client = distributed.Client(cluster)
    else:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except OSError as error:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({error})") from None
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})) or jobs)
        chunks = _chunks(items, chunk_size(len(items), workers))
        futures = client.map(_apply, [worker] * len(chunks), chunks, pure=False)
        for chunk, future in zip(chunks, futures, strict=True):
            try:
                yield from future.result()
            except Exception as error:  # a lost worker or a bug: rows, not a crash
                for item in chunk:
                    yield on_error(item, error) if on_error else {
                        "status": "error", "exit_code": EXIT_INTERNAL,
                        "error": f"task failed: {type(error).__name__}: {error}"}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
