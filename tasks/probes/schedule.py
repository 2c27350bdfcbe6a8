"""Which checks are due in a probe run, and the slot each result belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol, TypeVar

__all__ = ["due_checks", "slot_start"]


class _Scheduled(Protocol):
    @property
    def frequency(self) -> int: ...
    @property
    def regions(self) -> Sequence[str]: ...


def slot_start(at: datetime, frequency_seconds: int) -> datetime:
    """The start of the ``frequency_seconds`` slot containing ``at`` (UTC, epoch-aligned)."""
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % max(1, frequency_seconds), tz=UTC)


C = TypeVar("C", bound=_Scheduled)


def due_checks(checks: Iterable[C], region: str, at: datetime, tick_seconds: int = 60) -> list[C]:
    """Checks of ``region`` whose slot starts in the run tick containing ``at``.

    A run every ``tick_seconds`` runs a 5-minute check once in five runs, so a rerun of the same
    scheduled run touches exactly the same (check, region, slot) keys.
    """
    tick = slot_start(at, tick_seconds)
    return [
        c
        for c in checks
        if region in c.regions and slot_start(tick, max(c.frequency, tick_seconds)) == tick
    ]
