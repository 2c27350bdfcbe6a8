"""Starting fulfilment runs off the request path: a bounded queue drained by worker threads.

A stored request is handed to :meth:`FulfilmentQueue.submit`, which never waits: the request
handler answers at once, and a worker takes the ids queued so far (up to :data:`BATCH`) and calls
:func:`~deployments.intake.starter.start_fulfilments`.
While the Prefect API is slow or down, workers are busy and the queue fills; a full queue refuses
the hand-over (the intake answers 503 with ``Retry-After``) and the request, already stored as
``received``, is started by the sweep (:func:`~deployments.intake.starter.sweep_pending`). Requests
still queued when the intake stops are left to the sweep the same way.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from sqlalchemy import Engine

from deployments.intake.starter import DeploymentStarter, dsr_deployment, start_fulfilments

__all__ = ["BATCH", "DEFAULT_CAPACITY", "DEFAULT_WORKERS", "LINGER_S", "FulfilmentQueue"]

logger = logging.getLogger("traceo.intake")

# As many as the request writer may hold (deployments.intake.writer.DEFAULT_CAPACITY): a burst
# the writer accepted is not refused at the hand-over because the workers were held up for a
# moment (ids are ~40 bytes each; while the Prefect API is down the queue fills either way).
DEFAULT_CAPACITY = 1024
DEFAULT_WORKERS = 2
# Ids a worker takes at once: their starts are recorded in one store transaction, so a burst
# costs the store a few writes instead of one per request. A worker that wakes with less than a
# batch waiting gives others LINGER_S to join it (the intake's own writes use the same store).
BATCH = 32
LINGER_S = 0.02


class FulfilmentQueue:
    """Request ids waiting for their fulfilment run, started by ``workers`` daemon threads."""

    def __init__(
        self,
        engine: Engine,
        starter: DeploymentStarter,
        capacity: int = DEFAULT_CAPACITY,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self._engine = engine
        self._starter = starter
        self._deployment = dsr_deployment()  # once: reading the settings costs ~1 ms a start
        self._workers = workers
        self._queue: queue.Queue[str | None] = queue.Queue(capacity)
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the worker threads (the app's lifespan does, at start-up)."""
        self._stopping.clear()
        for index in range(self._workers):
            name = f"intake-fulfilment-{index}"
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def stop(self) -> None:
        """Let each worker finish its current start and exit; queued ids are left to the sweep."""
        self._stopping.set()
        for _ in range(self._workers):
            try:
                self._queue.put_nowait(None)  # wakes an idle worker
            except queue.Full:
                break  # every worker is busy and will see the stop flag after its start

    def submit(self, public_id: str) -> bool:
        """Queue ``public_id`` without waiting; False if the queue is full."""
        try:
            self._queue.put_nowait(public_id)
        except queue.Full:
            return False
        return True

    def join(self) -> None:
        """Wait until every queued id has been handled (tests and the demo use it)."""
        self._queue.join()

    def _take(self) -> list[str | None]:
        """The next id (waiting for it) and up to ``BATCH - 1`` more queued within LINGER_S."""
        taken = [self._queue.get()]
        if taken[0] is not None and self._queue.qsize() < BATCH - 1:
            # Sleeping (not waiting on the queue) spares each hand-over meanwhile a wake-up; a
            # worker that finds a full batch waiting takes it at once.
            time.sleep(LINGER_S)
        while len(taken) < BATCH and taken[-1] is not None:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return taken

    def _work(self) -> None:
        while not self._stopping.is_set():
            taken = self._take()
            ids = [public_id for public_id in taken if public_id is not None]
            try:
                if ids and not self._stopping.is_set():
                    start_fulfilments(self._engine, self._starter, ids, self._deployment)
            except Exception as exc:  # the store is down: the sweep retries; the worker lives on
                logger.warning(
                    "%d requests: fulfilment starts not recorded: %s",
                    len(ids),
                    exc.__class__.__name__,
                )
            finally:
                for _ in taken:
                    self._queue.task_done()
