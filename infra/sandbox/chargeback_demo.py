"""The chargeback part of ``traceo demo``: allocate the FOCUS sample's month, post, print.

:func:`run_chargeback_demo` runs on the store the cost demo filled (the FOCUS 1.0 sample covers
September 2024) with the example configuration in ``deployments/chargeback``. It allocates,
reconciles, posts to the ledger (a second demo run posts nothing), writes the statements under
``TRACEO_HOME/chargeback/<period>/`` and prints each team's total and the reconciliation line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

__all__ = ["run_chargeback_demo"]


def run_chargeback_demo(
    echo: Callable[[str], None],
    engine: Engine,
    period: str = "2024-09",
    config_dir: Path | None = None,
    home: Path | None = None,
) -> dict[str, Any]:
    """Allocate ``period`` with the example configs, post it, write and print the statements."""
    from tasks.chargeback import (
        allocate,
        lines_from_lake,
        load_chargeback_config,
        load_usage_csv,
        needed_columns,
        period_bounds,
    )
    from tasks.chargeback.ledger import post_allocation
    from tasks.chargeback.statements import METRIC_LABELS, statement_dir, write_statements
    from tasks.chargeback.tasks import DEFAULT_CONFIG_DIR, statement_views
    from tasks.settings import get_settings

    config_dir = config_dir or DEFAULT_CONFIG_DIR
    start, end = period_bounds(period)
    config = load_chargeback_config(config_dir / "teams.yaml", config_dir / "ratecard.yaml")
    usage = load_usage_csv(config_dir / "usage.csv", period)
    allocation = allocate(
        lines_from_lake(start, end, needed_columns(config)), config, usage, period
    )
    result = post_allocation(engine, allocation)  # reconciles first; raises on a mismatch
    views = statement_views(allocation)
    files = write_statements(
        statement_dir(home or get_settings().home, period),
        views,
        unallocated=result.unallocated_total,
        source_total=result.source_total,
        currency=result.currency,
        metric=result.metric,
        reconciled=True,
    )
    currency = result.currency
    basis = METRIC_LABELS.get(result.metric, result.metric)
    echo(f"Chargeback {period} ({len(views)} teams, {currency}, {basis}):")
    for v in views:
        kind = "charged" if v.charged else f"{v.tier}, informational"
        echo(f"  {v.team:<20} {v.total:>14,.2f}  ({kind})")
    echo(f"  {'unallocated':<20} {result.unallocated_total:>14,.2f}")
    echo(
        f"Reconciliation: cloud cost allocated {result.allocated_total:,.2f} + unallocated "
        f"{result.unallocated_total:,.2f} = source total {result.source_total:,.2f} {currency}: OK"
    )
    corrections = sum(p.correction for p in result.postings)
    echo(
        f"Ledger: {result.status}, {len(result.postings)} entries ({corrections} corrections); "
        f"statements in {files.directory}"
    )
    return {
        "period": period,
        "status": result.status,
        "source_total": result.source_total,
        "unallocated": result.unallocated_total,
        "teams": {v.team: v.total for v in views},
        "entries_posted": len(result.postings),
        "statements": files.directory,
    }
