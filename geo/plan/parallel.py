"""Independent pieces of a plan edit (one per community) worked on side by side: shapely
releases the GIL inside GEOS, so threads share the cores without the cost of processes
(pickling every geometry). One pool for the process, as many threads as cores."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POOL = ThreadPoolExecutor(max_workers=max(os.cpu_count() or 1, 1),
                           thread_name_prefix="gridgov-plan")


def each(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``work`` of every item, in the items' order (inline for a single item)."""
    if len(items) <= 1:
        return [work(i) for i in items]
    return list(_POOL.map(work, items))


def both(first: Callable[[], R], second: Callable[[], T]) -> tuple[R, T]:
    """``first()`` here and ``second()`` on the pool, side by side; one after the other when
    called from the pool itself (waiting on it there could hold its last thread)."""
    if threading.current_thread().name.startswith("gridgov-plan"):
        return first(), second()
    later = _POOL.submit(second)
    return first(), later.result()
