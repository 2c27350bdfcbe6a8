"""Evaluate SLOs at an instant: SLI, error budget, burn rates, alert tiers, absent data.

Pure functions of (definitions, events, now). Alerts and the release gate use the GLOBAL series
(with the region quorum, see :mod:`tasks.slo.engine`); per-region figures are for display, so one
region's bad network path shows up on the dashboard without paging anyone unless the quorum says
the service itself is failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from tasks.slo.burn import AlertSignal, AlertTier, NoDataRule, budget_fraction_spent, exceeds
from tasks.slo.definition import SloDefinition
from tasks.slo.engine import BAD, EVENTS, UNITS, GridRow, RowCounts, window_counts
from tasks.slo.events import CheckResults, Events, indicator_checks, select_events
from tasks.slo.report import RegionReport, SloReport, WindowBurn
from tasks.slo.windows import CalendarWindow, format_seconds

if TYPE_CHECKING:
    from tasks.slo.maintenance import MaintenanceCalendar

__all__ = ["evaluate_results", "evaluate_slo", "evaluate_slos", "grid_row", "with_maintenance"]


def evaluate_slo(slo: SloDefinition, events: Events, now: datetime) -> SloReport:
    """Evaluate one SLO objective at ``now`` (a timezone-aware datetime)."""
    return evaluate_slos([slo], [events], now)[0]


def evaluate_slos(
    slos: Sequence[SloDefinition], events: Sequence[Events], now: datetime
) -> list[SloReport]:
    """Evaluate many SLO objectives at once, vectorised; ``events[i]`` feeds ``slos[i]``.

    Raises:
        ValueError: ``now`` is naive, or the sequences differ in length.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if len(slos) != len(events):
        raise ValueError("give one Events per SLO")
    t = int(now.timestamp())
    plans = [_Plan(slo, t) for slo in slos]
    counts = window_counts([p.grid for p in plans], events, t)
    return [_report(slo, plan, c, t) for slo, plan, c in zip(slos, plans, counts, strict=True)]


def evaluate_results(
    slos: Sequence[SloDefinition],
    results: CheckResults,
    now: datetime,
    check_services: Mapping[str, str] | None = None,
    maintenance: MaintenanceCalendar | None = None,
) -> list[SloReport]:
    """Select each SLO's events from raw check results, then evaluate them all.

    With ``maintenance``, failures inside a window are not events, and each report lists the
    windows holding its SLO at ``now`` (see :mod:`tasks.slo.maintenance`).
    """
    events = [select_events(s.indicator, results, check_services, maintenance) for s in slos]
    reports = evaluate_slos(slos, events, now)
    return with_maintenance(slos, reports, now, check_services, maintenance)


def with_maintenance(
    slos: Sequence[SloDefinition],
    reports: list[SloReport],
    now: datetime,
    check_services: Mapping[str, str] | None,
    maintenance: MaintenanceCalendar | None,
) -> list[SloReport]:
    """Each report with the maintenance windows holding its SLO at ``now`` (unchanged without)."""
    if not maintenance:
        return reports
    return [
        dataclasses.replace(
            report,
            maintenance=tuple(
                w.describe()
                for w in maintenance.holding(
                    slo.service, indicator_checks(slo.indicator, check_services), now
                )
            ),
        )
        for slo, report in zip(slos, reports, strict=True)
    ]


class _Plan:
    """Where an SLO's windows fall on its grid at one instant."""

    def __init__(self, slo: SloDefinition, now: int) -> None:
        slot = slo.slot_seconds
        self.start, self.end = slo.window.period(now)
        self.period = self.end - self.start
        phase = self.start % slot if isinstance(slo.window, CalendarWindow) else 0
        if isinstance(slo.window, CalendarWindow):
            self.sli_slots = (now - phase) // slot - (self.start - phase) // slot + 1
        else:
            self.sli_slots = _slots(self.period, slot)
        windows = {s for tier in slo.tiers for s in (tier.long_seconds, tier.short_seconds)}
        self.windows = sorted(windows)
        self.window_slots = {s: _slots(s, slot) for s in self.windows}
        lengths = tuple(sorted({self.sli_slots, *self.window_slots.values()}))
        self.grid = GridRow(
            slot=slot,
            phase=phase,
            lengths=lengths,
            timeslices=slo.budgeting_method == "Timeslices",
            time_slice_target=slo.time_slice_target or 0.0,
            min_failing_regions=slo.min_failing_regions,
        )


def grid_row(slo: SloDefinition, now: int) -> GridRow:
    """The grid ``slo`` is counted on at ``now`` (epoch seconds): its slot, phase and windows."""
    return _Plan(slo, now).grid


