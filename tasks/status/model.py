"""What a status page shows, as plain data, and how a service's state follows from its verdicts.

States and the page indicator follow Atlassian Statuspage's public summary
(``components[].status``, ``status.indicator``), so tools reading one can read the other; a
service without recent results is ``unknown`` rather than quietly operational.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

__all__ = [
    "STATE_LABELS",
    "DayBar",
    "Incident",
    "ScheduledMaintenance",
    "ServiceStatus",
    "State",
    "StatusPage",
    "service_state",
]

State = Literal[
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
    "unknown",
]
STATE_LABELS: dict[str, str] = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
    "unknown": "No recent data",
}
# worst first: the page's headline is its worst service
_SEVERITY = (
    "major_outage",
    "partial_outage",
    "degraded_performance",
    "under_maintenance",
    "unknown",
    "operational",
)
_INDICATOR = {
    "major_outage": ("major", "Major outage"),
    "partial_outage": ("minor", "Partial outage"),
    "degraded_performance": ("minor", "Degraded performance"),
    "under_maintenance": ("maintenance", "Maintenance in progress"),
    "unknown": ("none", "Some services have no recent data"),
    "operational": ("none", "All systems operational"),
}


def service_state(latest: Iterable[str], in_maintenance: bool) -> State:
    """A service's state from the latest verdict of each of its (check, region) pairs.

    Probe errors say nothing about the service and are left out. Every pair failing is a major
    outage, some failing a partial one; degraded answers without failures are degraded
    performance. A maintenance window under way wins: failures then are planned.
    """
    if in_maintenance:
        return "under_maintenance"
    verdicts = [v for v in latest if v != "error"]
    if not verdicts:
        return "unknown"
    failing = sum(v == "fail" for v in verdicts)
    if failing == len(verdicts):
        return "major_outage"
    if failing:
        return "partial_outage"
    if "degraded" in verdicts:
        return "degraded_performance"
    return "operational"


@dataclass(frozen=True)
class DayBar:
    """One UTC day of a service's SLI: good and counted events, and whether maintenance ran."""

    day: date
    good: int
    total: int
    maintenance: bool = False

    @property
    def availability(self) -> float | None:
        return self.good / self.total if self.total else None


@dataclass(frozen=True)
class ServiceStatus:
    group: str
    name: str
    description: str | None
    state: State
    objective: float
    days: tuple[DayBar, ...]

    @property
    def uptime(self) -> float | None:
        """The availability over all the days shown (None: no data at all)."""
        total = sum(d.total for d in self.days)
        return sum(d.good for d in self.days) / total if total else None


@dataclass(frozen=True)
class Incident:
    """A page alert firing on a public service."""

    service: str
    kind: Literal["availability", "latency"]
    started_at: datetime

    @property
    def title(self) -> str:
        problem = "Elevated error rate" if self.kind == "availability" else "Slow responses"
        return f"{problem} on {self.service}"


@dataclass(frozen=True)
class ScheduledMaintenance:
    title: str
    services: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    active: bool


@dataclass(frozen=True)
class StatusPage:
    title: str
    generated_at: datetime
    services: tuple[ServiceStatus, ...]
    incidents: tuple[Incident, ...]
    maintenance: tuple[ScheduledMaintenance, ...]

    @property
    def headline(self) -> tuple[State, str]:
        """The state the page leads with (its worst service's) and its description.

        A page alert firing while every probe passes still reads as an incident under way.
        """
        states = {s.state for s in self.services} or {"operational"}
        worst: State = next(s for s in _SEVERITY if s in states)  # type: ignore[assignment]
        if self.incidents and worst in ("operational", "unknown"):
            return "degraded_performance", "Investigating an incident"
        return worst, _INDICATOR[worst][1]

    @property
    def indicator(self) -> str:
        """Statuspage's ``status.indicator``: none, minor, major or maintenance."""
        return _INDICATOR[self.headline[0]][0]

    def groups(self) -> list[tuple[str, list[ServiceStatus]]]:
        order = list(dict.fromkeys(s.group for s in self.services))
        return [(g, [s for s in self.services if s.group == g]) for g in order]

    def to_json(self) -> dict[str, Any]:
        """The page as Statuspage-like JSON (times ISO 8601 UTC, shares 0-1)."""
        return {
            "page": {"name": self.title, "updated_at": self.generated_at.isoformat()},
            "status": {"indicator": self.indicator, "description": self.headline[1]},
            "components": [_service_json(s) for s in self.services],
            "incidents": [
                {
                    "name": i.title,
                    "impact": "major",
                    "components": [i.service],
                    "started_at": i.started_at.isoformat(),
                }
                for i in self.incidents
            ],
            "scheduled_maintenances": [
                {
                    "name": m.title,
                    "components": list(m.services),
                    "scheduled_for": m.starts_at.isoformat(),
                    "scheduled_until": m.ends_at.isoformat(),
                    "status": "in_progress" if m.active else "scheduled",
                }
                for m in self.maintenance
            ],
        }


def _service_json(service: ServiceStatus) -> dict[str, Any]:
    return {
        "name": service.name,
        "group": service.group,
        "description": service.description,
        "status": service.state,
        "objective": service.objective,
        "uptime": service.uptime,
        "days": [_day_json(d) for d in service.days],
    }


def _day_json(day: DayBar) -> dict[str, Any]:
    return {
        "date": day.day.isoformat(),
        "availability": day.availability,
        "events": day.total,
        "maintenance": day.maintenance,
    }
