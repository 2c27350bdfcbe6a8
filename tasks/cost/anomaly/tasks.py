"""Prefect tasks of anomaly scoring: thin wrappers over detection, alerting and reporting.

One task scores every monitor (each monitor's series in one vectorised call), one sends the
notices, one publishes the artifacts: three task runs per flow run, whatever the data size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.cost.anomaly.alerting import NoticeOutcome, alert_anomalies
from tasks.cost.anomaly.detect import score_and_save
from tasks.cost.anomaly.monitors import Monitor, load_monitors
from tasks.cost.anomaly.report import describe, table_rows
from tasks.cost.anomaly.store import list_anomalies
from tasks.notify import BlockNotifier
from tasks.store import get_engine

__all__ = [
    "ALERT_DAYS",
    "ScoringSummary",
    "default_window",
    "load_monitor_specs",
    "monitors_path",
    "notify_cost_anomalies",
    "publish_anomaly_report",
    "score_cost_anomalies",
]

ScoringSummary = dict[str, Any]
# Anomalies still running in the last week are notified; older ones are history.
ALERT_DAYS = 7


def monitors_path(path: str | Path | None = None) -> Path:
    """``path``, else ``TRACEO_COST_MONITORS``, else ``deployments/cost/monitors.yaml``."""
    from tasks.settings import get_settings

    return Path(path or get_settings().cost_monitors)


@task(name="score-cost-anomalies")
def score_cost_anomalies(
    monitors: Sequence[Monitor], through: date, now: datetime, lookback_days: int
) -> ScoringSummary:
    """Score every monitor's daily series, explain and store the anomalies touching the window."""
    engine = get_engine()
    detection, saved = score_and_save(engine, monitors, through, now, lookback_days)
    logger = get_run_logger()
    for name, count in detection.series.items():
        logger.info("Monitor %s: %d series over %d days", name, count, detection.days[name])
    logger.info(
        "Anomalies through %s: %d new, %d updated, %d unchanged",
        through.isoformat(),
        len(saved.created),
        len(saved.updated),
        len(saved.unchanged),
    )
    ids = saved.created + saved.updated + saved.unchanged
    return {
        "through": through.isoformat(),
        "series": sum(detection.series.values()),
        "anomaly_ids": sorted(ids),
        "created": sorted(saved.created),
        "updated": sorted(saved.updated),
    }


@task(name="notify-cost-anomalies")
def notify_cost_anomalies(
    monitors: Sequence[Monitor],
    now: datetime,
    since: date,
    digest_hour: int = 0,
    notify_via: str | None = None,
) -> list[NoticeOutcome]:
    """Send immediate notices and the daily digests that are due (see ``alerting``)."""
    outcomes = alert_anomalies(
        get_engine(), monitors, BlockNotifier(), now, since, digest_hour, notify_via
    )
    logger = get_run_logger()
    for o in outcomes:
        if o.delivered:
            logger.info(
                "Sent %s notice to %s for %d anomalies", o.kind, o.target, len(o.anomaly_ids)
            )
        else:
            logger.warning("%s notice to %s not delivered: %s", o.kind, o.target, o.error)
    return outcomes


@task(name="publish-anomaly-report")
def publish_anomaly_report(
    summary: ScoringSummary, outcomes: Sequence[NoticeOutcome]
) -> dict[str, Any]:
    """A table artifact of the window's anomalies with root causes, and a markdown summary."""
    anomalies = list_anomalies(get_engine(), ids=summary["anomaly_ids"])
    lines = [f"# Cost anomalies through {summary['through']}", ""]
    lines.append(
        f"{summary['series']} series scored; {len(anomalies)} anomalies in the window "
        f"({len(summary['created'])} new, {len(summary['updated'])} updated)."
    )
    lines += ["", *(f"- {describe(a)}" for a in anomalies)]
    if outcomes:
        lines += ["", "## Notifications"]
        lines.extend(
            f"- {o.kind} to `{o.target}` ({len(o.anomaly_ids)} anomalies): "
            + ("delivered" if o.delivered else f"NOT delivered ({o.error})")
            for o in outcomes
        )
    create_markdown_artifact("\n".join(lines), key="cost-anomalies-summary")
    create_table_artifact(
        table_rows(anomalies), key="cost-anomalies", description="Cost anomalies with root causes"
    )
    return {
        "anomalies": len(anomalies),
        "new": len(summary["created"]),
        "notices": sum(o.delivered for o in outcomes),
        "undelivered": sum(not o.delivered for o in outcomes),
    }


def load_monitor_specs(path: str | Path | None = None) -> list[Monitor]:
    """The monitors to score (raises :class:`~tasks.errors.SpecError` with every problem)."""
    return load_monitors([monitors_path(path)])


def default_window(now: datetime) -> tuple[date, date]:
    """``(through, alert_since)``: yesterday (today's cost is incomplete) and the week to it."""
    through = now.date() - timedelta(days=1)
    return through, through - timedelta(days=ALERT_DAYS - 1)
