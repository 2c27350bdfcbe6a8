"""Fetch a source's next chunk on a thread while the caller writes the current one.

Reading, validating and writing cost are Arrow and DuckDB kernels, which release the GIL: with
the source one chunk ahead, two cores work at once. Memory stays bounded by the chunks in flight
(the one being written, ``depth`` queued, one being fetched).
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["ReadAhead"]

T = TypeVar("T")
_END = object()


class ReadAhead(Generic[T]):
    """``items``, fetched ``depth`` ahead on a thread: ``with ReadAhead(items) as ahead: ...``.

    An error the source raises is raised where its item would have come, after the items
    before it. Leaving the block (done or not) stops the thread once it finishes the item in
    hand, so the source is never used after the block.
    """

    def __init__(self, items: Iterable[T], depth: int = 1) -> None:
        self._items = items
        self._queue: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(depth)
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the caller's (Prefect's run context, settings)
        self._thread = threading.Thread(
            target=context.run, args=(self._produce,), name="cost-read-ahead", daemon=True
        )

    def __enter__(self) -> ReadAhead[T]:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock its put, then let it see the stop
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)

    def __iter__(self) -> Iterator[T]:
        while True:
            item, error = self._queue.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item  # type: ignore[misc]

    def _produce(self) -> None:
        try:
            for item in self._items:
                self._queue.put((item, None))
                if self._stop.is_set():
                    return
            self._queue.put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._queue.put((None, exc))
