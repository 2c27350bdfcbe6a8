"""SQL expressions that differ between the store's backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Connection, Insert, cast, extract, func
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["dialect_insert", "epoch_seconds", "execute_many"]


def epoch_seconds(dialect: str, column: Any) -> ColumnElement[Any]:
    """Whole epoch seconds of a UTC datetime column (truncated, as the SLO engine counts)."""
    if dialect == "sqlite":  # stored as naive UTC text
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(extract("epoch", column)), BigInteger)


def dialect_insert(dialect: str) -> Any:
    """The dialect's ``insert`` (both have ``on_conflict_do_update`` and ``excluded``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert
    raise NotImplementedError(f"upsert is not implemented for {dialect}")  # pragma: no cover


def execute_many(conn: Connection, stmt: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an INSERT (or upsert) of ``stmt``'s table once per row, as one driver executemany.

    SQLAlchemy builds and converts a parameter set per row (~20 µs each, most of a rollup
    rebuild's time); here each column's conversion is looked up once and applied to its values.
    Every row has the keys of the first, including every column that has a default (defaults
    are not applied here).
    """
    if not rows:
        return
    keys = list(rows[0])
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, column_keys=keys, for_executemany=True)
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.params)
    if set(names) != set(keys):
        raise ValueError(f"rows must give exactly the columns {sorted(names)}, not {sorted(keys)}")
    columns = {}
    for name in names:
        convert = stmt.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[name] for row in rows]
        columns[name] = values if convert is None else [convert(v) for v in values]
    params: list[Any] = list(zip(*columns.values(), strict=True))
    if not compiled.positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    conn.exec_driver_sql(str(compiled), params)
