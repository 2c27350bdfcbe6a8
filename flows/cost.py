"""Cloud cost: ingestion normalised to FOCUS 1.2 (and, below, anomaly scoring)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from tasks.extras import require_extras

# Before the role's tasks: without the cost extra this is one line naming it, not an
# ImportError from deep in a task module (tasks/extras.py).
require_extras("cost")

from tasks.cost.anomaly.detect import DEFAULT_LOOKBACK_DAYS  # noqa: E402
from tasks.cost.anomaly.tasks import (  # noqa: E402
    ALERT_DAYS,
    default_window,
    load_monitor_specs,
    notify_cost_anomalies,
    publish_anomaly_report,
    score_cost_anomalies,
)
from tasks.cost.tasks import (  # noqa: E402
    default_ingest_window,
    ingest_cost_period,
    month_windows,
    publish_cost_ingestion,
)
from tasks.failure import report_failure  # noqa: E402
from tasks.redaction import install_redaction  # noqa: E402
from tasks.results import rerunnable  # noqa: E402

__all__ = ["detect_cost_anomalies", "ingest_costs"]


@flow(name="cost-ingestion", log_prints=False, **rerunnable(), on_failure=[report_failure])
def ingest_costs(
    source: str,
    start: date | None = None,
    end: date | None = None,
    sources_file: str | None = None,
) -> list[dict[str, Any]]:
    """Ingest one source's cost for ``[start, end)``, one calendar month per task run.

    Each month replaces what the source wrote for it before (a rerun changes nothing); the run
    ends with a table artifact of rows and BilledCost per provider.

    Args:
        source: a source name from the sources file (e.g. ``aws-ce``, ``focus-sample``).
        start: the first charge day (UTC, inclusive); default: the first day of last month.
        end: the day after the last charge day (UTC, exclusive); default: the run's day.
        sources_file: the source definitions (default: ``TRACEO_COST_SOURCES``).
    """
    install_redaction()
    today = (flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC).date()
    default_start, default_end = default_ingest_window(today)
    start, end = start or default_start, end or default_end
    summaries = [
        ingest_cost_period(source, first, last, sources_file)
        for first, last in month_windows(start, end)
    ]
    publish_cost_ingestion(summaries)
    return summaries


# --- Anomaly scoring -------------------------------------------------------------------------
# The scoring flow (tasks.cost.anomaly) goes below: it reads what ingest_costs wrote (lines
# in the cost lake, cost_tag_totals in the store) and writes cost_anomalies.
# Keep ingestion above this line.


@flow(name="cost-anomalies", log_prints=False, **rerunnable(), on_failure=[report_failure])
def detect_cost_anomalies(
    monitors_path: str | None = None,
    through: date | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    digest_hour: int = 0,
    notify_via: str | None = None,
) -> dict[str, Any]:
    """Score each monitor's daily cost, store anomalies with root causes, alert, publish.

    A rerun over the same cost changes nothing and sends nothing twice; anomalies that grow keep
    their id. Ends with a table artifact of the window's anomalies and their root causes.

    Args:
        monitors_path: the monitors YAML (default: ``TRACEO_COST_MONITORS``, else
            ``deployments/cost/monitors.yaml``).
        through: the last day scored (default: the day before the run's scheduled start).
        lookback_days: anomalies touching these last days are stored and reported.
        digest_hour: the UTC hour from which each target's daily digest may go out.
        notify_via: send every notice to this notification block instead of the monitors'
            own targets (staging, demo).
    """
    install_redaction()
    scheduled = flow_run.scheduled_start_time or datetime.now(UTC)
    now = datetime.fromtimestamp(int(scheduled.timestamp()), UTC)  # a plain UTC datetime
    default_through, _ = default_window(now)
    through = through or default_through
    monitors = load_monitor_specs(monitors_path)
    summary = score_cost_anomalies(monitors, through, now, lookback_days)
    since = through - timedelta(days=ALERT_DAYS - 1)
    outcomes = notify_cost_anomalies(monitors, now, since, digest_hour, notify_via)
    return publish_anomaly_report(summary, outcomes)
