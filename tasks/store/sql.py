"""SQL expressions that differ between the store's backends (SQLite and PostgreSQL) and DuckDB."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Insert, Text, cast, extract, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from tasks.store.models import UTCDateTime

__all__ = ["dialect_insert", "epoch_micros", "epoch_seconds", "execute_many", "json_text"]


def epoch_seconds(dialect: str, column: Any) -> ColumnElement[Any]:
    """Whole epoch seconds of a UTC datetime column (truncated, as the SLO engine counts)."""
    if dialect == "sqlite":  # stored as naive UTC text
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(extract("epoch", column)), BigInteger)


def epoch_micros(dialect: str, column: Any) -> ColumnElement[Any]:
    """Whole epoch microseconds of a UTC datetime column (exact: the store keeps microseconds)."""
    if dialect == "sqlite":  # naive UTC text, always with six fraction digits (see below)
        micros = cast(func.substr(column, 21, 6), BigInteger)
        return cast(func.strftime("%s", column), BigInteger) * 1_000_000 + micros
    return cast(func.floor(extract("epoch", column) * 1_000_000), BigInteger)


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
        column_type = stmt.table.c[name].type
        convert = column_type.dialect_impl(dialect).bind_processor(dialect)
        if dialect.name == "sqlite" and isinstance(column_type, UTCDateTime):
            convert = _sqlite_utc_text  # what SQLAlchemy stores, without its per-value layers
        values = [row[name] for row in rows]
        columns[name] = values if convert is None else [convert(v) for v in values]
    params: list[Any] = list(zip(*columns.values(), strict=True))
    if not compiled.positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    conn.exec_driver_sql(str(compiled), params)


class json_text(FunctionElement[str]):
    """The JSON text of ``key``'s value in a JSON object column (``'"prod"'``, ``'5'``,
    ``'true'``), NULL where the key is absent or the column is not an object.

    One form for the store and the cost lake: PostgreSQL's ``json -> key``; SQLite (3.38+) and
    DuckDB share ``-> '$."key"'``. Keys holding ``"`` or ``\\`` are refused (no cloud allows
    them in tag keys).
    """

    type = Text()
    inherit_cache = True

    def __init__(self, column: Any, key: str) -> None:
        if '"' in key or "\\" in key:
            raise ValueError(f"a JSON key may not contain a quote or a backslash: {key!r}")
        self.json_key = key
        super().__init__(column)


@compiles(json_text)
def _json_text_path(element: json_text, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    path = _quoted(f'$."{element.json_key}"')
    return f"CAST(({compiler.process(column, **kw)} -> {path}) AS TEXT)"


@compiles(json_text, "postgresql")
def _json_text_key(element: json_text, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"CAST(({compiler.process(column, **kw)} -> {_quoted(element.json_key)}) AS TEXT)"


def _quoted(text: str) -> str:
    """A SQL string literal (inline, not a parameter: GROUP BY must repeat the same expression
    for DuckDB to match it with the SELECT's)."""
    return "'" + text.replace("'", "''") + "'"


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """A UTC datetime as SQLite's DATETIME text (``2024-09-01 12:00:00.000000``)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use timezone-aware UTC")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
