"""The Athena engine's client path against moto: a query started, polled and its pages read back.

moto does not run SQL: it answers with the result queued for the next query. What is tested is
Traceo's side: the SQL it sends, and Athena's text values typed back into Arrow (exact decimals).
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from blocks.cost_engines import AthenaCostTable
from tasks.chargeback import lines_from_lake, period_bounds
from tasks.cost.lake import EngineUnavailableError, open_engine
from tasks.cost.lake.athena import AthenaEngine
from tasks.errors import ConfigurationError
from tasks.settings import get_settings

_TEXT = 2147483647
_COLUMNS = [
    ("billed_cost", "decimal", 38, 12),
    ("effective_cost", "decimal", 38, 12),
    ("charge_period_start", "timestamp", 3, 0),
    ("billing_currency", "varchar", _TEXT, 0),
    ("charge_category", "unknown", 0, 0),  # a NULL column of the grouped query
    ("service_name", "varchar", _TEXT, 0),
    ("service_category", "unknown", 0, 0),
    ("sub_account_id", "unknown", 0, 0),
    ("resource_id", "unknown", 0, 0),
    ("tags", "unknown", 0, 0),
]
_BIG = ("1234567890.123456789012", "1111111111.000000000001", "2024-09-01 00:00:00.000")
_ROWS = [
    [*_BIG, "USD", None, "EC2", None, None, None, None],
    ["0.000000000001", "-2.5", "2024-09-30 23:00:00.000", "USD", *[None] * 6],
]


def _queue(aws, rows):
    info = [
        {"Name": n, "Label": n, "Type": t, "Precision": p, "Scale": s, "Nullable": "UNKNOWN"}
        for n, t, p, s in _COLUMNS
    ]
    header = {"Data": [{"VarCharValue": n} for n, *_ in _COLUMNS]}
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    body = {"results": [{"rows": [header, *data], "column_info": info}]}
    httpx.post(f"{aws.url}/moto-api/static/athena/query-results", json=body).raise_for_status()


def test_a_query_runs_through_athena_and_its_decimals_come_back_exact(aws):
    _queue(aws, _ROWS)
    block = AthenaCostTable(
        database="finops",
        table="cost_lines",
        output_location="s3://athena-results/traceo/",
        region_name="us-east-1",
        endpoint_url=aws.url,
    )
    start, end = period_bounds("2024-09")
    with AthenaEngine(block, ["2024-09"]) as engine:
        keys = ["billing_currency", "service_name"]
        columns = lines_from_lake(start, end, keys, engine=engine)
        [execution] = engine.client.list_query_executions()["QueryExecutionIds"]
        sent = engine.client.get_query_execution(QueryExecutionId=execution)["QueryExecution"]
    assert columns.table.column("billed_cost").to_pylist() == [
        Decimal("1234567890.123456789012"),
        Decimal("0.000000000001"),
    ]
    assert columns.table.column("effective_cost").to_pylist()[1] == Decimal("-2.5")
    assert columns.table.column("charge_period_start").to_pylist()[1] == datetime(
        2024, 9, 30, 23, tzinfo=UTC
    )
    assert columns.table.column("service_name").to_pylist() == ["EC2", None]
    assert sent["QueryExecutionContext"]["Database"] == "finops"
    assert "billing_period IN ('2024-09')" in sent["Query"]
    assert '"AwsDataCatalog"."finops"."cost_lines"' in sent["Query"]


def test_athena_down_is_one_line_naming_the_engine(monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    block = AthenaCostTable(
        database="finops",
        table="cost_lines",
        output_location="s3://athena-results/traceo/",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
    )
    start, end = period_bounds("2024-09")
    with (
        AthenaEngine(block, ["2024-09"]) as engine,
        pytest.raises(EngineUnavailableError) as caught,
    ):
        lines_from_lake(start, end, engine=engine)
    assert str(caught.value) == (
        "cost engine athena (AwsDataCatalog.finops.cost_lines): unavailable "
        "(EndpointConnectionError)"
    )


def test_a_warehouse_engine_without_its_block_is_one_line_naming_it(monkeypatch):
    monkeypatch.setenv("TRACEO_COST_ENGINE", "athena")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError) as caught:
        open_engine(["2024-09"])
    assert str(caught.value) == (
        "cost engine athena: set TRACEO_COST_ENGINE_BLOCK to the saved block of its table"
    )
