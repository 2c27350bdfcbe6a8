"""Remove every fault a run left in place, then verify it is gone: the one rollback path.

The ``remove_fault`` activity, the runner's safety net after Chaos Toolkit returns, and the
flow's cancellation / crash hooks all call :func:`rollback_run`; removal is idempotent, so
running it twice (a rollback, then a hook) is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from tasks.chaos.drivers.base import FaultDriver, Verification
from tasks.chaos.records import mark_removed, open_faults
from tasks.errors import TraceoError

__all__ = ["RolledBack", "drivers_from", "rollback_run"]

logger = logging.getLogger("traceo.chaos")


@dataclass(frozen=True)
class RolledBack:
    """One fault's rollback: what it was and what verification found."""

    driver: str
    target: str
    clean: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def rollback_run(
    engine: Engine,
    run_id: str,
    driver_for: Callable[[str], FaultDriver],
    target: str | None = None,
) -> list[RolledBack]:
    """Remove and verify every open fault of ``run_id`` (only ``target``'s when given).

    A failure to remove one fault is recorded as not clean and does not stop the others.
    """
    done: list[RolledBack] = []
    for fault in open_faults(engine, run_id):
        handle = fault.handle
        if target is not None and handle.target != target:
            continue
        try:
            driver = driver_for(handle.driver)
            driver.remove(handle)
            verification = driver.verify_removed(handle)
        except (TraceoError, OSError) as exc:
            verification = Verification(False, f"rollback failed: {exc}")
        mark_removed(engine, fault.id, verification)
        logger.info(
            "Rolled back %s fault on %s: %s", handle.driver, handle.target, verification.detail
        )
        done.append(
            RolledBack(handle.driver, handle.target, verification.clean, verification.detail)
        )
    return done


def drivers_from(config: Mapping[str, Any]) -> Callable[[str], FaultDriver]:
    """A cached ``driver name -> driver`` built from an experiment's configuration."""
    from tasks.chaos.drivers.registry import build_driver

    cache: dict[str, FaultDriver] = {}

    def get(name: str) -> FaultDriver:
        if name not in cache:
            cache[name] = build_driver(name, config)
        return cache[name]

    return get