def _slots(seconds: int, slot: int) -> int:
    return max(1, -(-seconds // slot))


def _report(slo: SloDefinition, plan: _Plan, counts: RowCounts, now: int) -> SloReport:
    eb = slo.error_budget
    events, units, bad = counts.window(plan.sli_slots)
    timeslices = slo.budgeting_method == "Timeslices"
    budget = _budget(slo, plan, units, bad, now)

    burns: dict[int, WindowBurn] = {}
    for seconds in plan.windows:
        w_events, w_units, w_bad = counts.window(plan.window_slots[seconds])
        enough = w_events >= slo.min_events and w_units > 0
        burns[seconds] = WindowBurn(
            window=format_seconds(seconds),
            seconds=seconds,
            events=w_events,
            good=w_units - w_bad,
            bad=w_bad,
            burn=(w_bad / w_units) / eb if enough else None,
            status="ok" if enough else "insufficient-data",
        )
    alerts = [_tier_signal(tier, burns, plan.period, slo.min_events) for tier in slo.tiers]
    if slo.no_data is not None:
        alerts.append(_no_data_signal(slo.no_data, counts.last_ts, now))

    regions = []
    for r, name in enumerate(counts.regions):
        col = counts.regional[r]
        j = counts.lengths.index(plan.sli_slots)
        r_units, r_bad = int(col[UNITS, j]), int(col[BAD, j])
        rates: dict[str, float | None] = {}
        for seconds in plan.windows:
            k = counts.lengths.index(plan.window_slots[seconds])
            ok = col[EVENTS, k] >= slo.min_events and col[UNITS, k] > 0
            rates[format_seconds(seconds)] = float(col[BAD, k] / col[UNITS, k] / eb) if ok else None
        regions.append(
            RegionReport(
                region=name,
                sli=(r_units - r_bad) / r_units if r_units else None,
                events=int(col[EVENTS, j]),
                good=r_units - r_bad,
                bad=r_bad,
                budget_remaining=_budget(slo, plan, r_units, r_bad, now)[2],
                burn_rates=rates,
            )
        )

    sli = (units - bad) / units if units else None
    return SloReport(
        slo_id=slo.id,
        name=slo.name or slo.id,
        service=slo.service,
        sli_kind=slo.indicator.kind,
        objective=slo.target,
        budgeting_method=slo.budgeting_method,
        time_window=slo.window.label,
        window_start=_dt(
            plan.start if isinstance(slo.window, CalendarWindow) else now - plan.period
        ),
        window_end=_dt(plan.end),
        evaluated_at=_dt(now),
        sli=sli,
        met=None if sli is None else sli >= slo.target,
        events=events,
        good=units - bad,
        bad=bad,
        budget_unit="slices" if timeslices else "events",
        budget_total=budget[0],
        budget_spent=float(bad),
        budget_remaining=budget[2],
        budget_total_time=eb * plan.period if timeslices else None,
        budget_spent_time=float(bad * slo.slot_seconds) if timeslices else None,
        budget_remaining_time=eb * plan.period - bad * slo.slot_seconds if timeslices else None,
        burn_rates={b.window: b for b in burns.values()},
        regions=regions,
        alerts=alerts,
        last_event_at=None if counts.last_ts is None else _dt(counts.last_ts),
        min_events=slo.min_events,
        min_failing_regions=slo.min_failing_regions,
    )


def _budget(
    slo: SloDefinition, plan: _Plan, units: int, bad: int, now: int
) -> tuple[float | None, float, float | None]:
    """Return (budget total, spent, remaining share) in the SLO's budget unit."""
    eb = slo.error_budget
    if slo.budgeting_method == "Timeslices":
        total: float | None = eb * plan.period / slo.slot_seconds
    elif not units:
        total = None
    elif isinstance(slo.window, CalendarWindow):
        # The period's events are not all in yet; probes run at a steady cadence, so project.
        elapsed = max(now - plan.start, 1)
        total = eb * units * plan.period / elapsed
    else:
        total = eb * units
    remaining = 1.0 - bad / total if total is not None and units else None
    return total, float(bad), remaining


def _tier_signal(
    tier: AlertTier, burns: dict[int, WindowBurn], period: int, min_events: int
) -> AlertSignal:
    long, short = burns[tier.long_seconds], burns[tier.short_seconds]
    threshold = tier.threshold_for(period)
    head = f"{tier.severity} {long.window}/{short.window}"
    starved = [w for w in (long, short) if w.burn is None]
    status: Literal["ok", "firing", "insufficient-data"]
    if starved:
        firing, status = False, "insufficient-data"
        detail = ", ".join(f"{w.events} events over {w.window}" for w in starved)
        summary = f"{head}: insufficient data ({detail}; {min_events} needed)"
    else:
        assert long.burn is not None and short.burn is not None
        firing = exceeds(long.burn, tier.op, threshold) and exceeds(short.burn, tier.op, threshold)
        status = "firing" if firing else "ok"
        share = budget_fraction_spent(long.burn, long.seconds, period)
        summary = (
            f"{head} {'FIRING' if firing else 'ok'}: burn {long.burn:.1f}x over {long.window} "
            f"and {short.burn:.1f}x over {short.window} (threshold {threshold:.3g}x; "
            f"{share:.1%} of the {format_seconds(period)} budget spent in {long.window})"
        )
    return AlertSignal(
        key=tier.key,
        severity=tier.severity,
        firing=firing,
        long_window=long.window,
        short_window=short.window,
        burn_long=long.burn,
        burn_short=short.burn,
        threshold=threshold,
        summary=summary,
        status=status,
        targets=tier.targets,
        notify_resolved=tier.notify_resolved,
        policy=tier.policy,
    )


def _no_data_signal(rule: NoDataRule, last_ts: int | None, now: int) -> AlertSignal:
    after = format_seconds(rule.after_seconds)
    if last_ts is None:
        firing, summary = True, f"no-data FIRING: no results at all (alert after {after})"
    else:
        silence = now - last_ts
        firing = silence >= rule.after_seconds
        state = "FIRING: no results for" if firing else "ok: last result"
        summary = f"no-data {state} {format_seconds(silence)}{'' if firing else ' ago'}"
        summary += f" (alert after {after})"
    return AlertSignal(
        key="no-data",
        severity=rule.severity,
        firing=firing,
        long_window=after,
        short_window=None,
        burn_long=None,
        burn_short=None,
        threshold=None,
        summary=summary,
        status="firing" if firing else "ok",
        targets=rule.targets,
        notify_resolved=rule.notify_resolved,
    )


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
