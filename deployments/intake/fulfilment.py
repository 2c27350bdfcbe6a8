"""Starting fulfilment runs off the request path: a bounded queue drained by worker threads.

A stored request is handed to :meth:`FulfilmentQueue.submit`, which never waits: the request
handler answers at once, and a worker calls :func:`~deployments.intake.starter.start_fulfilment`.
While the Prefect API is slow or down, workers are busy and the queue fills; a full queue refuses
the hand-over (the intake answers 503 with ``Retry-After``) and the request, already stored as
``received``, is started by the sweep (:func:`~deployments.intake.starter.sweep_pending`). Requests
still queued when the intake stops are left to the sweep the same way.
"""

from __future__ import annotations

import logging
import queue
import threading

from sqlalchemy import Engine

from deployments.intake.starter import DeploymentStarter, start_fulfilment

__all__ = ["DEFAULT_CAPACITY", "DEFAULT_WORKERS", "FulfilmentQueue"]

logger = logging.getLogger("traceo.intake")

DEFAULT_CAPACITY = 256
DEFAULT_WORKERS = 2


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

    def _work(self) -> None:
        while not self._stopping.is_set():
            public_id = self._queue.get()
            try:
                if public_id is not None and not self._stopping.is_set():
                    start_fulfilment(self._engine, self._starter, public_id)
            except Exception as exc:  # the store is down: the sweep retries; the worker lives on
                logger.warning(
                    "request %s: fulfilment start not recorded: %s",
                    public_id,
                    exc.__class__.__name__,
                )
            finally:
                self._queue.task_done()
