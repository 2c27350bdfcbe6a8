"""Prefect tasks of the SLO job: thin wrappers over the pure evaluation, store and alert code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.alerts import AlertOutcome, route_alerts
from tasks.alerts.lifecycle import AlertAction
from tasks.alerts.router import DEFAULT_REMIND_EVERY, RoutedSignal
from tasks.notify import BlockNotifier
from tasks.retry import retry_policy
from tasks.slo.burn import AlertSignal
from tasks.slo.records import save_evaluations
from tasks.slo.report import SloReport
from tasks.slo.source import evaluate_specs
from tasks.slo.status import render_table, status_rows
from tasks.store import get_engine

__all__ = [
    "evaluate_slo_reports",
    "publish_slo_report",
    "route_slo_alerts",
    "routed_signals",
    "save_slo_evaluations",
]


@task(name="evaluate-slos", **retry_policy())
def evaluate_slo_reports(
    slos_path: Path | str, checks_path: Path | str, now: datetime, service: str | None = None
) -> list[SloReport]:
    """Load the SLO and check specs, then evaluate every SLO (of ``service``) over the store.

    Read-only, so a transient error (the store or Prometheus down) is retried.
    """
    reports = evaluate_specs(get_engine(), slos_path, checks_path, now, service)
    get_run_logger().info("Evaluated %d SLO objectives at %s", len(reports), now.isoformat())
    return reports


@task(name="save-slo-evaluations")
def save_slo_evaluations(reports: Sequence[SloReport]) -> int:
    return save_evaluations(get_engine(), reports)


def routed_signals(
    reports: Sequence[SloReport], notify_via: str | None = None
) -> list[RoutedSignal]:
    """Each report's alert signals with their targets; pages of SLOs held by maintenance wait.

    A held page is not routed at all: its alert state stays as it was, so it neither fires nor
    resolves during the window, and fires after it if the SLO still burns then.
    """

    def targets(signal: AlertSignal) -> tuple[str, ...]:
        if not (signal.firing or signal.notify_resolved):
            return ()
        return (notify_via,) if notify_via else tuple(signal.targets)

    return [
        RoutedSignal(r.slo_id, a, targets(a))
        for r in reports
        for a in r.alerts
        if not (r.maintenance and a.severity == "page")
    ]


@task(name="route-slo-alerts")
def route_slo_alerts(
    reports: Sequence[SloReport],
    now: datetime,
    notify_via: str | None = None,
    remind_every: Mapping[str, timedelta] = DEFAULT_REMIND_EVERY,
) -> list[AlertOutcome]:
    """Fire, remind and resolve every alert signal; pages wait while maintenance holds the SLO.

    Notices go to the signal's own targets, or all to ``notify_via`` when given (a staging or
    demo channel); a firing alert is repeated at most every ``remind_every[severity]``.
    """
    signals = routed_signals(reports, notify_via)
    outcomes = route_alerts(get_engine(), signals, BlockNotifier(), now, remind_every)
    logger = get_run_logger()
    for o in outcomes:
        if o.delivered:
            logger.info("Alert %s %s: %s", o.slo_id, o.key, o.action.value)
        else:
            logger.warning("Alert %s %s: %s not delivered: %s", o.slo_id, o.key, o.action, o.error)
    return outcomes


def _summary_markdown(reports: Sequence[SloReport], outcomes: Sequence[AlertOutcome]) -> str:
    firing = [(r.slo_id, a) for r in reports for a in r.firing]
    lines = [f"# SLO evaluation: {len(reports)} objectives", ""]
    if firing:
        lines.append("## Alerts firing")
        lines.extend(f"- **{a.severity}** `{slo}` {a.key}: {a.summary}" for slo, a in firing)
    else:
        lines.append("No alerts firing.")
    sent = [o for o in outcomes if o.action is not AlertAction.REMIND or o.delivered]
    if sent:
        lines += ["", "## Notifications"]
        lines.extend(
            f"- {o.action.value} `{o.slo_id}` {o.key}: "
            + ("delivered" if o.delivered else f"NOT delivered ({o.error})")
            for o in sent
        )
    lines += ["", "```", render_table(status_rows(reports)), "```"]
    return "\n".join(lines)


@task(name="publish-slo-report")
def publish_slo_report(
    reports: Sequence[SloReport], outcomes: Sequence[AlertOutcome]
) -> dict[str, Any]:
    """Write the markdown summary and the status table as artifacts; return a small summary."""
    create_markdown_artifact(
        _summary_markdown(reports, outcomes), key="slo-summary", description="SLO evaluation"
    )
    if reports:
        create_table_artifact(status_rows(reports), key="slo-status", description="SLO status")
    return {
        "slos": len(reports),
        "firing": sorted(f"{r.slo_id} {a.key}" for r in reports for a in r.firing),
        "notifications": len(outcomes),
    }
