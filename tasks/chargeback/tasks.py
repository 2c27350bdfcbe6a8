"""Prefect tasks of the chargeback run: allocate, post to the ledger, write and publish statements.

The logic lives in plain modules (:mod:`tasks.chargeback.ledger`,
:mod:`tasks.chargeback.statements` and the allocation core); these tasks only wire them to the
store, TRACEO_HOME and Prefect artifacts.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from tasks.chargeback.ledger import PostingResult
from tasks.chargeback.statements import (
    METRIC_LABELS,
    StatementFiles,
    TeamStatementView,
    team_view,
)
from tasks.links import browser_link

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "allocate_period",
    "post_chargeback",
    "publish_chargeback",
    "statement_views",
    "summary_markdown",
    "write_chargeback_statements",
]

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "deployments" / "chargeback"


def _logger() -> Any:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("traceo.chargeback")


@task(name="allocate-chargeback-period", cache_policy=NO_CACHE)
def allocate_period(
    period: str,
    teams_path: str | None = None,
    ratecard_path: str | None = None,
    usage_path: str | None = None,
    metric: str | None = None,
) -> Any:
    """Allocate ``period``'s cost lines in the lake to teams (a ``tasks.chargeback.Allocation``).

    ``metric`` overrides the teams file's ``cost_metric`` (``EffectiveCost`` by default).
    """
    from tasks.chargeback import (
        allocate,
        lines_from_lake,
        load_chargeback_config,
        load_usage_csv,
        needed_columns,
        period_bounds,
    )

    start, end = period_bounds(period)
    config = load_chargeback_config(
        teams_path or DEFAULT_CONFIG_DIR / "teams.yaml",
        ratecard_path or DEFAULT_CONFIG_DIR / "ratecard.yaml",
    )
    usage = load_usage_csv(usage_path or DEFAULT_CONFIG_DIR / "usage.csv", period)
    lines = lines_from_lake(start, end, needed_columns(config))
    allocation = allocate(lines, config, usage, period, metric=metric)
    _logger().info(
        "Allocated %s %s (%s) of %s to %s team(s)",
        allocation.source_total,
        allocation.currency,
        allocation.metric,
        period,
        len(allocation.statements),
    )
    return allocation


@task(name="post-chargeback", cache_policy=NO_CACHE)
def post_chargeback(allocation: Any, dry_run: bool = False, engine: Any = None) -> PostingResult:
    """Reconcile and post the allocation to the ledger (a dry run posts nothing)."""
    from prefect.runtime import flow_run

    from tasks.chargeback.ledger import post_allocation
    from tasks.store import get_engine

    result = post_allocation(
        engine or get_engine(),
        allocation,
        dry_run=dry_run,
        flow_run_id=flow_run.id or None,
    )
    _logger().info(
        "Chargeback %s: %s, %s entries (%s %s)",
        result.period,
        result.status,
        len(result.postings),
        result.posted_total,
        result.currency,
    )
    return result


def statement_views(allocation: Any) -> list[TeamStatementView]:
    """Each team's statement of an allocation, by team name."""
    return [
        team_view(statement, allocation.period, allocation.currency, allocation.metric)
        for _, statement in sorted(allocation.statements.items())
    ]


@task(name="write-chargeback-statements", cache_policy=NO_CACHE)
def write_chargeback_statements(
    allocation: Any, result: PostingResult, home: Path | None = None
) -> StatementFiles:
    """Write each team's CSV and the summary under ``TRACEO_HOME/chargeback/<period>/``."""
    from tasks.chargeback.statements import statement_dir, write_statements
    from tasks.settings import get_settings

    files = write_statements(
        statement_dir(home or get_settings().home, allocation.period),
        statement_views(allocation),
        unallocated=result.unallocated_total,
        source_total=result.source_total,
        currency=result.currency,
        metric=result.metric,
        reconciled=True,  # post_allocation raised otherwise
    )
    _logger().info("Wrote %s statement(s) to %s", len(files.teams), files.directory)
    return files


def _key(*parts: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def summary_markdown(
    result: PostingResult, views: list[TeamStatementView], files: StatementFiles | None
) -> str:
    """The run's summary: per team total, unallocated, source total, reconciliation, postings."""
    title = "DRY RUN - nothing posted" if result.status == "dry_run" else result.status
    basis = METRIC_LABELS.get(result.metric, result.metric)
    lines = [
        f"# Chargeback {result.period} ({title})",
        "",
        f"Cost charged: {basis}.",
        "",
        "| team | tier | charged | total |",
        "|---|---|---|---:|",
    ]
    lines += [
        f"| {v.team} | {v.tier} | {'yes' if v.charged else 'no'} | {v.total:,.2f} |" for v in views
    ]
    lines += [
        f"| unallocated | | | {result.unallocated_total:,.2f} |",
        f"| **source total** | | | **{result.source_total:,.2f}** |",
        "",
        f"Reconciliation: OK (cloud cost allocated {result.allocated_total:,.2f} + unallocated "
        f"{result.unallocated_total:,.2f} = source total {result.source_total:,.2f} "
        f"{result.currency} of {result.metric}; platform charges are internal, on top).",
        f"Ledger: {len(result.postings)} entries "
        f"({sum(p.correction for p in result.postings)} corrections), "
        f"{result.posted_total:,.2f} {result.currency}.",
    ]
    if files:
        lines += ["", f"Statements in `{files.directory}`:", ""]
        lines.append(f"- [summary]({browser_link(files.summary)})")
        lines += [f"- [{t}]({browser_link(p)})" for t, p in sorted(files.teams.items())]
    return "\n".join(lines)


@task(name="publish-chargeback", cache_policy=NO_CACHE)
def publish_chargeback(
    allocation: Any, result: PostingResult, files: StatementFiles | None = None
) -> str:
    """A markdown summary artifact and a table artifact per team; returns the markdown."""
    views = statement_views(allocation)
    markdown = summary_markdown(result, views, files)
    create_markdown_artifact(
        markdown,
        key=_key("chargeback", result.period),
        description=f"Chargeback summary for {result.period}",
    )
    for v in views:
        rows = [
            {
                "category": r.category,
                "item": r.item,
                "quantity": "" if r.quantity is None else str(r.quantity),
                "unit": r.unit or "",
                "amount": str(r.amount),
            }
            for r in v.rows
        ]
        rows.append(
            {"category": "total", "item": "", "quantity": "", "unit": "", "amount": str(v.total)}
        )
        create_table_artifact(
            rows,
            key=_key("chargeback", result.period, v.team),
            description=(
                f"{v.team} statement {result.period} ({v.tier}, {v.currency}, "
                f"{METRIC_LABELS.get(v.metric, v.metric)})"
            ),
        )
    return markdown
