"""Group commit: the intake stores requests in batches, each request waiting for its own commit.

Request handlers hand a validated request to :meth:`RequestWriter.store` and wait. One task on
the event loop takes every request waiting (up to :data:`BATCH`) and stores them in one
transaction (:func:`~tasks.privacy.requests.store_requests`) on its own thread; each handler
gets its result once that transaction has committed, so nothing is acknowledged before it is
stored. Under load, requests arriving while a commit is under way share the next one, which
also waits :data:`LINGER_S` for more: the store sees one commit per batch instead of one per
request.

At most :data:`DEFAULT_CAPACITY` requests wait; past that :meth:`RequestWriter.store` raises
:class:`WriterBusyError` at once (the intake answers 503 with ``Retry-After``; nothing stored).
A batch the store refuses for one request's value (a ``DataError``) is stored again request by
request, so that request fails alone; when the store is unreachable every request of the batch
gets its error.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from tasks.errors import TransientError
from tasks.privacy.requests import CreatedRequest, PendingRequest, store_requests

__all__ = ["BATCH", "DEFAULT_CAPACITY", "LINGER_S", "RequestWriter", "WriterBusyError"]

logger = logging.getLogger("traceo.intake")

BATCH = 64  # requests per transaction at most
DEFAULT_CAPACITY = 1024  # requests waiting to be stored at most
# Under load (the previous batch held more than one request), a batch that finds less than a
# full batch waiting waits this long for more before it is written: each commit, and each trip
# between the event loop and the writer's thread, then serves more requests. A lone request
# (nothing else in flight) is written at once.
LINGER_S = 0.001

_Waiting = tuple[PendingRequest, "asyncio.Future[CreatedRequest]"]


class WriterBusyError(TransientError):
    """Too many requests are waiting to be stored (answered 503; nothing was stored)."""


class RequestWriter:
    """Stores the requests handed to :meth:`store` in batches, on one thread of its own."""

    def __init__(self, engine: Engine, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:  # asyncio.Queue(0) would be unbounded
            raise ValueError(f"the writer's capacity must be at least 1, not {capacity}")
        self._engine = engine
        self._capacity = capacity
        self._queue: asyncio.Queue[_Waiting] | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="intake-writer")

    def start(self) -> None:
        """Start the writing task on the running loop (the app's lifespan does)."""
        self._queue = asyncio.Queue(self._capacity)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="intake-writer")

    async def stop(self) -> None:
        """Store what is waiting, then stop."""
        if self._queue is not None and self._task is not None:
            await self._queue.join()
            self._task.cancel()
        self._thread.shutdown(wait=True)

    async def store(self, pending: PendingRequest) -> CreatedRequest:
        """Store ``pending``; returns once its transaction has committed.

        Raises:
            WriterBusyError: too many requests are waiting (nothing stored).
            ReplayedDeliveryError: its delivery was accepted before (nothing stored).
            DBAPIError: the store failed (nothing stored).
        """
        if self._queue is None:
            raise RuntimeError("the request writer is not started")
        done: asyncio.Future[CreatedRequest] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((pending, done))
        except asyncio.QueueFull:
            raise WriterBusyError("too many requests waiting to be stored") from None
        return await done

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        previous = 0
        while True:
            batch = [await self._queue.get()]
            if previous > 1 and self._queue.qsize() < BATCH - 1:
                await asyncio.sleep(LINGER_S)  # under load: let more requests share the commit
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                outcomes = await loop.run_in_executor(self._thread, self._write, batch)
                for (_, done), outcome in zip(batch, outcomes, strict=True):
                    if done.done():  # the handler went away (client disconnected)
                        continue
                    if isinstance(outcome, BaseException):
                        done.set_exception(outcome)
                    else:
                        done.set_result(outcome)
            finally:
                previous = len(batch)
                for _ in batch:
                    self._queue.task_done()

    def _write(self, batch: list[_Waiting]) -> list[CreatedRequest | BaseException]:
        """Each request's outcome (its stored request or its error), in order."""
        try:
            return list(store_requests(self._engine, [pending for pending, _ in batch]))
        except OperationalError as exc:  # the store is unreachable: every request fails
            return [exc] * len(batch)
        except DBAPIError as exc:
            if len(batch) == 1:
                return [exc]
            return [outcome for one in batch for outcome in self._write([one])]
        except Exception as exc:  # the writer must outlive anything a batch raises
            logger.error("storing %d requests failed: %s", len(batch), exc.__class__.__name__)
            return [exc] * len(batch)
