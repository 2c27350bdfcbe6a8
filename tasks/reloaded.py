"""A value loaded from spec files, reloaded at most every ``ttl`` seconds, the last good kept.

For long-running readers such as ``traceo metrics serve``: a file that stops validating keeps
the previous value (and logs why) rather than dropping what dashboards and counters rely on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from tasks.errors import TraceoError

__all__ = ["Reloaded"]

T = TypeVar("T")
log = logging.getLogger("traceo.specs")


class Reloaded(Generic[T]):
    """``load()``'s value, reloaded when ``ttl`` seconds have passed since the last load.

    Args:
        load: reads the files; raises a :class:`~tasks.errors.TraceoError` when they are invalid.
        initial: the value until a first load succeeds.
        what: names the value in the warning logged when a reload fails.
        ttl: seconds between reloads.
    """

    def __init__(self, load: Callable[[], T], initial: T, what: str, ttl: float = 60.0) -> None:
        self.load, self.what, self.ttl = load, what, ttl
        self._value = initial
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            now = time.monotonic()
            if self._loaded_at is None or now - self._loaded_at >= self.ttl:
                self._loaded_at = now
                try:
                    self._value = self.load()
                except TraceoError as exc:
                    log.warning("Keeping the previous %s: %s", self.what, exc)
            return self._value
