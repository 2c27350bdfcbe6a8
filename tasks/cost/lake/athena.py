"""Cost queries on Amazon Athena: the statements transpiled to Athena's SQL over a table of lake
rows (the :class:`blocks.cost_engines.AthenaCostTable` block's).

A query is started, polled until it ends, and its result pages read back; Athena returns every
value as text with the column's type beside it, which :func:`_column` turns back into Arrow
(``decimal(p, s)`` stays an exact decimal).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from blocks.cost_engines import AthenaCostTable
from tasks.cost.lake.engines import EngineUnavailableError, WarehouseEngine
from tasks.cost.lake.storage import LakeDataError
from tasks.errors import ConfigurationError

__all__ = ["AthenaEngine"]

_TIMEOUT_SECONDS = 1800.0
_RUNNING = {"QUEUED", "RUNNING"}


class AthenaEngine(WarehouseEngine):
    """The block's Athena table behind ``cost_lines``."""

    name = "athena"
    block_type = AthenaCostTable

    def run(self, sql: str) -> pa.Table:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._run(sql)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            raise ConfigurationError(
                f"cost engine athena ({self.where}): request refused ({code})"
            ) from None
        except BotoCoreError as exc:  # no endpoint, no connection, timeouts
            raise EngineUnavailableError(
                f"cost engine athena ({self.where}): unavailable ({type(exc).__name__})"
            ) from None

    def _run(self, sql: str) -> pa.Table:
        block = self.block
        started = self.client.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": block.database, "Catalog": block.catalog},
            WorkGroup=block.workgroup,
            ResultConfiguration={"OutputLocation": block.output_location},
        )
        query_id = started["QueryExecutionId"]
        self._wait(query_id)
        pages = self.client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        columns: list[dict[str, Any]] = []
        rows: list[list[str | None]] = []
        for number, page in enumerate(pages):
            result = page["ResultSet"]
            columns = columns or result["ResultSetMetadata"]["ColumnInfo"]
            data = result["Rows"][1:] if number == 0 else result["Rows"]  # the header row
            rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in data]
        return pa.table(
            {
                info["Name"]: _column(info, [row[i] for row in rows])
                for i, info in enumerate(columns)
            }
        )

    def _wait(self, query_id: str) -> None:
        deadline = time.monotonic() + _TIMEOUT_SECONDS
        pause = 0.2
        while True:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)
            status = execution["QueryExecution"]["Status"]
            if status["State"] not in _RUNNING:
                break
            if time.monotonic() > deadline:
                raise EngineUnavailableError(
                    f"cost engine athena ({self.where}): query {query_id} still running after "
                    f"{_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        if status["State"] != "SUCCEEDED":
            reason = status.get("StateChangeReason", "no reason given")
            raise LakeDataError(
                f"cost engine athena ({self.where}): query {query_id} {status['State']} ({reason})"
            )


def _column(info: dict[str, Any], values: list[str | None]) -> pa.Array:
    """Athena's text values of one column as Arrow, by the column's type."""
    kind = info["Type"].lower()
    if kind == "decimal":
        decimals = [None if v is None else Decimal(v) for v in values]
        return pa.array(decimals, pa.decimal128(info["Precision"], info["Scale"]))
    if kind in ("double", "float", "real"):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kind in ("bigint", "integer", "int", "smallint", "tinyint"):
        return pa.array([None if v is None else int(v) for v in values], pa.int64())
    if kind == "boolean":
        return pa.array([None if v is None else v == "true" for v in values], pa.bool_())
    if kind.startswith("timestamp"):
        instants = [None if v is None else _instant(v) for v in values]
        return pa.array(instants, pa.timestamp("us", "UTC"))
    return pa.array(values, pa.string())


def _instant(text: str) -> datetime:
    """Athena's ``2024-09-01 00:00:00.000`` (UTC) or ``... UTC`` as an aware datetime."""
    moment = datetime.fromisoformat(text.removesuffix(" UTC"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
