"""Cumulative per-SLO counts of closed slots: what Prometheus needs to evaluate SLOs as Traceo does.

Traceo judges a slot whole: a Timeslices slice is bad on its good ratio, and a region quorum
(``traceo.dev/global-min-failing-regions``) needs every region's results of the slot. So the
counts are advanced one closed slot at a time, through the same engine the SLO flow uses, and a
counter at instant ``t`` holds every slot that ended at or before ``t``:

- ``events``: results the SLI counted;
- ``units``: what the budget is counted in (events for Occurrences, slices with data for
  Timeslices);
- ``bad``: bad units after the region quorum.

A burn rate over a window is then ``increase(bad) / increase(units) / (1 - objective)`` and the
low-traffic guard is ``increase(events) >= min-events``: the rules of :mod:`tasks.slo.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tasks.slo.definition import SloDefinition
from tasks.slo.engine import GridRow, window_counts
from tasks.slo.events import Events
from tasks.slo.windows import CalendarWindow

__all__ = ["SLO_METRICS", "SloCounters", "SlotCounts", "grid_floor", "slot_counts"]

# What the exporter calls each count (Prometheus appends ``_total``), and its help text.
SLO_METRICS = {
    "events": ("traceo_slo_events", "Results the SLI counted, in closed slots"),
    "units": ("traceo_slo_units", "Units the error budget is counted in (events or slices)"),
    "bad": ("traceo_slo_bad_units", "Bad units, after the region quorum"),
}


@dataclass(frozen=True)
class SlotCounts:
    """Events, budget units and bad units of a run of slots."""

    events: int = 0
    units: int = 0
    bad: int = 0

    def __add__(self, other: SlotCounts) -> SlotCounts:
        return SlotCounts(
            self.events + other.events, self.units + other.units, self.bad + other.bad
        )


def grid_floor(slo: SloDefinition, t: int) -> int:
    """The latest slot boundary of ``slo``'s grid at or before ``t`` (epoch seconds)."""
    slot = slo.slot_seconds
    phase = slo.window.period(t)[0] % slot if isinstance(slo.window, CalendarWindow) else 0
    return phase + (t - phase) // slot * slot


def slot_counts(slo: SloDefinition, events: Events, start: int, end: int) -> SlotCounts:
    """Count the slots in ``[start, end)`` (both boundaries of ``slo``'s grid) as Traceo does."""
    slot = slo.slot_seconds
    n_slots = (end - start) // slot
    if n_slots <= 0:
        return SlotCounts()
    row = GridRow(
        slot=slot,
        phase=start % slot,
        lengths=(n_slots,),
        timeslices=slo.budgeting_method == "Timeslices",
        time_slice_target=slo.time_slice_target or 0.0,
        min_failing_regions=slo.min_failing_regions,
    )
    counts = window_counts([row], [events], end - 1)[0]
    return SlotCounts(*counts.window(n_slots))


class SloCounters:
    """Running totals per SLO, each advanced slot by slot from ``start`` as slots close.

    Totals start at zero (Prometheus counters may start anywhere; ``increase`` only looks at
    what changed). A result stored after its slot was counted is not counted.
    """

    def __init__(self, slos: Sequence[SloDefinition], start: int) -> None:
        self.slos = list(slos)
        self.cursor = {slo.id: grid_floor(slo, start) for slo in self.slos}
        self.totals = {slo.id: SlotCounts() for slo in self.slos}

    def pending(self, now: int) -> tuple[int, int] | None:
        """The span ``[start, end)`` of results that :meth:`advance` at ``now`` will count."""
        spans = [
            (self.cursor[s.id], grid_floor(s, now))
            for s in self.slos
            if grid_floor(s, now) > self.cursor[s.id]
        ]
        if not spans:
            return None
        return min(a for a, _ in spans), max(b for _, b in spans)

    def advance(self, events: Mapping[str, Events], now: int) -> None:
        """Count the slots closed by ``now``; ``events[slo.id]`` must span :meth:`pending`."""
        for slo in self.slos:
            end = grid_floor(slo, now)
            start = self.cursor[slo.id]
            if end <= start:
                continue
            counted = slot_counts(slo, events.get(slo.id, Events.empty()), start, end)
            self.totals[slo.id] = self.totals[slo.id] + counted
            self.cursor[slo.id] = end
