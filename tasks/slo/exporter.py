"""Per-SLO counters for ``traceo metrics serve``: what the rules of ``traceo slo rules`` read.

Every series is labelled ``slo`` (the objective's id) and ``service``:

- ``traceo_slo_events_total``: results the SLI counted, in closed slots;
- ``traceo_slo_units_total``: budget units (events, or slices with data for Timeslices);
- ``traceo_slo_bad_units_total``: bad units after the region quorum.

A slot is counted once it has ended and ``grace`` more seconds have passed, so results stored a
little after their run are in; each scrape reads only the results of newly closed slots.
Simulated rows (the demo's backfill) are left out, as in the probe metrics. Failures inside a
maintenance window are left out as Traceo's own evaluation leaves them out (they spend no
budget), so the rules of ``traceo slo rules`` page when Traceo pages and not during planned work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tasks.errors import TraceoError
from tasks.slo.counters import SLO_METRICS, SloCounters
from tasks.slo.definition import SloDefinition
from tasks.slo.events import CheckResults, select_events
from tasks.slo.maintenance import MaintenanceCalendar
from tasks.store.check_results import fetch_results

__all__ = ["DEFAULT_GRACE", "SloCollector"]

DEFAULT_GRACE = 60
log = logging.getLogger("traceo.metrics")


class SloCollector(Collector):
    """Counts each SLO's closed slots from the store at each scrape.

    Args:
        engine: the store.
        slos: the SLO objectives to count (those whose SLI reads Prometheus are left out).
        services: check id -> service, for SLIs that select checks by service.
        grace: seconds to wait after a slot ends before counting it.
        clock: epoch seconds now (tests pass a fake).
        maintenance: the maintenance windows in effect (or a function returning them, read at
            each scrape that counts slots).
    """

    def __init__(
        self,
        engine: Engine,
        slos: Sequence[SloDefinition],
        services: Mapping[str, str] | Callable[[], Mapping[str, str]],
        grace: int = DEFAULT_GRACE,
        clock: Callable[[], float] = time.time,
        maintenance: MaintenanceCalendar | Callable[[], MaintenanceCalendar] | None = None,
    ) -> None:
        # An SLI read from Prometheus is already there: its events are not in the store.
        on_store = [slo for slo in slos if slo.indicator.prometheus is None]
        self.engine, self.slos, self.services = engine, on_store, services
        self.maintenance = maintenance
        self.grace, self.clock = grace, clock
        self.counters = SloCounters(self.slos, int(clock()) - grace)
        self._lock = threading.Lock()  # scrapes may overlap; each slot must count once

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            try:
                self._advance(int(self.clock()) - self.grace)
            except (TraceoError, SQLAlchemyError) as exc:
                # The totals stay where they were; the next scrape counts the missed slots.
                log.warning("Cannot count SLO events: %s", type(exc).__name__)
            totals = dict(self.counters.totals)
        families = {
            part: CounterMetricFamily(name, help_text, labels=["slo", "service"])
            for part, (name, help_text) in SLO_METRICS.items()
        }
        for slo in self.slos:
            counts = totals[slo.id]
            labels = [slo.id, slo.service]
            families["events"].add_metric(labels, counts.events)
            families["units"].add_metric(labels, counts.units)
            families["bad"].add_metric(labels, counts.bad)
        yield from families.values()

    def _advance(self, now: int) -> None:
        span = self.counters.pending(now)
        if span is None:
            return
        services = self.services() if callable(self.services) else self.services
        columns = fetch_results(
            self.engine,
            None,
            datetime.fromtimestamp(span[0], UTC),
            datetime.fromtimestamp(span[1], UTC),
        )
        real = ~columns.simulated
        results = CheckResults(
            columns.check_id[real],
            columns.region[real],
            columns.started_at[real],
            columns.verdict[real],
            columns.duration_ms[real],
        )
        calendar = self.maintenance() if callable(self.maintenance) else self.maintenance
        events = {
            slo.id: select_events(slo.indicator, results, services, calendar) for slo in self.slos
        }
        self.counters.advance(events, now)
