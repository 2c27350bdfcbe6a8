"""Rebuilding rollups from raw results: equal to the incremental ones, resumable, idempotent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select

from tasks.store.check_results import upsert_check_results
from tasks.store.models import CheckResult
from tasks.store.rebuild import rebuild_rollups
from tasks.store.rollup_models import CheckRollup

T0 = datetime(2026, 11, 1, tzinfo=UTC)
END = T0 + timedelta(days=1)


def rows() -> list[dict]:
    out = []
    for minute in range(0, 1440, 7):
        for region in ("eu-west-1", "us-east-1"):
            at = T0 + timedelta(minutes=minute)
            out.append(
                {
                    "check_id": "api-health",
                    "region": region,
                    "scheduled_at": at,
                    "started_at": at + timedelta(seconds=3),
                    "verdict": "fail" if minute % 5 == 0 else "pass",
                    "duration_ms": 100.0 + minute % 300,
                    "attempts": 1,
                    "detail": {},
                    "simulated": False,
                }
            )
    return out


def rollups(engine) -> set[tuple]:
    table = CheckRollup.__table__
    with engine.connect() as conn:
        found = conn.execute(select(table)).mappings()
        return {json.dumps(dict(r), sort_keys=True) for r in found}


def test_a_rebuild_equals_the_rollups_written_with_the_results(store_engine) -> None:
    upsert_check_results(store_engine, rows())
    incremental = rollups(store_engine)
    with store_engine.begin() as conn:
        conn.execute(delete(CheckRollup))

    report = rebuild_rollups(store_engine, T0, END)

    assert rollups(store_engine) == incremental
    assert report.minutes == len(rows())  # one result per minute bucket here
    assert rebuild_rollups(store_engine, T0, END).minutes == report.minutes  # again: the same
    assert rollups(store_engine) == incremental


def test_an_interrupted_rebuild_resumes_and_counts_nothing_twice(store_engine) -> None:
    with store_engine.begin() as conn:  # a bulk load that wrote no rollups
        conn.execute(insert(CheckResult), rows())
    steps: list[int] = []

    def crash_after_two(done: int, _end: int) -> None:
        steps.append(done)
        if len(steps) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rebuild_rollups(store_engine, T0, END, on_step=crash_after_two)
    report = rebuild_rollups(store_engine, T0, END)

    assert report.resumed_at == steps[-1] == int((T0 + timedelta(hours=12)).timestamp())
    rebuilt = rollups(store_engine)
    with store_engine.begin() as conn:
        conn.execute(delete(CheckRollup))
    upsert_check_results(store_engine, rows())  # the reference: rollups written with results
    assert rebuilt == rollups(store_engine)


def test_a_rebuild_drops_rollups_of_results_that_are_gone(store_engine) -> None:
    upsert_check_results(store_engine, rows())
    with store_engine.begin() as conn:
        conn.execute(delete(CheckResult).where(CheckResult.region == "us-east-1"))

    rebuild_rollups(store_engine, T0 - timedelta(minutes=1), END + timedelta(minutes=1))

    assert {json.loads(r)["region"] for r in rollups(store_engine)} == {"eu-west-1"}
