"""The running experiment as the activities see it.

Chaos Toolkit calls activities as plain functions with the experiment's configuration; the
runner puts ``traceo_run_id`` into that configuration, and :func:`current` finds the run's
context from it: the store, the drivers, the allowlist and the abort switch the safeguard flips.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from tasks.chaos.drivers.base import FaultDriver

__all__ = ["RUN_ID_KEY", "RunContext", "current", "register", "unregister"]

RUN_ID_KEY = "traceo_run_id"


@dataclass
class RunContext:
    """What one experiment run shares between the runner, the monitor and the activities."""

    run_id: str
    engine: Engine
    service: str
    driver_config: Mapping[str, Any]
    allowlists: list[list[str] | None] = field(default_factory=list)
    max_duration_seconds: float = 300.0
    started: float = field(default_factory=time.monotonic)
    abort: threading.Event = field(default_factory=threading.Event)
    abort_reason: str | None = None
    _drivers: dict[str, FaultDriver] = field(default_factory=dict)

    def driver(self, name: str) -> FaultDriver:
        """The run's driver called ``name``, built from the configuration on first use."""
        from tasks.chaos.drivers.registry import build_driver

        if name not in self._drivers:
            self._drivers[name] = build_driver(name, self.driver_config)
        return self._drivers[name]

    def trip(self, reason: str) -> None:
        """Abort the method: the first reason wins; holds return early."""
        if not self.abort.is_set():
            self.abort_reason = reason
            self.abort.set()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


_RUNS: dict[str, RunContext] = {}
_LOCK = threading.Lock()


def register(context: RunContext) -> None:
    with _LOCK:
        _RUNS[context.run_id] = context


def unregister(run_id: str) -> None:
    with _LOCK:
        _RUNS.pop(run_id, None)


def current(configuration: Mapping[str, Any] | None) -> RunContext | None:
    """The context of the run whose configuration this is (None outside a Traceo run)."""
    run_id = (configuration or {}).get(RUN_ID_KEY)
    with _LOCK:
        return _RUNS.get(str(run_id)) if run_id else None
