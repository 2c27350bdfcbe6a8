"""What an SLO evaluation produces: JSON-friendly figures for alerting, the gate and humans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tasks.slo.burn import AlertSignal

__all__ = ["RegionReport", "SloReport", "WindowBurn"]


@dataclass(frozen=True)
class WindowBurn:
    """The global burn over one trailing window.

    ``good``/``bad`` are in the SLO's budget unit (events, or time slices for Timeslices);
    ``events`` counts the underlying check results, which the ``min-events`` guard looks at.
    ``burn`` is None with status "insufficient-data" when ``events`` is below that guard.
    """

    window: str
    seconds: int
    events: int
    good: int
    bad: int
    burn: float | None
    status: Literal["ok", "insufficient-data"]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RegionReport:
    """One region's own figures (for display: alerts and the gate use the global series)."""

    region: str
    sli: float | None
    events: int
    good: int
    bad: int
    budget_remaining: float | None
    burn_rates: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "burn_rates": dict(self.burn_rates)}


@dataclass(frozen=True)
class SloReport:
    """One SLO objective evaluated at one instant.

    ``sli`` and the budget cover the SLO window: the last ``duration`` for rolling windows, the
    current period so far for calendar ones (whose budget is the whole period's). The budget is
    in ``budget_unit``: events (Occurrences; for calendar windows the period's events are
    projected from the rate so far) or time slices (Timeslices, also given in seconds in the
    ``*_time`` fields). ``budget_remaining`` is a share of the budget and goes negative when
    overspent. Everything is None when there was no data.
    """

    slo_id: str
    name: str
    service: str
    sli_kind: Literal["availability", "latency"]
    objective: float
    budgeting_method: str
    time_window: str
    window_start: datetime
    window_end: datetime
    evaluated_at: datetime
    sli: float | None
    met: bool | None
    events: int
    good: int
    bad: int
    budget_unit: Literal["events", "slices"]
    budget_total: float | None
    budget_spent: float
    budget_remaining: float | None
    budget_total_time: float | None
    budget_spent_time: float | None
    budget_remaining_time: float | None
    burn_rates: dict[str, WindowBurn]
    regions: list[RegionReport]
    alerts: list[AlertSignal]
    last_event_at: datetime | None
    min_events: int
    min_failing_regions: int
    # planned maintenance under way that holds this SLO's pages (one line per window)
    maintenance: tuple[str, ...] = ()

    @property
    def firing(self) -> list[AlertSignal]:
        """The alerts firing now, pages first."""
        return sorted((a for a in self.alerts if a.firing), key=lambda a: a.severity != "page")

    def alert(self, key: str) -> AlertSignal:
        """The alert signal with this key (``page:1h/5m``, ``no-data`` ...)."""
        for signal in self.alerts:
            if signal.key == key:
                return signal
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (datetimes as ISO 8601 strings)."""
        data: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
            else:
                data[name] = value
        data["burn_rates"] = {k: v.to_dict() for k, v in self.burn_rates.items()}
        data["regions"] = [r.to_dict() for r in self.regions]
        data["alerts"] = [a.to_dict() for a in self.alerts]
        data["maintenance"] = list(self.maintenance)
        return data
