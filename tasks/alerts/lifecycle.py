"""The pure alert state machine: what to send given what was sent before and what is true now."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["AlertAction", "AlertMemory", "decide"]


class AlertAction(StrEnum):
    FIRE = "fire"
    REMIND = "remind"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class AlertMemory:
    """What the store remembers of one alert between evaluations."""

    firing: bool = False
    fired_at: datetime | None = None
    last_notified_at: datetime | None = None
    resolved_at: datetime | None = None


def decide(
    memory: AlertMemory, firing: bool, now: datetime, remind_every: timedelta
) -> tuple[AlertAction | None, AlertMemory]:
    """Return the notification to send (if any) and the memory to keep if it is delivered.

    A firing alert whose first notice was never delivered (``last_notified_at`` older than
    ``fired_at``, or unset) fires again rather than reminding, so a failed delivery is retried.
    """
    if firing and not memory.firing:
        return AlertAction.FIRE, AlertMemory(True, now, now, None)
    if firing:
        undelivered = memory.last_notified_at is None or (
            memory.fired_at is not None and memory.last_notified_at < memory.fired_at
        )
        if undelivered:
            return AlertAction.FIRE, replace(memory, last_notified_at=now)
        if now - memory.last_notified_at >= remind_every:  # type: ignore[operator]
            return AlertAction.REMIND, replace(memory, last_notified_at=now)
        return None, memory
    if memory.firing:
        return AlertAction.RESOLVE, replace(
            memory, firing=False, resolved_at=now, last_notified_at=now
        )
    return None, memory
