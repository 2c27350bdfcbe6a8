"""Move the cost lines an older install kept in the store into the cost lake, losing nothing.

One source and billing period at a time: the store's lines are written into new versions of the
lake partitions they belong to, those partitions are switched, then the lines are deleted from
the store (``id`` up to the last one moved). The lake rows a move replaces are the source's rows
charged at the very instants the store still holds: ingestion deletes a scope's store lines
whenever it writes the scope to the lake, so those instants are never the lake's own, and a
move that is interrupted after the switch and run again replaces its own rows instead of
adding them twice. Ingestion records, tag totals and everything else stay in the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, Table, delete, func, select

from tasks.cost.focus import DECIMAL, STORE_SCHEMA, TIMESTAMP
from tasks.cost.lake.layout import months, partition_keys, to_lake
from tasks.cost.lake.storage import Lake
from tasks.store.cost_models import CostLine

__all__ = ["MovedPeriod", "migrate_store_lines"]

_BATCH = 50_000
_JSON = ("tags", "sku_price_details", "extra")


@dataclass(frozen=True)
class MovedPeriod:
    """The lines of one source and billing period moved from the store into the lake."""

    source: str
    billing_period: str
    rows: int


def migrate_store_lines(engine: Engine, lake: Lake | None = None) -> list[MovedPeriod]:
    """Move every cost line of the store into ``lake`` (default: the configured one).

    Idempotent: a second run finds nothing left to move.
    """
    lake = lake or Lake.from_settings()
    moved = []
    for source, period in _periods(engine):
        moved.append(_move(engine, lake, source, period))
    return moved


def _periods(engine: Engine) -> list[tuple[str, str]]:
    """(source, billing period) pairs with lines in the store."""
    query = select(
        CostLine.source,
        func.min(CostLine.charge_period_start),
        func.max(CostLine.charge_period_start),
    ).group_by(CostLine.source)
    with engine.connect() as conn:
        spans = conn.execute(query).all()
    pairs = []
    for source, first, last in spans:
        first, last = _utc(first), _utc(last)
        pairs += [(source, period) for period in months(first, last + timedelta(microseconds=1))]
    return sorted(set(pairs))


def _move(engine: Engine, lake: Lake, source: str, period: str) -> MovedPeriod:
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    window = (
        (CostLine.source == source)
        & (CostLine.charge_period_start >= start)
        & (CostLine.charge_period_start < end)
    )
    with engine.connect() as conn:
        last_id = conn.execute(select(func.max(CostLine.id)).where(window)).scalar()
    if last_id is None:
        return MovedPeriod(source, period, 0)
    rows, instants = 0, set()
    with lake.writer() as writer:
        for lines in _store_batches(engine, window & (CostLine.id <= last_id)):
            rows += lines.num_rows
            instants.update(lines["charge_period_start"].to_pylist())
            for key, part in partition_keys(to_lake(lines, source)):
                writer.write(key, part)
        replaced = (pc.field("x_Source") == source) & pc.field("ChargePeriodStart").isin(
            pa.array(sorted(instants), TIMESTAMP)
        )
        for key in lake.partitions([period]):
            manifest = lake.manifest(key)
            if manifest is not None and source in manifest.sources:
                writer.touch(key)
        writer.commit(keep=~replaced)
    with engine.begin() as conn:
        conn.execute(delete(CostLine).where(window & (CostLine.id <= last_id)))
    return MovedPeriod(source, period, rows)


def _store_batches(engine: Engine, where: Any) -> Iterator[pa.Table]:
    """The store's lines matching ``where`` as :data:`STORE_SCHEMA` tables."""
    table = cast(Table, CostLine.__table__)
    columns = [table.c[name] for name in STORE_SCHEMA.names]
    query = select(*columns).where(where).order_by(CostLine.id)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(query)
        for chunk in result.partitions(_BATCH):
            by_column = list(zip(*chunk, strict=True))
            arrays = [_array(f, values) for f, values in zip(STORE_SCHEMA, by_column, strict=True)]
            yield pa.Table.from_arrays(arrays, schema=STORE_SCHEMA)


def _array(field: pa.Field, values: tuple[Any, ...]) -> pa.Array:
    if field.type == TIMESTAMP:
        return pa.array([None if v is None else _utc(v) for v in values], TIMESTAMP)
    if field.type == DECIMAL:
        return pa.array([None if v is None else Decimal(v) for v in values], DECIMAL)
    if field.name in _JSON:
        return pa.array([_json_text(v) for v in values], pa.string())
    return pa.array(values, field.type)


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
