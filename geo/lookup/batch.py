"""Concurrent lookups answered together.

A request hands its point to the ``Batcher`` and waits. The first point of a batch schedules
the batch with ``call_soon``: it runs once the event loop has started every request that is
ready in the same turn, so under load (many connections) one pass of shapely calls serves
them all, while a lone request waits no longer than one turn of the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Point = tuple[float, float]
Run = Callable[[Sequence[Point]], Awaitable[Sequence[Any]]]


class Batcher:
    def __init__(self, run: Run, max_size: int = 8) -> None:
        self.run = run
        self.max_size = max_size
        self._pending: list[tuple[Point, asyncio.Future[Any]]] = []
        self._running: set[asyncio.Future[None]] = set()

    async def __call__(self, lon: float, lat: float) -> Any:
        """The answer for one point; an exception the run returned for it is raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append(((lon, lat), future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        elif len(self._pending) >= self.max_size:
            self._flush()
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.ensure_future(self._answer(batch))
            self._running.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._running.discard)

    async def _answer(self, batch: list[tuple[Point, asyncio.Future[Any]]]) -> None:
        try:
            answers = await self.run([point for point, _ in batch])
        except Exception as exc:  # the whole batch failed (e.g. the database is down)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if future.done():  # the client went away
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
