"""Run the target's checks continuously during an experiment, and the safeguard that aborts it.

The monitor runs the experiment's checks every ``check_interval_seconds`` from the start of the
run to the end of its rollbacks, so hypotheses before and after have fresh data and the SLO sees
the fault while it is in place. Results are tagged with the run (``chaos_check_results``), or
written to ``check_results`` with the run in ``detail`` when the experiment counts them in SLOs.

While the method runs (``armed``), each round also evaluates the safeguard: the SLO's burn rate
over a trailing window, N consecutive failed runs of any check, and the run's maximum duration.
The first breach trips the run's abort switch (:meth:`RunContext.trip`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from tasks.chaos.activities.slo import burn_rate
from tasks.chaos.context import RunContext
from tasks.chaos.experiment import Safeguard
from tasks.chaos.records import record_check_results
from tasks.probes.catalog import AnyCheck
from tasks.probes.http import ProbeResult
from tasks.probes.runner import run_any_checks_sync
from tasks.slo.definition import SloDefinition

__all__ = ["Monitor"]

logger = logging.getLogger("traceo.chaos")


class Monitor:
    """Continuous checks plus the safeguard, on a daemon thread (see the module docstring)."""

    def __init__(
        self,
        context: RunContext,
        checks: Sequence[AnyCheck],
        *,
        interval: float,
        region: str,
        env: Mapping[str, str] | None = None,
        count_in_slo: bool = False,
        safeguard: Safeguard | None = None,
        slo: SloDefinition | None = None,
        check_services: Mapping[str, str] | None = None,
        on_trip: Callable[[str], None] | None = None,
    ) -> None:
        self.context = context
        self.checks = list(checks)
        self.interval = interval
        self.region = region
        self.env = dict(env or {})
        self.count_in_slo = count_in_slo
        self.safeguard = safeguard
        self.slo = slo
        self.check_services = dict(check_services or {})
        self.on_trip = on_trip
        self.armed = threading.Event()
        self.rounds = 0
        self.failures: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-monitor", daemon=True)

    def start(self) -> None:
        """Run one round now (the first hypothesis needs data), then every ``interval``."""
        if self.checks:
            self.run_round()
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_round()
            except Exception:  # the monitor must never take the run down with it
                logger.exception("Continuous checks round failed")

    def run_round(self) -> list[ProbeResult]:
        """Run every check once, record the results, update counters, evaluate the safeguard."""
        scheduled = datetime.now(UTC)
        results = run_any_checks_sync(self.checks, self.region, scheduled, env=self.env)
        self._record(results)
        self.rounds += 1
        for result in results:
            failed = result.verdict == "fail"
            self.failures[result.check_id] = (
                self.failures.get(result.check_id, 0) + 1 if failed else 0
            )
        if self.armed.is_set():
            reason = self.breach()
            if reason:
                self.context.trip(reason)
                if self.on_trip:
                    self.on_trip(reason)
        return results

    def _record(self, results: list[ProbeResult]) -> None:
        engine, run_id = self.context.engine, self.context.run_id
        if self.count_in_slo:
            from tasks.store.check_results import upsert_check_results

            tagged = [
                dataclasses.replace(r, detail={**r.detail, "chaos_run_id": run_id}) for r in results
            ]
            upsert_check_results(engine, tagged, flow_run_id=None)
        else:
            record_check_results(engine, run_id, results)

    def breach(self) -> str | None:
        """Why the run must abort now, or None."""
        context = self.context
        if context.elapsed() > context.max_duration_seconds:
            return f"max duration of {context.max_duration_seconds:g} s exceeded"
        guard = self.safeguard
        if guard is None:
            return None
        if guard.max_consecutive_failures is not None:
            for check_id, count in sorted(self.failures.items()):
                if count >= guard.max_consecutive_failures:
                    return f"check {check_id} failed {count} times in a row"
        if guard.max_burn_rate is not None and self.slo is not None:
            rate, events = burn_rate(
                context.engine,
                self.slo,
                self.check_services,
                guard.window_seconds,
                datetime.now(UTC),
                context.run_id,
            )
            if rate is not None and rate > guard.max_burn_rate:
                return (
                    f"SLO {self.slo.id} burns at {rate:.1f}x over the last "
                    f"{guard.window_seconds:g} s ({events} events; limit {guard.max_burn_rate:g}x)"
                )
        return None
