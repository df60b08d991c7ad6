"""Concurrent lookups answered together.

The first request of a batch leads it: it opens the batch, yields the event loop once (so
every request that is ready in the same turn of the loop can join), closes it and answers
all of its points with one pass of shapely calls, then hands each follower its answer. Under
load (many connections) one pass serves up to ``max_size`` requests; a lone request pays one
turn of the loop and no task, future or callback of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Point = tuple[float, float]
Run = Callable[[Sequence[Point]], Awaitable[Sequence[Any]]]
Member = tuple[Point, "asyncio.Future[Any] | None"]  # the leader has no future


class Batcher:
    def __init__(self, run: Run, max_size: int = 16) -> None:
        self.run = run
        self.max_size = max_size
        self._open: list[Member] | None = None  # the batch still taking members
        self._orphans: set[asyncio.Task[None]] = set()

    async def __call__(self, lon: float, lat: float) -> Any:
        """The answer for one point; an exception the run returned for it is raised."""
        batch = self._open
        if batch is not None:
            future = asyncio.get_running_loop().create_future()
            batch.append(((lon, lat), future))
            if len(batch) >= self.max_size:
                self._open = None
            return await future
        batch = self._open = [((lon, lat), None)]
        try:
            await asyncio.sleep(0)
        except BaseException:  # the leader was cancelled: its followers are still owed
            self._close(batch)
            self._orphan(batch[1:])
            raise
        self._close(batch)
        return await self._lead(batch)

    def _close(self, batch: list[Member]) -> None:
        if self._open is batch:
            self._open = None

    async def _lead(self, batch: list[Member]) -> Any:
        try:
            answers = await self.run([point for point, _ in batch])
        except asyncio.CancelledError:
            self._orphan(batch[1:])
            raise
        except Exception as exc:  # the whole batch failed (e.g. the database is down)
            _settle(batch[1:], [exc] * (len(batch) - 1))
            raise
        _settle(batch[1:], answers[1:])
        if isinstance(answers[0], Exception):
            raise answers[0]
        return answers[0]

    def _orphan(self, followers: list[Member]) -> None:
        """Answer followers whose leader went away, in a task of their own."""
        if followers:
            task = asyncio.ensure_future(self._answer(followers))
            self._orphans.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._orphans.discard)

    async def _answer(self, followers: list[Member]) -> None:
        try:
            answers: Sequence[Any] = await self.run([point for point, _ in followers])
        except Exception as exc:
            answers = [exc] * len(followers)
        _settle(followers, answers)


def _settle(followers: list[Member], answers: Sequence[Any]) -> None:
    for (_, future), answer in zip(followers, answers, strict=True):
        assert future is not None
        if future.done():  # the client went away
            continue
        if isinstance(answer, Exception):
            future.set_exception(answer)
        else:
            future.set_result(answer)
