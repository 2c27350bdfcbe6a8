"""Fault actions for experiment files: inject through a driver, hold, remove and verify.

Each injected fault's handle is written to the store before ``inject_fault`` returns, so a
rollback (this run's, or a cancellation hook's) always finds it. These actions only work inside
a Traceo run (``traceo chaos run`` or the ``run_experiment`` flow), which provides the store,
the drivers and the allowlist.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tasks.chaos.context import RunContext, current
from tasks.chaos.experiment import target_allowed
from tasks.chaos.records import record_fault
from tasks.chaos.rollback import rollback_run

__all__ = ["hold", "inject_fault", "remove_fault"]


def _context(configuration: Mapping[str, Any] | None) -> RunContext:
    from chaoslib.exceptions import ActivityFailed

    context = current(configuration)
    if context is None:
        raise ActivityFailed("fault actions run only inside a Traceo chaos run (traceo chaos run)")
    return context


def inject_fault(
    driver: str, fault: dict[str, Any], configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Inject ``fault`` with the named driver (``proxy``, ``process``, ``chaos-mesh``).

    Returns:
        The fault handle as JSON (it is also in the store, tagged with the run).
    """
    from chaoslib.exceptions import ActivityFailed

    context = _context(configuration)
    target = str(fault.get("target"))
    for patterns in context.allowlists:
        if not target_allowed(driver, target, patterns):
            raise ActivityFailed(f"target {driver}:{target} is not on the allowlist")
    if context.abort.is_set():
        raise ActivityFailed(f"not injecting: the run is aborting ({context.abort_reason})")
    handle = context.driver(driver).inject(fault)
    record_fault(context.engine, context.run_id, handle)
    return handle.to_json()


def hold(seconds: float, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keep the fault in place for ``seconds``, returning early when the safeguard aborts."""
    context = _context(configuration)
    started = time.monotonic()
    budget = max(0.0, context.max_duration_seconds - context.elapsed())
    aborted = context.abort.wait(timeout=min(float(seconds), budget))
    if not aborted and float(seconds) > budget:
        context.trip(f"max duration of {context.max_duration_seconds:g} s reached")
        aborted = True
    return {
        "held_seconds": round(time.monotonic() - started, 3),
        "aborted": aborted,
        "reason": context.abort_reason if aborted else None,
    }


def remove_fault(
    target: str | None = None, configuration: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Remove every fault this run injected (only ``target``'s when given) and verify each.

    Raises:
        ActivityFailed: a fault could not be removed or is still observable afterwards.
    """
    from chaoslib.exceptions import ActivityFailed

    context = _context(configuration)
    done = rollback_run(context.engine, context.run_id, context.driver, target)
    dirty = [r for r in done if not r.clean]
    if dirty:
        raise ActivityFailed("; ".join(f"{r.driver}:{r.target}: {r.detail}" for r in dirty))
    return [r.to_json() for r in done]
