"""Prefect tasks of cost ingestion: thin wrappers over :mod:`tasks.cost.ingest`.

One task run per source and calendar month (a provider-month of rows, vectorised inside), so a
retry or a rerun replaces exactly that month. Only transient errors (throttling, a provider or the
store unavailable) are retried; malformed input fails at once with file, row and column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from tasks.results import reused_in_retry
from tasks.retry import retry_policy

__all__ = [
    "default_ingest_window",
    "ingest_cost_period",
    "month_windows",
    "publish_cost_ingestion",
]


def default_ingest_window(today: date) -> tuple[date, date]:
    """From the first day of last month up to today (exclusive).

    Providers revise recent days (Cost Explorer's ``Estimated`` numbers, late credits) until
    the month after is well under way, so each scheduled run re-reads both months whole.
    """
    first_this_month = today.replace(day=1)
    first_last_month = (first_this_month - timedelta(days=1)).replace(day=1)
    return first_last_month, today


def month_windows(start: date, end: date) -> Iterator[tuple[date, date]]:
    """Split ``[start, end)`` at calendar month boundaries."""
    if end <= start:
        raise ValueError(f"empty period: {start} .. {end} (the end is exclusive)")
    cursor = start
    while cursor < end:
        following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        yield cursor, min(following, end)
        cursor = following


def _logger() -> Any:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("traceo.cost")


@task(
    name="ingest-cost-period",
    **retry_policy(),
    **reused_in_retry(),  # a retry of the run re-ingests only the months that failed
)
def ingest_cost_period(
    source: str, start: date, end: date, sources_file: str | None = None
) -> dict[str, Any]:
    """Fetch ``source``'s cost for ``[start, end)``, validate it and replace that period.

    Returns a JSON-safe summary (amounts as decimal text) for the flow's artifact.
    """
    from pathlib import Path

    from prefect.runtime import flow_run

    from tasks.cost.ingest import ingest_source
    from tasks.cost.report import report_rows
    from tasks.cost.sources import build_source, get_source_config, load_source_configs
    from tasks.store import get_engine

    logger = _logger()
    config = get_source_config(
        load_source_configs(Path(sources_file) if sources_file else None), source
    )
    logger.info("Ingesting cost from %s (%s) for %s..%s", source, config.type, start, end)
    report = ingest_source(
        get_engine(), build_source(config), start, end, flow_run_id=flow_run.id or None
    )
    for note in dict.fromkeys(report.notes):
        logger.info("%s: %s", source, note)
    logger.info(
        "%s: %s rows in %s billing account(s) for %s..%s",
        source,
        report.rows,
        len(report.scopes),
        start,
        end,
    )
    return {
        "source": source,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": report.rows,
        "skipped_rows": report.skipped_rows,
        "providers": report_rows([report]),
        "scopes": [
            {
                "billing_account_id": s.billing_account_id,
                "rows": s.rows,
                "billed_total": str(s.billed_total),
                "estimated": s.estimated,
                "checksum": s.checksum,
            }
            for s in report.scopes
        ],
    }


@task(name="publish-cost-ingestion", cache_policy=NO_CACHE)
def publish_cost_ingestion(summaries: Sequence[dict[str, Any]]) -> str | None:
    """A table artifact of what was ingested: source, period, provider, rows, BilledCost."""
    rows = [row for summary in summaries for row in summary["providers"]]
    if not rows:
        rows = [
            {"source": s["source"], "period": f"{s['start']}..{s['end']}", "rows": 0}
            for s in summaries
        ]
    artifact = create_table_artifact(
        rows, key="cost-ingestion", description="Cost ingested into the cost lake (FOCUS 1.2)"
    )
    return str(artifact) if artifact else None
