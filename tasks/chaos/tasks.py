"""Prefect tasks and flow hooks of the chaos job: thin wrappers over the runner and the store.

The hooks (:func:`rollback_after_cancellation`, :func:`rollback_after_crash`) are the last line
of the rollback guarantee: when a flow run is cancelled or crashes they read the faults still
recorded as open for that flow run's experiments, remove them and verify they are gone.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from tasks.chaos.experiment import LoadedExperiment, load_experiment
from tasks.chaos.runner import RunOutcome, execute

__all__ = [
    "publish_chaos_report",
    "publish_plan",
    "rollback_after_cancellation",
    "rollback_after_crash",
    "rollback_flow_run",
    "run_chaos_experiment",
    "validate_experiment",
]


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("traceo.chaos")


@task(name="validate-experiment", cache_policy=NO_CACHE)
def validate_experiment(experiment_path: str) -> LoadedExperiment:
    """Load and validate the experiment file (schema, chaostoolkit-lib, safety limits)."""
    loaded = load_experiment(experiment_path)
    _logger().info("Experiment %r is valid (%s)", loaded.title, experiment_path)
    return loaded


@task(name="publish-plan", cache_policy=NO_CACHE)
def publish_plan(loaded: LoadedExperiment) -> dict[str, Any]:
    """The dry run: publish what a run would do, touch nothing."""
    from tasks.chaos.plan import render_plan

    lines = render_plan(loaded)
    create_markdown_artifact(
        "# Chaos experiment plan (dry run)\n\n```\n" + "\n".join(lines) + "\n```",
        key="chaos-plan",
        description=f"Plan of {loaded.title}",
    )
    return {"title": loaded.title, "dry_run": True, "plan": lines}


@task(name="run-chaos-experiment", cache_policy=NO_CACHE)
def run_chaos_experiment(loaded: LoadedExperiment, flow_run_id: str | None = None) -> RunOutcome:
    """Run the experiment (pre-flight, hypotheses, method, rollbacks, verification)."""
    outcome = execute(loaded, flow_run_id=flow_run_id)
    _logger().info(
        "Experiment %r: %s (%s), %d fault(s), clean=%s",
        outcome.title,
        outcome.verdict,
        outcome.reason,
        len(outcome.faults),
        outcome.clean,
    )
    return outcome


def _activity_rows(outcome: RunOutcome) -> list[dict[str, Any]]:
    rows = []
    for phase in ("run", "rollbacks"):
        for a in outcome.journal.get(phase) or []:
            duration = a.get("duration")
            rows.append(
                {
                    "phase": "method" if phase == "run" else "rollback",
                    "activity": a.get("name"),
                    "type": a.get("type"),
                    "status": a.get("status"),
                    "start": a.get("start"),
                    "seconds": round(duration, 3) if isinstance(duration, float) else duration,
                }
            )
    return rows


def _state_line(name: str, state: Any) -> str:
    if not state:
        return f"- {name}: not run"
    probes = state.get("probes") or []
    held = sum(1 for p in probes if p.get("tolerance_met"))
    met = "met" if state.get("steady_state_met") else "NOT met"
    return f"- {name}: {met} ({held}/{len(probes)} probes within tolerance)"


def summary_markdown(outcome: RunOutcome) -> str:
    """The run's human summary: verdict, steady states, faults and their verification."""
    states = outcome.journal.get("steady_states") or {}
    during = states.get("during") or []
    success = outcome.probe_success
    lines = [
        f"# Chaos experiment: {outcome.verdict.upper()}",
        "",
        f"**{outcome.title}** (service `{outcome.service}`, run `{outcome.run_id}`)",
        "",
        f"- verdict: **{outcome.verdict}**: {outcome.reason}",
        f"- status: {outcome.status}; deviated: {outcome.deviated}",
        f"- probe success: {'-' if success is None else f'{success:.0%}'}",
        "",
        "## Steady state",
        _state_line("before", states.get("before")),
        f"- during: {sum(1 for s in during if s and s.get('steady_state_met'))}/{len(during)} met",
        _state_line("after", states.get("after")),
        "",
        "## Faults",
    ]
    for f in outcome.faults:
        clean = "verified clean" if f["verified_clean"] else "**NOT verified clean**"
        lines.append(f"- {f['driver']}:{f['target']}: {clean} ({f['verification']})")
    if not outcome.faults:
        lines.append("- none injected")
    return "\n".join(lines)


@task(name="publish-chaos-report", cache_policy=NO_CACHE)
def publish_chaos_report(outcome: RunOutcome) -> dict[str, Any]:
    """Markdown summary and the table of activities as artifacts; returns the summary."""
    create_markdown_artifact(
        summary_markdown(outcome), key="chaos-summary", description=outcome.title
    )
    rows = _activity_rows(outcome)
    if rows:
        create_table_artifact(rows, key="chaos-activities", description="Activities and timings")
    return outcome.summary()


def rollback_flow_run(
    flow_run_id: str, experiment_path: str | None = None, engine: Any = None
) -> list[dict[str, Any]]:
    """Remove and verify every open fault of the chaos runs ``flow_run_id`` started.

    Drivers are built from the experiment's configuration when the file still loads; each
    fault's own handle carries what removal needs otherwise.
    """
    from tasks.chaos.experiment import parse_experiment_file, resolve_configuration
    from tasks.chaos.records import finish_if_running, runs_of_flow_run
    from tasks.chaos.rollback import drivers_from, rollback_run
    from tasks.store import get_engine

    engine = engine or get_engine()
    config: dict[str, Any] = {}
    if experiment_path:
        try:
            values, secrets = resolve_configuration(parse_experiment_file(experiment_path))
            config = {**values, **{k: v for s in secrets.values() for k, v in s.items()}}
        except Exception:  # a broken file must not stop the rollback
            _logger().warning("Could not read %s; rolling back from the handles", experiment_path)
    driver_for = drivers_from(config)
    done: list[dict[str, Any]] = []
    for run_id in runs_of_flow_run(engine, flow_run_id):
        done.extend(r.to_json() for r in rollback_run(engine, run_id, driver_for))
        finish_if_running(engine, run_id, "the flow run was cancelled or crashed")
    return done


def _hook(kind: str) -> Any:
    def hook(flow: Any, flow_run: Any, state: Any) -> None:
        path = (flow_run.parameters or {}).get("experiment_path")
        done = rollback_flow_run(str(flow_run.id), path)
        logging.getLogger("traceo.chaos").warning(
            "Flow run %s %s: rolled back %d fault(s): %s",
            flow_run.id,
            kind,
            len(done),
            ", ".join(f"{d['driver']}:{d['target']} clean={d['clean']}" for d in done) or "none",
        )

    hook.__name__ = f"rollback_after_{kind}"
    return hook


rollback_after_cancellation = _hook("cancellation")
rollback_after_crash = _hook("crash")
