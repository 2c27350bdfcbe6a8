"""Execute one validated experiment with chaostoolkit-lib, with Traceo's guarantees around it.

Around Chaos Toolkit's own run (hypothesis before, method, hypothesis after, rollbacks):

- a pre-flight refuses to start when the SLO already burns faster than the limit;
- the run, and every injected fault's handle, are in the store before anything else happens;
- the :class:`~tasks.chaos.monitor.Monitor` runs the checks continuously and arms the safeguard
  during the method; a breach marks the journal ``aborted`` and ends the ``hold``;
- whatever happens (success, deviation, abort, an exception, a cancellation signal), a
  ``finally`` removes every fault still recorded as open and verifies it is gone.

Chaos Toolkit's signal handlers are not installed (they need the main thread and would swallow
Prefect's cancellation); Prefect's SIGTERM bridge interrupts the run and the ``finally`` rolls
back.
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from tasks.chaos.context import RUN_ID_KEY, RunContext, register, unregister
from tasks.chaos.experiment import ChaosSettings, LoadedExperiment, resolve_configuration
from tasks.chaos.monitor import Monitor
from tasks.chaos.records import create_run, finish_run, run_faults
from tasks.chaos.rollback import rollback_run
from tasks.chaos.score import probe_success, verdict
from tasks.errors import NotFoundError, PermanentError
from tasks.settings import load

__all__ = ["ChaosRefusedError", "RunOutcome", "execute", "preflight"]

logger = logging.getLogger("traceo.chaos")


class ChaosRefusedError(PermanentError):
    """The experiment must not start now (the SLO is already burning too fast)."""


@dataclass
class RunOutcome:
    """The result of one run, as stored (``journal`` is Chaos Toolkit's, trimmed)."""

    run_id: str
    title: str
    service: str
    status: str
    deviated: bool
    verdict: str
    reason: str
    probe_success: float | None
    faults: list[dict[str, Any]] = field(default_factory=list)
    journal: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """Every injected fault was removed and verified gone."""
        return all(f["verified_clean"] for f in self.faults)

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "title": self.title,
            "service": self.service,
            "status": self.status,
            "deviated": self.deviated,
            "verdict": self.verdict,
            "reason": self.reason,
            "faults": len(self.faults),
            "clean": self.clean,
        }


@dataclass
class _Targets:
    """What the run reads: its checks, the SLOs named by the pre-flight and the safeguard."""

    checks: list[Any]
    services: dict[str, str]
    slos: dict[str, Any]


def _targets(loaded: LoadedExperiment, config: dict[str, Any]) -> _Targets:
    from tasks.probes.loader import load_checks
    from tasks.settings import get_settings
    from tasks.slo.loader import load_slos

    settings = get_settings()
    checks = load_checks([config.get("checks_path") or settings.checks_path])
    by_id = {c.id: c for c in checks}
    missing = [c for c in loaded.traceo.checks if c not in by_id]
    if missing:
        raise NotFoundError(f"{loaded.path}: extensions.traceo.checks: unknown {missing}")
    ext = loaded.traceo
    names = {x.slo for x in (ext.preflight, ext.safeguard) if x is not None and x.slo}
    slos = {}
    if names:
        known = {s.id: s for s in load_slos([config.get("slos_path") or settings.slos_path])}
        for name in names:
            if name not in known:
                raise NotFoundError(f"{loaded.path}: extensions.traceo: SLO {name!r} not found")
            slos[name] = known[name]
    return _Targets([by_id[c] for c in ext.checks], {c.id: c.service for c in checks}, slos)


def preflight(loaded: LoadedExperiment, engine: Engine, targets: _Targets) -> float | None:
    """Burn rate of the pre-flight SLO now; raises when it is over the limit.

    Raises:
        ChaosRefusedError: the SLO already burns faster than ``preflight.max_burn_rate``.
    """
    from tasks.chaos.activities.slo import burn_rate

    rule = loaded.traceo.preflight
    if rule is None:
        return None
    rate, events = burn_rate(
        engine, targets.slos[rule.slo], targets.services, rule.window_seconds, datetime.now(UTC)
    )
    if rate is not None and rate > rule.max_burn_rate:
        raise ChaosRefusedError(
            f"{loaded.path}: refusing to start: SLO {rule.slo} already burns at {rate:.1f}x over "
            f"the last {rule.window_seconds:g} s ({events} events; limit {rule.max_burn_rate:g}x)"
        )
    return rate


def _run_chaostoolkit(experiment: dict[str, Any], loaded: LoadedExperiment, handler: Any) -> Any:
    from chaoslib.caching import cache_activities, clear_cache
    from chaoslib.run import Runner
    from chaoslib.types import Schedule, Strategy

    class _Runner(Runner):  # type: ignore[misc]
        """Chaos Toolkit's runner without its signal handlers (see the module docstring)."""

        def run(self, experiment: Any, settings: Any = None, *_: Any) -> Any:
            self.configure(experiment, settings, None)
            registry = self.event_registry
            config, secrets = self.config, self.secrets
            return self._run(
                self.strategy,
                self.schedule,
                experiment,
                None,
                config,
                secrets,
                self.settings,
                registry,
            )

    runtime = loaded.traceo.hypothesis
    strategy = Strategy(runtime.strategy)  # the values are Chaos Toolkit's strategy names
    schedule = Schedule(runtime.frequency_seconds, fail_fast=runtime.fail_fast)
    settings = {"runtime": {"rollbacks": {"strategy": loaded.traceo.rollback_strategy}}}
    cache_activities(experiment)
    try:
        with _Runner(strategy, schedule) as runner:
            runner.register_event_handler(handler)
            return runner.run(experiment, settings)
    finally:
        clear_cache()


