"""SLO evaluation: SLIs, error budgets and burn-rate alerts from the recorded check results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from tasks.alerts.router import DEFAULT_REMIND_EVERY
from tasks.failure import report_failure
from tasks.redaction import install_redaction
from tasks.results import rerunnable
from tasks.settings import get_settings
from tasks.slo.tasks import (
    evaluate_slo_reports,
    publish_slo_report,
    route_slo_alerts,
    save_slo_evaluations,
)

__all__ = ["evaluate_slos"]


@flow(name="slo-evaluation", log_prints=False, **rerunnable(), on_failure=[report_failure])
def evaluate_slos(
    slos_path: str | None = None,
    checks_path: str | None = None,
    evaluated_at: datetime | None = None,
    service: str | None = None,
    notify_via: str | None = None,
    remind_every_minutes: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Evaluate every SLO, store the figures, fire/remind/resolve alerts, publish artifacts.

    Args:
        slos_path: OpenSLO files or a directory (default: ``TRACEO_SLOS_PATH``).
        checks_path: check files, to map checks to services (default: ``TRACEO_CHECKS_PATH``).
        evaluated_at: the evaluation instant (default: this run's scheduled start), so a rerun
            replaces its own evaluation and sends no notice twice.
        service: evaluate only this service's SLOs.
        notify_via: send every notice to this notification block (``custom-webhook/staging``)
            instead of each SLO's own targets; for staging and the demo.
        remind_every_minutes: how often a still-firing alert is repeated, by severity
            (default: page 60, ticket 1440).
    """
    install_redaction()
    settings = get_settings()
    now = (evaluated_at or flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC)
    now = now.replace(microsecond=0)
    reports = evaluate_slo_reports(
        slos_path or settings.slos_path, checks_path or settings.checks_path, now, service
    )
    save_slo_evaluations(reports)
    remind = dict(DEFAULT_REMIND_EVERY)
    remind.update({k: timedelta(minutes=v) for k, v in (remind_every_minutes or {}).items()})
    outcomes = route_slo_alerts(reports, now, notify_via, remind)
    return publish_slo_report(reports, outcomes)
