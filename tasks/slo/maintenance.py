"""Which check results fall in a maintenance window, and which windows hold an SLO right now.

During a window checks still run and are recorded; the SLO engine drops the window's *failures*
from its bad events (planned work does not spend the error budget; passing results still count),
and the SLO job routes no page while a window holds the SLO (see ``tasks.slo.tasks``).
A window holds an SLO when it names the SLO's service, or when windows cover every check the SLO
counts; a window on one check of many only keeps that check's failures off the budget.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from tasks.slo.maintenance_spec import MaintenanceWindow

__all__ = ["ActiveWindow", "MaintenanceCalendar"]


@dataclass(frozen=True)
class ActiveWindow:
    """A window occurrence under way at some instant."""

    id: str
    target: str
    reason: str
    ends_at: datetime

    def describe(self) -> str:
        return (
            f"maintenance window {self.id!r} ({self.target}) active until "
            f"{self.ends_at:%Y-%m-%d %H:%M} UTC: {self.reason}"
        )


class MaintenanceCalendar:
    """Maintenance windows resolved to the checks they cover."""

    def __init__(
        self, windows: Sequence[MaintenanceWindow], check_services: Mapping[str, str]
    ) -> None:
        self.windows = tuple(windows)
        self._checks = {
            w.id: (
                {c for c, s in check_services.items() if s == w.service}
                if w.service is not None
                else {w.check or ""}
            )
            for w in self.windows
        }

    def __bool__(self) -> bool:
        return bool(self.windows)

    def checks_of(self, window: MaintenanceWindow) -> frozenset[str]:
        """The checks ``window`` covers (every check of its service, or its one check)."""
        return frozenset(self._checks[window.id])

    def covered(
        self, check_ids: npt.NDArray[np.object_], ts: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.bool_]:
        """Per result: does a window of its check hold at its time (epoch seconds)?"""
        inside = np.zeros(len(ts), dtype=np.bool_)
        if not len(ts) or not self.windows:
            return inside
        lo, hi = int(ts.min()), int(ts.max()) + 1
        for window in self.windows:
            starts, ends = window.occurrences(lo, hi)
            mine = np.isin(check_ids, np.asarray(sorted(self._checks[window.id]), dtype=object))
            if not len(starts) or not mine.any():
                continue
            at = ts[mine]
            pos = np.searchsorted(starts, at, side="right") - 1
            hit = (pos >= 0) & (at < ends[np.maximum(pos, 0)])
            inside[np.flatnonzero(mine)[hit]] = True
        return inside

    def touches(self, checks: Collection[str], lo: int, hi: int) -> bool:
        """Does a window covering one of ``checks`` occur between ``lo`` and ``hi`` (epoch s)?"""
        wanted = set(checks)
        for window in self.windows:
            if self._checks[window.id] & wanted and len(window.occurrences(lo, hi)[0]):
                return True
        return False

    def _active(self, at: int) -> list[tuple[MaintenanceWindow, int]]:
        out = []
        for window in self.windows:
            starts, ends = window.occurrences(at, at + 1)
            if len(starts):
                out.append((window, int(ends.max())))
        return out

    def holding(self, service: str, checks: Collection[str], at: datetime) -> list[ActiveWindow]:
        """The windows under way at ``at`` that hold an SLO of ``service`` counting ``checks``."""
        active = self._active(int(at.timestamp()))
        covered = set().union(*(self._checks[w.id] for w, _ in active)) if active else set()
        whole = bool(checks) and set(checks) <= covered
        return [
            ActiveWindow(
                w.id,
                f"{w.target[0]} {w.target[1]}",
                w.reason,
                datetime.fromtimestamp(end, UTC),
            )
            for w, end in active
            if w.service == service or (whole and w.check in checks)
        ]
