"""Independent pieces of a plan edit worked on side by side.

- ``apart``: one piece per community of a district, in worker processes. The pieces are mostly
  many small GEOS calls and the partition's Python, so threads, which share the GIL, reached
  only 1.25× on two cores; processes reach nearly 2×. A piece gets only its community (its
  grids, buildings and street lines), pickled as WKB, and sends back its shapes. The workers
  fork from a server process that has imported the planner once (forkserver, never a fork of
  the threaded web server), so a worker starts in milliseconds. As with any spawned
  worker, a script that edits plans calls them under ``if __name__ == "__main__":`` (the
  workers import the main module). A worker that dies (killed, out of memory) costs that
  edit its speed, not its result: it is finished in the caller, and new workers come next.
- ``both``: two calls of one check, in threads (GEOS releases the GIL in the big vectorised
  calls they make).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CORES = max(os.cpu_count() or 1, 1)
PRELOAD = ["geo.plan.propose", "geo.merge.unify"]  # what the workers need, imported once

WATCH_S = 1.0  # how often a worker checks that the process that started it is alive

_THREADS = ThreadPoolExecutor(max_workers=CORES, thread_name_prefix="gridgov-plan")
_processes: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ProcessPoolExecutor:
    global _processes
    with _lock:
        if _processes is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _processes = ProcessPoolExecutor(max_workers=CORES, mp_context=context,
                                             initializer=_started, initargs=(os.getpid(),))
        return _processes


def _started(parent: int) -> None:
    """In a new worker: what it imported is kept out of the collector's full passes (they
    walked all of it whenever a piece made many objects), and it watches its parent."""
    gc.freeze()
    _watch(parent)


def _watch(parent: int) -> None:
    """In a worker: end when the process that started the pool is gone. A server stopped by
    a signal does not wait for its workers (uvicorn re-raises SIGTERM after its shutdown),
    and a worker forked by the forkserver is not the server's child: nothing else would end
    it."""

    def watch() -> None:
        while True:
            time.sleep(WATCH_S)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)

    threading.Thread(target=watch, name="gridgov-plan-watch", daemon=True).start()


def shutdown() -> None:
    """Stop the workers (the app's shutdown): they hold nothing worth waiting for."""
    global _processes
    with _lock:
        pool, _processes = _processes, None
    if pool is not None:
        pool.shutdown(wait=True)


def apart(work: Callable[..., R], calls: Sequence[tuple[Any, ...]],
          sizes: Sequence[float] | None = None) -> list[R]:
    """``work(*args)`` for every ``args`` of ``calls``, in the calls' order: in worker
    processes (``work`` a module-level function, the arguments picklable), inline for a
    single call or a single core. The largest calls by ``sizes`` (a guess at their work)
    are handed out first, so that no worker is left alone with a large one at the end."""
    if len(calls) <= 1 or CORES == 1:
        return [work(*args) for args in calls]
    order = sorted(range(len(calls)), key=lambda i: -sizes[i]) if sizes is not None \
        else list(range(len(calls)))
    pool = _pool()
    try:
        futures = {i: pool.submit(work, *calls[i]) for i in order}
        return [futures[i].result() for i in range(len(calls))]
    except BrokenProcessPool:  # a worker died (killed, out of memory): this edit goes on
        _discard(pool)         # here, the next one gets new workers
        return [work(*args) for args in calls]


def _discard(pool: ProcessPoolExecutor) -> None:
    global _processes
    with _lock:
        if _processes is pool:
            _processes = None
    pool.shutdown(wait=False, cancel_futures=True)


def warm() -> None:
    """Start the workers (the forkserver imports the planner): the first district edit then
    does not wait for them."""
    if CORES > 1:
        list(_pool().map(abs, range(CORES)))


def both(first: Callable[[], R], second: Callable[[], T]) -> tuple[R, T]:
    """``first()`` here and ``second()`` on a thread, side by side; one after the other when
    called from such a thread itself (waiting on it there could hold its last thread)."""
    if threading.current_thread().name.startswith("gridgov-plan"):
        return first(), second()
    later = _THREADS.submit(second)
    return first(), later.result()
