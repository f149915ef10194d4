"""Micro-batching for ``rnntag serve``: requests that arrive together are tagged together.

One asyncio task runs the batches, one at a time, in one worker thread, off the event loop,
so the server keeps answering (health checks, other requests' bodies) while it computes.
Items that arrive during a batch wait in the queue and form the next one (up to
``max_size`` tokens), which starts as soon as the last one ends: under load batches grow by
themselves and throughput approaches offline tagging. When the batcher was idle, the first
item of a burst waits at most ``wait`` seconds (5 ms by default) for the others; an item
alone waits that much more than it would unbatched.

``run(items)`` returns one result per item, or an exception in its place; when it raises,
each item is run again alone, so that one bad item fails only its own request. Items whose
caller went away (cancelled) before their batch started are dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class BatchStats:
    """What the batcher has done so far (``GET /healthz`` reports it)."""

    items: int = 0
    batches: int = 0
    largest: int = 0  # items in the largest batch
    failures: int = 0  # items that ended in an exception

    def add(self, items: int) -> None:
        self.items += items
        self.batches += 1
        self.largest = max(self.largest, items)


class Batcher(Generic[T]):
    """Gathers items submitted from the event loop into batches for ``run``, one batch at a
    time in one thread. ``size(item)`` is the item's share of ``max_size``. Start it with
    ``start()`` inside the running loop and stop it with ``await stop()``."""

    def __init__(self, run: Callable[[Sequence[T]], Sequence[Any]], size: Callable[[T], int], *,
                 wait: float = 0.005, max_size: int = 10_000):
        self.run = run
        self.size = size
        self.wait = wait
        self.max_size = max_size
        self.stats = BatchStats()
        self._queue: asyncio.Queue[tuple[T, asyncio.Future]] | None = None
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._carried: tuple[T, asyncio.Future] | None = None  # taken from the queue, for the next batch

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="rnntag-tagging")
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="rnntag-batcher")

    async def stop(self) -> None:
        """Stop after the batch in progress; items still queued get a RuntimeError."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        pending = [self._carried] if self._carried else []
        while self._queue is not None and not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for _, future in pending:
            if not future.done():
                future.set_exception(RuntimeError("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    @property
    def queued(self) -> int:
        return (self._queue.qsize() if self._queue is not None else 0) + (self._carried is not None)

    async def submit(self, item: T) -> Any:
        """The item's result, once its batch has run (or its exception, raised)."""
        if self._queue is None or self._task is None or self._task.done():
            raise RuntimeError("the batcher is not running")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _next(self, timeout: float | None) -> tuple[T, asyncio.Future] | None:
        assert self._queue is not None
        if self._carried is not None:
            entry, self._carried = self._carried, None
            return entry
        if timeout is None:
            return await self._queue.get()
        if not self._queue.empty():
            return self._queue.get_nowait()
        if timeout <= 0:
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return None

    async def _gather(self) -> list[tuple[T, asyncio.Future]]:
        loop = asyncio.get_running_loop()
        busy = self._carried is not None or not self._queue.empty()  # they arrived during the last batch
        first = await self._next(None)
        assert first is not None
        batch = [first]
        total = self.size(first[0])
        # idle until now: wait a little for the rest of a burst; busy: take what is queued and go
        deadline = loop.time() + (0.0 if busy else self.wait)
        while total < self.max_size:
            entry = await self._next(deadline - loop.time())
            if entry is None:
                break
            size = self.size(entry[0])
            if total + size > self.max_size:
                self._carried = entry  # it starts the next batch
                break
            batch.append(entry)
            total += size
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [(item, future) for item, future in await self._gather() if not future.done()]
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(self._executor, self._run_isolated, [item for item, _ in batch])
            except Exception as err:  # the executor itself failed: fail this batch, keep serving
                results = [err] * len(batch)
            self.stats.add(len(batch))
            for (_, future), result in zip(batch, results):
                if future.done():  # the caller went away meanwhile
                    continue
                if isinstance(result, BaseException):
                    self.stats.failures += 1
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _run_isolated(self, items: list[T]) -> list[Any]:
        """In the worker thread: the batch's results; if it fails, each item alone."""
        try:
            results = list(self.run(items))
            if len(results) != len(items):
                raise RuntimeError(f"batch function gave {len(results)} results for {len(items)} items")
            return results
        except Exception as err:
            if len(items) == 1:
                return [err]
        out: list[Any] = []
        for item in items:
            try:
                out.extend(self.run([item]))
            except Exception as err:
                out.append(err)
        return out
