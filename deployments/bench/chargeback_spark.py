"""Benchmark ``chargeback_spark``: one generated month in the lake, allocated from Spark and DuckDB.

The month is the at-scale benchmarks' (:func:`deployments.bench.lake_month.month_lake`: 50,000
resources, 30 tag keys, shared costs; generated once and cached, untimed) and the rules are
``chargeback_allocation``'s (200 teams, three shared pools). Each engine sums the period's
lines to the columns the rules need (:func:`tasks.chargeback.lines_from_lake` with
:func:`~tasks.chargeback.needed_columns`), then the same allocation and reconciliation run on the
result. Ours: pyspark in ``local[2]`` (the session started and warmed up untimed); reference:
embedded DuckDB. The figure that matters is the cents: they must be identical team by team.
Times are for information: local Spark proves the SQL and the exact decimals, a cluster brings
the speed (docs/scale.md).
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from deployments.bench import Measurement
from deployments.bench.lake_month import PERIOD, month_lake

__all__ = ["compare", "run"]

FULL_LINES = 10_000_000
QUICK_LINES = 1_000_000
_TARGET = "cents identical to DuckDB's (time for information)"


def _allocate(engine: Any, config: Any) -> tuple[Any, float, int]:
    from tasks.chargeback import allocate, lines_from_lake, needed_columns, period_bounds

    start, end = period_bounds(PERIOD)
    started = time.perf_counter()
    lines = lines_from_lake(start, end, needed_columns(config), engine=engine)
    allocation = allocate(lines, config, [], PERIOD)
    allocation.reconcile()
    return allocation, time.perf_counter() - started, len(lines)


def compare(rows: int, cache: Path | None = None) -> dict[str, Any]:
    """Allocate the month of ``rows`` lines through DuckDB and through Spark."""
    from deployments.bench.chargeback_allocation import _cents, make_config
    from tasks.chargeback import lines_from_lake, needed_columns, period_bounds
    from tasks.cost.lake import LakeQuery
    from tasks.cost.lake.spark import SparkQuery

    lake = month_lake(rows, cache)
    config = make_config()
    start, end = period_bounds(PERIOD)
    with SparkQuery(lake, []) as warm:  # session start and the JVM's first query, untimed
        lines_from_lake(start, end, needed_columns(config), engine=warm)
    with LakeQuery(lake, [PERIOD]) as duckdb:
        reference, duckdb_s, duckdb_groups = _allocate(duckdb, config)
    with SparkQuery(lake, [PERIOD]) as spark:
        ours, spark_s, spark_groups = _allocate(spark, config)
    mine, theirs = _cents(ours), _cents(reference)
    return {
        "spark_s": spark_s,
        "duckdb_s": duckdb_s,
        "groups": (spark_groups, duckdb_groups),
        "identical": mine == theirs and ours.source_total == reference.source_total,
        "differing": sum(1 for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)),
        "keys": len(mine),
        "total": ours.source_total,
        "cents": sum(mine.values(), Decimal(0)),
    }


def run(quick: bool) -> list[Measurement]:
    """The month through Spark local[2] and DuckDB; skipped (not met) without pyspark or Java."""
    import importlib.util
    import shutil

    rows = QUICK_LINES if quick else FULL_LINES
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        note = "skipped: pyspark or Java is not installed (nothing measured)"
        return [Measurement("chargeback_spark", 0.0, 0.0, "s", 0.0, _TARGET, False, note)]
    from tasks.cost.lake.spark import stop_spark_sessions

    try:
        result = compare(rows)
    finally:
        stop_spark_sessions()
    spark_s, duckdb_s = result["spark_s"], result["duckdb_s"]
    ratio = duckdb_s / spark_s if spark_s > 0 else float("inf")
    agree = result["identical"]
    note = (
        f"{rows:,} generated lines of {PERIOD} (the at-scale month, cached, untimed), summed by "
        f"each engine to the rules' columns ({result['groups'][0]:,} groups from Spark, "
        f"{result['groups'][1]:,} from DuckDB), then the same allocate + reconcile; ours = "
        f"pyspark local[2] (session start and a first query untimed), reference = embedded "
        f"DuckDB; source total {result['total']:.2f} USD; cents per team and unallocated "
        f"{'IDENTICAL' if agree else 'DIFFER for ' + str(result['differing']) + ' keys'} "
        f"({result['keys']} keys); times for information only"
    )
    return [Measurement("chargeback_spark", spark_s, duckdb_s, "s", ratio, _TARGET, agree, note)]
