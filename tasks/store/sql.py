"""SQL expressions that differ between the store's backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, cast, extract, func
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["dialect_insert", "epoch_seconds"]


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
