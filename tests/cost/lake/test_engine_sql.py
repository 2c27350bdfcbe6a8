"""Every cost query as BigQuery and Athena receive it, compared with the snapshots beside.

There is no cloud here: the SQL text each engine would run is what is tested. The queries are
recorded while the jobs' own functions (monitor series, purchases, root-cause breakdowns,
chargeback's inputs) run on DuckDB over a small lake. A changed query fails until the snapshots
are regenerated on purpose: ``TRACEO_TEST_UPDATE_SNAPSHOTS=1 uv run pytest -n 0 <this file>``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from blocks.cost_engines import AthenaCostTable, BigQueryCostTable
from tasks.chargeback import lines_from_lake, period_bounds
from tasks.cost.anomaly.series import load_breakdown, load_charges, load_monitor_series
from tasks.cost.lake import Lake, LakeQuery
from tasks.cost.lake.athena import AthenaEngine
from tasks.cost.lake.bigquery import BigQueryEngine
from tasks.cost.lake.engines import WarehouseEngine
from tasks.store import get_engine
from tests.cost.anomaly.helpers import EC2_US, START, cost_line, insert_lines, monitor, scenario

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("TRACEO_TEST_UPDATE_SNAPSHOTS") == "1"
LAST = START + timedelta(days=13)
ENGINES: dict[str, WarehouseEngine] = {
    "bigquery": BigQueryEngine(
        BigQueryCostTable(
            project="acme-billing",
            dataset="finops",
            table="cost_lines",
            billing_period_column="billing_period",
        ),
        ["2026-06", "2026-07"],
    ),
    "athena": AthenaEngine(
        AthenaCostTable(
            database="finops", table="cost_lines", output_location="s3://acme-athena/traceo/"
        ),
        ["2026-06", "2026-07"],
    ),
}


class Recorder:
    """A lake engine that answers with DuckDB and keeps every statement it was given."""

    name = "recorder"

    def __init__(self, duckdb: LakeQuery) -> None:
        self.duckdb = duckdb
        self.statements: list[tuple[str, Any]] = []
        self.label = ""

    def frame(self, stmt: Any) -> Any:
        self.statements.append((self.label, stmt))
        return self.duckdb.frame(stmt)

    def arrow(self, stmt: Any) -> Any:
        self.statements.append((self.label, stmt))
        return self.duckdb.arrow(stmt)

    def close(self) -> None:
        self.duckdb.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _every_query() -> list[tuple[str, Any]]:
    store = get_engine()
    rows = scenario(days=14)
    rows.append(cost_line(START, 100.0, EC2_US, category="Purchase", charge_frequency="One-Time"))
    insert_lines(store, rows)
    with Recorder(LakeQuery(Lake.from_settings())) as lines:
        for spec in (
            monitor("total", "total"),
            monitor("services", "service", filter={"provider": ["AWS"]}),
            monitor(
                "accounts",
                "sub_account",
                metric="BilledCost",
                filter={"billing_account": ["999999999999"], "charge_category": ["Usage"]},
            ),
            monitor("teams", "tag", tag="team"),
        ):
            lines.label = f"{spec.name}: daily series"
            series = load_monitor_series(store, spec, START, LAST, lines=lines)
            lines.label = f"{spec.name}: purchases"
            load_charges(store, spec, START, LAST, lines=lines)
            lines.label = f"{spec.name}: root-cause breakdown"
            load_breakdown(
                store, spec, series.values_of[0], series.currencies[0], START, LAST, lines=lines
            )
        start, end = period_bounds("2026-07")
        lines.label = "chargeback: every line of the period"
        lines_from_lake(start, end, engine=lines)  # type: ignore[arg-type]
        lines.label = "chargeback: lines summed to the rules' columns"
        keys = ["billing_currency", "service_name", "tags", "sub_account_id"]
        lines_from_lake(start, end, keys, engine=lines)  # type: ignore[arg-type]
    return lines.statements


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_query_compiles_to_the_snapshot_of_its_engine(name):
    engine = ENGINES[name]
    queries = _every_query()
    assert len(queries) == 14
    text = "".join(f"-- {label}\n{engine.sql(stmt)};\n\n" for label, stmt in queries)
    for _label, stmt in queries:  # each one parses back in its dialect
        sqlglot.parse_one(engine.sql(stmt), read=name)
    path = SNAPSHOTS / f"{name}.sql"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with TRACEO_TEST_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} SQL changed: review the diff, then TRACEO_TEST_UPDATE_SNAPSHOTS=1 regenerates it"
    )
