"""SQL expressions that differ between the store's backends (SQLite and PostgreSQL) and DuckDB."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Insert, Text, Update, cast, extract, func
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from tasks.store.models import UTCDateTime

__all__ = [
    "dialect_insert",
    "epoch_micros",
    "epoch_seconds",
    "execute_many",
    "joined_text",
    "json_text",
]


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


def joined_text(dialect: str, column: Any) -> ColumnElement[Any]:
    """An aggregate: a group's values of ``column`` as one comma-separated text (any order)."""
    if dialect == "sqlite":
        return func.group_concat(column, ",")
    return func.string_agg(cast(column, Text), ",")


def dialect_insert(dialect: str) -> Any:
    """The dialect's ``insert`` (both have ``on_conflict_do_update`` and ``excluded``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert
    raise NotImplementedError(f"upsert is not implemented for {dialect}")  # pragma: no cover


def execute_many(conn: Connection, stmt: Insert | Update, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run ``stmt`` (an INSERT, upsert or UPDATE) once per row, as one driver executemany.

    SQLAlchemy builds and converts a parameter set per row (~20 µs each, most of a rollup
    rebuild's time); here each parameter's conversion is looked up once and applied to its
    values, and the statement is compiled once per dialect and set of keys. Every row has the
    keys of the first: for an INSERT, every column that has a default too (defaults are not
    applied here); for an UPDATE, the names of its ``bindparam()`` s.

    Returns the driver's row count: the rows inserted or updated (an ``ON CONFLICT DO NOTHING``
    row that was skipped counts 0).
    """
    if not rows:
        return 0
    sql, names, converters, positional = _prepared(stmt, conn.dialect, tuple(rows[0]))
    columns = []
    for name, convert in zip(names, converters, strict=True):
        values = [row[name] for row in rows]
        columns.append(values if convert is None else [convert(v) for v in values])
    params: list[Any] = list(zip(*columns, strict=True))
    if not positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    return int(conn.exec_driver_sql(sql, params).rowcount)


_Prepared = tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...], bool]


@functools.lru_cache(maxsize=64)
def _prepared(stmt: Insert | Update, dialect: Dialect, keys: tuple[str, ...]) -> _Prepared:
    """``stmt``'s SQL for ``dialect``, its parameter names in order, each one's conversion."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.params)
    if set(names) != set(keys):
        raise ValueError(f"rows must give exactly the columns {sorted(names)}, not {sorted(keys)}")
    converters = []
    for name in names:
        bind_type = compiled.binds[name].type
        convert = bind_type.dialect_impl(dialect).bind_processor(dialect)
        if dialect.name == "sqlite" and isinstance(bind_type, UTCDateTime):
            convert = _sqlite_utc_text  # what SQLAlchemy stores, without its per-value layers
        converters.append(convert)
    return str(compiled), names, tuple(converters), bool(compiled.positional)


class json_text(FunctionElement[str]):
    """The JSON text of ``key``'s value in a JSON object column (``'"prod"'``, ``'5'``,
    ``'true'``), NULL where the key is absent or the column is not an object.

    One form for the store and the cost lake: PostgreSQL's ``json -> key``; SQLite (3.38+) and
    DuckDB share ``-> '$."key"'``. Keys holding ``"`` or ``\\`` are refused (no cloud allows
    them in tag keys).
    """

    type = Text()
    inherit_cache = True
    # The key is part of the SQL, so it must be part of the statement cache's key: without it a
    # statement compiled for one key is reused for the same statement on another key.
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("json_key", InternalTraversal.dp_string),
    ]

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
    # No parentheses inside CAST: the form PostgreSQL gives back for an index on it, so that
    # Alembic's autogenerate finds the model's indexes over json_text equal to the stored ones.
    return f"CAST({compiler.process(column, **kw)} -> {_quoted(element.json_key)} AS TEXT)"


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
