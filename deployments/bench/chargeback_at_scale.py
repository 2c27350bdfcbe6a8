"""Benchmark ``chargeback_at_scale``: a 100M-line month in the local cost lake, charged back.

Ours: the chargeback run as the flow runs it on the lake: :func:`~tasks.chargeback.
lines_from_lake` with the columns the rules need (DuckDB sums the lines that agree on them,
exact decimals; Python receives one row per group), :func:`~tasks.chargeback.allocate` (200
teams, a glob rule, a sub-account rule, three shared pools, a rate card), reconciliation, and
:func:`~tasks.chargeback.ledger.post_allocation` to a SQLite ledger. Reference, measured in the
same run: the in-memory path (every line of the period read into Arrow, then the same
allocation) at the largest size it holds comfortably here, 10M lines (``--quick``: 1M); the
per-line figures are extrapolated to the full month and stated as such. Ours also runs on the
reference's lake, and the two must post identical cents. Each run is a fresh child process
(:func:`deployments.bench.child.in_child`). Generating the months is not timed and cached
(:mod:`deployments.bench.lake_month`).
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

from deployments.bench import Measurement
from deployments.bench.child import in_child
from deployments.bench.lake_month import PERIOD, month_lake, sizes

__all__ = ["charge_month", "run"]

_TARGET = "whole run < 60 s and < 2 GB peak RSS for 100M lines; identical cents"


def run(quick: bool) -> list[Measurement]:
    lines, reference_lines = sizes(quick)
    lake = month_lake(lines)
    small = month_lake(reference_lines)
    ours = in_child("chargeback_at_scale (lake)", charge_month, lake.root, True)
    check = in_child("chargeback_at_scale (lake, small)", charge_month, small.root, True)
    reference = in_child("chargeback_at_scale (in memory)", charge_month, small.root, False)
    agree = check["checksum"] == reference["checksum"] and check["totals"] == reference["totals"]
    scale = lines / reference_lines
    ref_seconds = reference["seconds"] * scale
    ran = ours["status"] == "posted" and ours["lines"] == lines
    met = ran and agree and ours["seconds"] < 60 and ours["peak_mb"] < 2048
    note = (
        f"{lines:,} lines of {PERIOD} (50,000 resources, 200 teams, 30 tag keys, 5 payer "
        f"partitions) in a local lake; ours = lines_from_lake grouped by "
        f"{ours['keys']} ({ours['groups']:,} groups) + allocate + reconcile + post "
        f"(read/allocate/post {ours['phases']} s), peak RSS {ours['peak_mb']:,.0f} MB; "
        f"reference = every line read into Arrow, then the same allocation, measured on "
        f"{reference_lines:,} lines: {reference['seconds']:.1f} s "
        f"({reference['phases']} s), peak RSS {reference['peak_mb']:,.0f} MB, EXTRAPOLATED "
        f"x{scale:g} to {ref_seconds:.0f} s and {reference['peak_mb'] * scale / 1024:,.0f} GB; "
        f"ours on those {reference_lines:,} lines: {check['seconds']:.1f} s, cents "
        f"{'IDENTICAL' if agree else 'DIFFER'} to the reference's"
    )
    ratio = ref_seconds / ours["seconds"] if ours["seconds"] > 0 else float("inf")
    return [
        Measurement(
            "chargeback_at_scale", ours["seconds"], ref_seconds, "s", ratio, _TARGET, met, note
        )
    ]


def charge_month(lake_root: str, grouped: bool) -> dict[str, Any]:
    """One whole chargeback run of :data:`PERIOD` over the lake at ``lake_root``, timed."""
    from deployments.bench.chargeback_allocation import make_config
    from tasks.chargeback import allocate, lines_from_lake, needed_columns, period_bounds
    from tasks.chargeback.ledger import post_allocation
    from tasks.cost.lake import Lake
    from tasks.store import get_engine

    lake = Lake.at(lake_root)
    config = make_config()
    keys = needed_columns(config) if grouped else None
    start, end = period_bounds(PERIOD)
    with tempfile.TemporaryDirectory(prefix="traceo-bench-ledger-") as tmp:
        engine = get_engine(f"sqlite:///{tmp}/ledger.db")
        started = time.perf_counter()
        columns = lines_from_lake(start, end, keys, lake=lake)
        read = time.perf_counter()
        allocation = allocate(columns, config, [], PERIOD, metric="EffectiveCost")
        allocation.reconcile()
        allocated = time.perf_counter()
        result = post_allocation(engine, allocation)
        seconds = time.perf_counter() - started
        engine.dispose()
    phases = (read - started, allocated - read, started + seconds - allocated)
    return {
        "seconds": seconds,
        "phases": "/".join(f"{p:.1f}" for p in phases),
        "keys": ",".join(keys or ["(none)"]),
        "groups": len(columns),
        "lines": _lines(lake),
        "status": result.status,
        "checksum": result.checksum,
        "totals": {k: str(v) for k, v in result.statement_totals.items()},
    }


def _lines(lake: Any) -> int:
    return int(lake.dataset(lake.partitions([PERIOD])).count_rows())
