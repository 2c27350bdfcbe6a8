"""Build a :class:`~tasks.status.model.StatusPage` from the store: rollups, alert states, windows.

- Current state: the latest verdict of each (check, region) from the minute rollups of the last
  few runs (a pair silent for three of its check's periods, and at least five minutes, has no
  current verdict).
- Daily bars: the availability SLI's good and counted verdicts per check and UTC day, summed
  by the database over day rollups (hours and minutes for today). A day a maintenance window
  touched is counted again from the raw results, without the failures inside the window,
  exactly as the SLO job counts them, while those results are kept (the figures must add up to
  the rollups'); after raw retention the day keeps its rollup figures.
- Incidents: page alerts of the service's SLOs whose alert state is firing.
- Maintenance: windows under way or starting within :data:`MAINTENANCE_AHEAD` that cover a
  public service's checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, select

from tasks.probes.catalog import AnyCheck
from tasks.slo.events import CheckResults, select_events
from tasks.slo.maintenance import MaintenanceCalendar
from tasks.status.model import (
    DayBar,
    Incident,
    ScheduledMaintenance,
    ServiceStatus,
    StatusPage,
    service_state,
)
from tasks.status.spec import PublicService, StatusPageSpec
from tasks.store import AlertState
from tasks.store.check_results import fetch_results
from tasks.store.rollup_cells import VERDICT_COLUMNS
from tasks.store.rollup_reads import (
    DailySums,
    RollupSums,
    covering_plan,
    read_daily_sums,
    read_rollup_sums,
)
from tasks.store.rollups import DAY, MINUTE, RESOLUTIONS

__all__ = ["DAYS", "MAINTENANCE_AHEAD", "collect_page"]

DAYS = 90
MAINTENANCE_AHEAD = timedelta(days=30)
_STALE_PERIODS = 3
_MIN_STALE_SECONDS = 300


def collect_page(
    engine: Engine,
    spec: StatusPageSpec,
    checks: Sequence[AnyCheck],
    calendar: MaintenanceCalendar,
    now: datetime,
    days: int = DAYS,
) -> StatusPage:
    """The page of ``spec`` at ``now`` (timezone-aware), with ``days`` daily bars."""
    check_frequency = {c.id: c.frequency for c in checks}
    check_services = {c.id: c.service for c in checks}
    t = int(now.timestamp())
    minute = t - t % MINUTE
    today = t - t % DAY
    first_day = today - (days - 1) * DAY
    state_checks = {c for s in spec.services for c in s.checks}
    bar_checks = {c for s in spec.services for c in s.bar_checks}
    freshest = min(t - _staleness(check_frequency.get(c, 60)) for c in state_checks or {""})
    with engine.connect() as conn:
        recent = read_rollup_sums(
            conn,
            state_checks,
            {MINUTE: [(freshest - freshest % MINUTE, minute + MINUTE)]},
            [0],
        )
        daily = read_daily_sums(
            conn, bar_checks, covering_plan([first_day, minute + MINUTE], RESOLUTIONS), first_day
        )
        firing = conn.execute(
            select(AlertState.slo_id, AlertState.fired_at).where(
                AlertState.firing.is_(True), AlertState.severity == "page"
            )
        ).all()
    latest = _latest_verdicts(recent, check_frequency, t)
    active = _active_checks(calendar, t)
    services = []
    per_day = _Days(daily, days)
    for service in spec.services:
        bars = per_day.bars(service, first_day)
        if calendar:
            bars = _with_maintenance(engine, bars, service, check_services, calendar, first_day, t)
        state = service_state(
            [v for (check, _), v in latest.items() if check in service.checks],
            bool(active & set(service.checks)),
        )
        target = service.availability.target
        services.append(
            ServiceStatus(service.group, service.name, service.description, state, target, bars)
        )
    incidents = [
        Incident(s.name, s.alerting[slo_id], fired_at or now)  # type: ignore[arg-type]
        for slo_id, fired_at in firing
        for s in spec.services
        if slo_id in s.alerting
    ]
    incidents.sort(key=lambda i: i.started_at, reverse=True)
    return StatusPage(
        spec.title,
        now,
        tuple(services),
        tuple(incidents),
        tuple(_maintenance(spec, calendar, now)),
    )


def _staleness(frequency: int) -> int:
    return max(_STALE_PERIODS * frequency, _MIN_STALE_SECONDS)


def _latest_verdicts(
    sums: RollupSums, check_frequency: Mapping[str, int], now: int
) -> dict[tuple[str, str], str]:
    """(check, region) -> the verdict of its latest result, for pairs heard from recently."""
    out = {}
    for check, region, last in zip(sums.check_id, sums.region, sums.last, strict=True):
        newest = int(last.max())
        if newest >= now - _staleness(check_frequency.get(check, 60)):
            out[(str(check), str(region))] = VERDICT_COLUMNS[int(last.argmax())]
    return out


class _Days:
    """Daily verdict sums, indexed by check."""

    def __init__(self, sums: DailySums, days: int) -> None:
        self.sums = sums
        self.days = days
        order = np.argsort(sums.check_id, kind="stable")
        checks, starts = np.unique(sums.check_id[order], return_index=True)
        ends = [*starts[1:], len(order)][: len(starts)]  # no row at all: no check
        self.by_check = {str(c): order[a:b] for c, a, b in zip(checks, starts, ends, strict=True)}

    def bars(self, service: PublicService, first_day: int) -> tuple[DayBar, ...]:
        indicator = service.availability.indicator
        counted = np.isin(VERDICT_COLUMNS, indicator.total_verdicts)
        good = counted & np.isin(VERDICT_COLUMNS, indicator.good_verdicts)
        empty = np.empty(0, np.int64)
        idx = np.concatenate([self.by_check.get(c, empty) for c in service.bar_checks] or [empty])
        day, counts = self.sums.day[idx], self.sums.counts[idx]
        totals = np.bincount(day, weights=counts[:, counted].sum(axis=1), minlength=self.days)
        goods = np.bincount(day, weights=counts[:, good].sum(axis=1), minlength=self.days)
        return tuple(
            DayBar(_date(first_day + k * DAY), int(goods[k]), int(totals[k]))
            for k in range(self.days)
        )


def _with_maintenance(
    engine: Engine,
    bars: tuple[DayBar, ...],
    service: PublicService,
    check_services: Mapping[str, str],
    calendar: MaintenanceCalendar,
    first_day: int,
    now: int,
) -> tuple[DayBar, ...]:
    """Days a window touched, counted from raw results without the failures inside it."""
    out = list(bars)
    checks = service.bar_checks
    if not calendar.touches(checks, first_day, now + 1):
        return bars
    indicator = service.availability.indicator
    for k, bar in enumerate(bars):
        lo = first_day + k * DAY
        if not calendar.touches(checks, lo, min(lo + DAY, now + 1)):
            continue
        raw = fetch_results(
            engine,
            list(checks),
            datetime.fromtimestamp(lo, UTC),
            datetime.fromtimestamp(min(lo + DAY, now + 1), UTC),
        )
        results = CheckResults(
            raw.check_id, raw.region, raw.started_at, raw.verdict, raw.duration_ms
        )
        every = select_events(indicator, results, check_services)
        if len(every) != bar.total:  # raw results past retention: keep the rollup figures
            out[k] = DayBar(bar.day, bar.good, bar.total, maintenance=True)
            continue
        kept = select_events(indicator, results, check_services, calendar)
        out[k] = DayBar(bar.day, int(kept.good.sum()), len(kept), maintenance=True)
    return tuple(out)


def _active_checks(calendar: MaintenanceCalendar, now: int) -> set[str]:
    covered: set[str] = set()
    for window in calendar.windows:
        if len(window.occurrences(now, now + 1)[0]):
            covered |= calendar.checks_of(window)
    return covered


def _maintenance(
    spec: StatusPageSpec, calendar: MaintenanceCalendar, now: datetime
) -> list[ScheduledMaintenance]:
    t = int(now.timestamp())
    horizon = int((now + MAINTENANCE_AHEAD).timestamp())
    out = []
    for window in calendar.windows:
        covered = calendar.checks_of(window)
        names = tuple(
            s.name for s in spec.services if covered & (set(s.checks) | set(s.bar_checks))
        )
        if not names:
            continue
        title = spec.maintenance_notes.get(window.id, "Scheduled maintenance")
        starts, ends = window.occurrences(t, horizon)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            out.append(ScheduledMaintenance(title, names, _utc(start), _utc(end), start <= t < end))
    out.sort(key=lambda m: m.starts_at)
    return out


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _date(epoch: int) -> date:
    return _utc(epoch).date()
