"""Benchmark ``chargeback_spark``: one generated month in the lake, allocated from Spark and DuckDB.

The month is :func:`deployments.bench.chargeback_allocation.generate_lines`' (200 teams, three
shared pools, 5% untagged lines) written into a throw-away lake. Each engine sums the period's
lines to the columns the rules need (:func:`tasks.chargeback.lines_from_lake` with
:func:`~tasks.chargeback.needed_columns`), then the same allocation and reconciliation run on the
result. Ours: pyspark in ``local[2]`` (the session started and warmed up untimed); reference:
embedded DuckDB. The figure that matters is the cents: they must be identical team by team.
Times are for information: local Spark proves the SQL and the exact decimals, a cluster brings
the speed (docs/scale.md).
"""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from typing import Any

from deployments.bench import Measurement

__all__ = ["compare", "run", "write_month"]

FULL_LINES = 10_000_000
QUICK_LINES = 200_000
_CHUNK = 1_000_000
_TARGET = "cents identical to DuckDB's (time for information)"


def write_month(lake: Any, rows: int, seed: int = 20240901) -> None:
    """Write ``rows`` generated lines of September 2024 into ``lake`` (one partition)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from deployments.bench.chargeback_allocation import generate_lines
    from tasks.cost.lake import LAKE_SCHEMA, PartitionKey
    from tasks.cost.lake.layout import LAKE_NAMES

    key = PartitionKey("AWS", "111111111111", "2024-09")
    hour = pa.scalar(3_600_000_000, pa.duration("us"))
    constants = {
        "ProviderName": "AWS",
        "BillingAccountId": "111111111111",
        "x_Source": "bench",
        "x_Estimated": False,
    }
    with lake.writer() as writer:
        for offset in range(0, rows, _CHUNK):
            table = generate_lines(min(_CHUNK, rows - offset), seed=seed + offset).table
            table = table.rename_columns([LAKE_NAMES[n] for n in table.column_names])
            end = pc.add(table["ChargePeriodStart"], hour)
            columns = {name: table[name] for name in table.column_names}
            columns["ChargePeriodEnd"] = end
            arrays = {
                f.name: columns[f.name]
                if f.name in columns
                else pa.array([constants.get(f.name)] * table.num_rows, f.type)
                for f in LAKE_SCHEMA
            }
            writer.write(key, pa.table(arrays).cast(LAKE_SCHEMA))
        writer.commit(keep=None)


def _allocate(engine: Any, config: Any) -> tuple[Any, float, int]:
    from tasks.chargeback import allocate, lines_from_lake, needed_columns, period_bounds

    start, end = period_bounds("2024-09")
    started = time.perf_counter()
    lines = lines_from_lake(start, end, needed_columns(config), engine=engine)
    allocation = allocate(lines, config, [], "2024-09")
    allocation.reconcile()
    return allocation, time.perf_counter() - started, len(lines)


def compare(rows: int, root: str) -> dict[str, Any]:
    """Write ``rows`` lines under ``root``; allocate them through DuckDB and through Spark."""
    from deployments.bench.chargeback_allocation import _cents, make_config
    from tasks.chargeback import lines_from_lake, needed_columns, period_bounds
    from tasks.cost.lake import Lake, LakeQuery
    from tasks.cost.lake.spark import SparkQuery

    lake = Lake.at(root)
    write_month(lake, rows)
    config = make_config()
    start, end = period_bounds("2024-09")
    with SparkQuery(lake, []) as warm:  # session start and the JVM's first query, untimed
        lines_from_lake(start, end, needed_columns(config), engine=warm)
    with LakeQuery(lake, ["2024-09"]) as duckdb:
        reference, duckdb_s, duckdb_groups = _allocate(duckdb, config)
    with SparkQuery(lake, ["2024-09"]) as spark:
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
        with tempfile.TemporaryDirectory(prefix="traceo-bench-spark-") as root:
            result = compare(rows, root)
    finally:
        stop_spark_sessions()
    spark_s, duckdb_s = result["spark_s"], result["duckdb_s"]
    ratio = duckdb_s / spark_s if spark_s > 0 else float("inf")
    agree = result["identical"]
    note = (
        f"{rows:,} generated lines of 2024-09 in a throw-away lake (written untimed), summed by "
        f"each engine to the rules' columns ({result['groups'][0]:,} groups from Spark, "
        f"{result['groups'][1]:,} from DuckDB), then the same allocate + reconcile; ours = "
        f"pyspark local[2] (session start and a first query untimed), reference = embedded "
        f"DuckDB; source total {result['total']:.2f} USD; cents per team and unallocated "
        f"{'IDENTICAL' if agree else 'DIFFER for ' + str(result['differing']) + ' keys'} "
        f"({result['keys']} keys); times for information only"
    )
    return [Measurement("chargeback_spark", spark_s, duckdb_s, "s", ratio, _TARGET, agree, note)]
