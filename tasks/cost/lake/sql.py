"""The lake's queries as SQL for other engines: the DuckDB SQL, transpiled by SQLGlot.

Every query over cost lines is written once, as a SQLAlchemy Core statement against
:class:`tasks.store.CostLine`: the store runs it, and DuckDB runs it over the lake compiled as it
is (:func:`tasks.cost.lake.query.compile_for_duckdb`). For Spark, BigQuery and Athena the same
statement is compiled the same way and transpiled by SQLGlot from DuckDB's dialect (so NULL
ordering and casts keep DuckDB's meaning) into the engine's. Ibis was the other route: it would
mean writing every query a second time as an Ibis expression beside the statement the store
runs, and Ibis compiles through SQLGlot anyway; the statements stay the single source.

Parameters become typed literals in the tree (instants as ``TIMESTAMP WITH TIME ZONE`` in UTC),
so the SQL text is complete: what the snapshot tests compare, and what an engine receives.
``cost_lines`` is defined in a ``WITH`` over the engine's table of lake rows (FOCUS column names,
:data:`tasks.cost.lake.layout.LAKE_SCHEMA`): the columns the query uses, renamed to the store's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlglot
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Select
from sqlglot import exp

from tasks.cost.lake.layout import LAKE_SCHEMA, STORE_NAMES

__all__ = ["DIALECTS", "table", "transpile"]

# Traceo's engine name -> SQLGlot's dialect.
DIALECTS = {"spark": "spark", "bigquery": "bigquery", "athena": "athena"}
_NAMED = sqlite.dialect(paramstyle="named")  # what DuckDB runs, with named parameters


def table(*parts: str) -> exp.Table:
    """A quoted table name from ``catalog, db, name`` (the last one, two or three)."""
    names = [exp.to_identifier(p, quoted=True) for p in parts]
    catalog, db, name = [None] * (3 - len(names)) + names
    return exp.Table(this=name, db=db, catalog=catalog)


def transpile(
    stmt: Select[Any],
    dialect: str,
    source: exp.Table,
    period_column: str | None = None,
    periods: Iterable[str] | None = None,
) -> str:
    """``stmt`` in ``dialect`` with ``cost_lines`` over ``source``'s lake rows.

    With ``period_column`` and ``periods``, only those billing periods of ``source`` are read
    (its partitions, on engines that prune by partition column).
    """
    compiled = stmt.compile(dialect=_NAMED, compile_kwargs={"render_postcompile": True})
    tree = sqlglot.parse_one(str(compiled), read="duckdb")
    params = compiled.params

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in params:
            return _literal(params[node.name])
        if isinstance(node, exp.JSONExtract) and dialect in _JSON_TEXT:
            return _JSON_TEXT[dialect](node)
        return node

    tree = tree.transform(bind)
    used = {c.name for c in tree.find_all(exp.Column) if c.table == "cost_lines"}
    columns = [
        exp.alias_(exp.column(exp.to_identifier(name, quoted=True)), STORE_NAMES[name])
        for name in LAKE_SCHEMA.names
        if STORE_NAMES[name] in used
    ]
    lines = exp.select(*columns).from_(source)
    if period_column and periods is not None:
        wanted: list[exp.Expression] = [exp.Literal.string(p) for p in sorted(set(periods))]
        lines = lines.where(
            exp.column(exp.to_identifier(period_column)).isin(*wanted or [exp.null()])
        )
    assert isinstance(tree, exp.Query)
    return tree.with_("cost_lines", as_=lines).sql(dialect=DIALECTS[dialect], pretty=True)


def _json_path(node: exp.JSONExtract) -> exp.Literal:
    """The key path of DuckDB's ``->`` as ``$["a"]["b"]`` (json_text refuses keys with ``"``)."""
    keys = [part.this for part in node.expression.expressions if isinstance(part, exp.JSONPathKey)]
    return exp.Literal.string("$" + "".join(f'["{key}"]' for key in keys))


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


# DuckDB's ``json -> path`` is the value's JSON text (``'"prod"'``, what the series decode);
# Spark's GET_JSON_OBJECT and Athena's CAST(JSON_EXTRACT(..) AS VARCHAR) unquote strings, so
# those two get a form that keeps the text. BigQuery's JSON_EXTRACT already keeps it.
_JSON_TEXT = {
    "spark": lambda node: _call(
        "TO_JSON", _call("VARIANT_GET", _call("PARSE_JSON", node.this), _json_path(node))
    ),
    "athena": lambda node: _call("JSON_FORMAT", _call("JSON_EXTRACT", node.this, _json_path(node))),
}


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        text = exp.Literal.string(moment.isoformat(sep=" "))
        return exp.cast(text, exp.DataType.Type.TIMESTAMPTZ)
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"no SQL literal for a {type(value).__name__} parameter")