def _handler(context: RunContext, monitor_ref: list[Monitor], fail_fast: bool) -> Any:
    from chaoslib.run import RunEventHandler

    class Handler(RunEventHandler):  # type: ignore[misc]
        """Arms the safeguard during the method; marks the journal when it trips."""

        journal: dict[str, Any] | None = None

        def started(self, experiment: Any, journal: Any) -> None:
            self.journal = journal

        def start_method(self, experiment: Any) -> None:
            monitor_ref[0].armed.set()

        def method_completed(self, experiment: Any, state: Any = None) -> None:
            monitor_ref[0].armed.clear()

        def continuous_hypothesis_iteration(self, iteration_index: int, state: Any) -> None:
            if fail_fast and state is not None and not state.get("steady_state_met"):
                context.trip("the steady state deviated during the method")
                self.abort(context.abort_reason or "")

        def abort(self, reason: str) -> None:
            if self.journal is not None and self.journal.get("status") is None:
                self.journal["status"] = "aborted"
            logger.warning("Aborting the experiment: %s", reason)

    return Handler()


def _plain(value: Any) -> Any:
    """JSON-safe copy (datetimes and odd outputs as strings)."""
    return json.loads(json.dumps(value, default=str))


def _activities(runs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    keep = ("status", "start", "end", "duration", "output", "exception")
    out = []
    for run in runs or []:
        activity = run.get("activity") or {}
        entry: dict[str, Any] = {"name": activity.get("name"), "type": activity.get("type")}
        entry.update({k: run.get(k) for k in keep if k in run})
        trace = entry.get("exception")
        if isinstance(trace, list):  # keep the last line of the traceback, not the stack
            entry["exception"] = "".join(str(t) for t in trace).strip().splitlines()[-1:]
        out.append(entry)
    return _plain(out)


def execute(
    loaded: LoadedExperiment,
    engine: Engine | None = None,
    flow_run_id: str | None = None,
    run_id: str | None = None,
) -> RunOutcome:
    """Run the experiment end to end and store its journal; always rolls back."""
    from chaoslib import substitute

    from tasks.store import get_engine

    engine = engine or get_engine()
    ext = loaded.traceo
    settings = load(ChaosSettings)
    config, secrets = resolve_configuration(loaded.document)
    driver_config = {**config, **{k: v for s in secrets.values() for k, v in s.items()}}
    targets = _targets(loaded, config)
    preflight(loaded, engine, targets)
    run_id = run_id or str(uuid.uuid4())
    context = RunContext(
        run_id,
        engine,
        ext.service,
        driver_config,
        allowlists=[settings.allowlist, ext.allowed_targets],
        max_duration_seconds=min(ext.max_duration_seconds, settings.max_duration_seconds),
    )
    monitor_ref: list[Monitor] = []
    handler = _handler(context, monitor_ref, ext.hypothesis.fail_fast)
    guard = ext.safeguard
    monitor = Monitor(
        context,
        targets.checks,
        interval=ext.check_interval_seconds,
        region=ext.region,
        env=substitute(dict(ext.check_env), config, secrets),
        count_in_slo=ext.count_in_slo,
        safeguard=guard,
        slo=targets.slos.get(guard.slo) if guard and guard.slo else None,
        check_services=targets.services,
        on_trip=handler.abort,
    )
    monitor_ref.append(monitor)
    experiment = copy.deepcopy(loaded.document)
    experiment["configuration"] = {**(experiment.get("configuration") or {}), RUN_ID_KEY: run_id}
    journal: dict[str, Any] | None = None
    interrupted: BaseException | None = None
    create_run(engine, run_id, loaded.title, str(loaded.path), ext.service, ext.weight, flow_run_id)
    register(context)
    try:
        monitor.start()
        journal = _run_chaostoolkit(experiment, loaded, handler)
    except BaseException as exc:  # cancellation signals too: roll back, record, re-raise
        interrupted = exc
        raise
    finally:
        monitor.stop()
        safety_net = rollback_run(engine, run_id, context.driver)
        unregister(run_id)
        journal = journal or handler.journal or {"steady_states": {}, "run": [], "rollbacks": []}
        if interrupted is not None:
            journal["status"] = "interrupted"
        outcome = _finish(engine, loaded, run_id, journal, context, safety_net)
    return outcome


def _finish(
    engine: Engine,
    loaded: LoadedExperiment,
    run_id: str,
    journal: dict[str, Any],
    context: RunContext,
    safety_net: list[Any],
) -> RunOutcome:
    status = journal.get("status") or "interrupted"
    judged, reason = verdict(journal, context.abort_reason)
    success = probe_success(journal, tripped=context.abort_reason is not None)
    steady = _plain(journal.get("steady_states") or {})
    activities = {
        "run": _activities(journal.get("run")),
        "rollbacks": _activities(journal.get("rollbacks")),
        "safety_net": [r.to_json() for r in safety_net],
    }
    deviated = bool(journal.get("deviated"))
    finish_run(
        engine,
        run_id,
        status=status,
        deviated=deviated,
        verdict=judged,
        reason=reason,
        steady_states=steady,
        activities=activities,
        probe_success=success,
    )
    return RunOutcome(
        run_id,
        loaded.title,
        loaded.traceo.service,
        status,
        deviated,
        judged,
        reason,
        success,
        run_faults(engine, run_id),
        {"steady_states": steady, **activities},
    )
