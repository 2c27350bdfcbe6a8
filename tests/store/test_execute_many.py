"""One driver executemany for bulk writes: the same rows as SQLAlchemy writes, defaults required."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from tasks.store.models import CheckResult
from tasks.store.sql import execute_many

AT = datetime(2026, 11, 1, 12, 0, 5, 250_000, tzinfo=UTC)


def row(check: str) -> dict:
    return {
        "check_id": check,
        "region": "eu-west-1",
        "scheduled_at": AT.replace(microsecond=0),  # whole seconds are stored with .000000 too
        "started_at": AT,
        "verdict": "pass",
        "duration_ms": 12.5,
        "attempts": 1,
        "detail": {"steps": [1, 2]},
        "simulated": True,
    }


def test_rows_read_back_as_sqlalchemy_writes_them(store_engine) -> None:
    with store_engine.begin() as conn:
        execute_many(conn, insert(CheckResult), [row("fast")])
        conn.execute(insert(CheckResult), [row("orm")])
    columns = [c for c in CheckResult.__table__.c if c.name not in ("id", "check_id")]
    with store_engine.connect() as conn:
        got = {r[0]: tuple(r[1:]) for r in conn.execute(select(CheckResult.check_id, *columns))}
    assert got["fast"] == got["orm"]
    assert got["fast"][columns.index(CheckResult.__table__.c.started_at)] == AT
    with store_engine.connect() as conn:  # as stored: SQLite keeps datetimes as text
        stored = conn.exec_driver_sql(
            "SELECT check_id, CAST(scheduled_at AS TEXT), CAST(started_at AS TEXT) "
            "FROM check_results"
        )
        text = {r[0]: r[1:] for r in stored}
    assert text["fast"] == text["orm"]


def test_a_naive_datetime_is_refused(store_engine) -> None:
    naive = {**row("naive"), "started_at": AT.replace(tzinfo=None)}
    with pytest.raises(Exception, match="naive datetime"), store_engine.begin() as conn:
        execute_many(conn, insert(CheckResult), [naive])


def test_rows_without_a_column_that_has_a_default_are_refused(store_engine) -> None:
    partial = row("x")
    del partial["attempts"]
    with store_engine.begin() as conn, pytest.raises(ValueError, match="attempts"):
        execute_many(conn, insert(CheckResult), [partial])
