from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from tasks.probes.http import ProbeResult
from tasks.store import CheckResult, session_scope
from tasks.store.check_results import fetch_results, upsert_check_results

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def result(
    check_id: str = "api-health", region: str = "eu-west-1", minute: int = 0, **overrides: object
) -> ProbeResult:
    values: dict = dict(
        check_id=check_id,
        region=region,
        scheduled_at=T0 + timedelta(minutes=minute),
        started_at=T0 + timedelta(minutes=minute, seconds=1, microseconds=500_000),
        verdict="pass",
        duration_ms=12.5,
        status_code=200,
        failing_step=None,
        error=None,
        attempts=1,
        detail={"type": "http", "timings": {"total": 12.5}},
        cert_expires_at=None,
    )
    values.update(overrides)
    return ProbeResult(**values)


def count(engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(CheckResult)) or 0)


def test_upsert_writes_every_field(store_engine) -> None:
    expires = T0 + timedelta(days=30)
    written = upsert_check_results(
        store_engine,
        [
            result(
                verdict="fail",
                error="boom",
                failing_step="log in",
                attempts=3,
                cert_expires_at=expires,
                status_code=503,
            )
        ],
        flow_run_id="run-1",
    )
    assert written == 1
    with session_scope(store_engine) as session:
        row = session.scalars(select(CheckResult)).one()
    assert (row.check_id, row.region, row.verdict, row.error) == (
        "api-health",
        "eu-west-1",
        "fail",
        "boom",
    )
    assert (row.failing_step, row.attempts, row.status_code) == ("log in", 3, 503)
    assert row.scheduled_at == T0 and row.cert_expires_at == expires
    assert row.detail == {"type": "http", "timings": {"total": 12.5}}
    assert row.flow_run_id == "run-1" and row.simulated is False


def test_rerun_of_a_slot_replaces_and_never_duplicates(store_engine) -> None:
    first = [result(check_id=f"c{i}") for i in range(3)]
    upsert_check_results(store_engine, first, flow_run_id="run-1")
    rerun = [replace(r, verdict="fail", duration_ms=None) for r in first]
    assert upsert_check_results(store_engine, rerun, flow_run_id="run-2") == 3
    assert count(store_engine) == 3
    with session_scope(store_engine) as session:
        rows = session.scalars(select(CheckResult)).all()
    assert {(r.verdict, r.duration_ms, r.flow_run_id) for r in rows} == {("fail", None, "run-2")}


def test_other_slots_and_regions_add_rows(store_engine) -> None:
    upsert_check_results(store_engine, [result(), result(minute=1), result(region="us-east-1")])
    assert count(store_engine) == 3


def test_duplicate_keys_in_one_call_keep_the_last(store_engine) -> None:
    written = upsert_check_results(store_engine, [result(), result(verdict="degraded")])
    assert written == 1 and count(store_engine) == 1
    with session_scope(store_engine) as session:
        assert session.scalar(select(CheckResult.verdict)) == "degraded"


def test_mappings_are_accepted_and_marked_simulated(store_engine) -> None:
    row = {
        "check_id": "sim",
        "region": "eu-west-1",
        "scheduled_at": T0,
        "started_at": T0,
        "verdict": "pass",
        "duration_ms": 80.0,
    }
    assert upsert_check_results(store_engine, [row], simulated=True) == 1
    with session_scope(store_engine) as session:
        stored = session.scalars(select(CheckResult)).one()
    assert stored.simulated is True and stored.attempts == 1 and stored.detail == {}


def test_incomplete_results_are_refused(store_engine) -> None:
    with pytest.raises(ValueError, match="lacks started_at, verdict"):
        upsert_check_results(store_engine, [{"check_id": "x", "region": "r", "scheduled_at": T0}])
    assert upsert_check_results(store_engine, []) == 0


def test_fetch_returns_columns_filtered_by_time_check_and_region(store_engine) -> None:
    upsert_check_results(
        store_engine,
        [
            result("a", "eu-west-1", 0),
            result("a", "us-east-1", 1, verdict="fail", duration_ms=None),
            result("b", "eu-west-1", 2, verdict="degraded"),
            result("a", "eu-west-1", 10),  # outside the window
            result("c", "eu-west-1", 3),  # another check
        ],
    )
    upsert_check_results(store_engine, [result("a", "eu-west-1", 4)], simulated=True)
    cols = fetch_results(store_engine, ["a", "b"], T0, T0 + timedelta(minutes=10))
    assert len(cols) == 4
    assert cols.check_id.tolist() == ["a", "a", "b", "a"]
    assert cols.region.tolist() == ["eu-west-1", "us-east-1", "eu-west-1", "eu-west-1"]
    assert cols.verdict.tolist() == ["pass", "fail", "degraded", "pass"]
    assert cols.started_at.dtype == np.int64
    expected = [int((T0 + timedelta(minutes=m, seconds=1)).timestamp()) for m in (0, 1, 2, 4)]
    assert cols.started_at.tolist() == expected  # whole seconds (the .5 s is floored)
    assert cols.duration_ms.dtype == np.float64 and np.isnan(cols.duration_ms[1])
    assert cols.duration_ms[0] == 12.5
    assert cols.simulated.dtype == bool and cols.simulated.tolist() == [False, False, False, True]
    assert cols.check_id.dtype == object and cols.verdict.dtype == object

    eu = fetch_results(store_engine, ["a"], T0, T0 + timedelta(hours=1), regions=["eu-west-1"])
    assert eu.started_at.tolist() == [expected[0], expected[3], expected[3] + 360]
    every = fetch_results(store_engine, None, T0, T0 + timedelta(hours=1))
    assert len(every) == 6
    # the end is exclusive, the start inclusive
    second_start = T0 + timedelta(minutes=1, seconds=1, microseconds=500_000)
    edge = fetch_results(store_engine, None, second_start, second_start + timedelta(minutes=1))
    assert edge.check_id.tolist() == ["a"] and edge.region.tolist() == ["us-east-1"]


def test_fetch_of_nothing_returns_empty_typed_columns(store_engine) -> None:
    cols = fetch_results(store_engine, ["none"], T0, T0 + timedelta(days=1))
    assert len(cols) == 0
    assert cols.started_at.dtype == np.int64 and cols.duration_ms.dtype == np.float64
    assert cols.simulated.dtype == bool


def test_bulk_upsert_of_many_rows_replaces_on_rerun_and_fetches_every_row(store_engine) -> None:
    n = 20_000  # several insert batches; the speed itself is measured by `traceo bench`
    rows = [
        {
            "check_id": f"check-{i % 50:02d}",
            "region": "eu-west-1",
            "scheduled_at": T0 + timedelta(minutes=i // 50),
            "started_at": T0 + timedelta(minutes=i // 50, seconds=2),
            "verdict": "pass" if i % 97 else "fail",
            "duration_ms": float(i % 300),
        }
        for i in range(n)
    ]
    assert upsert_check_results(store_engine, rows, simulated=True) == n
    assert upsert_check_results(store_engine, rows[: n // 2], simulated=True) == n // 2  # rerun
    cols = fetch_results(store_engine, None, T0, T0 + timedelta(days=30))
    assert len(cols) == n and count(store_engine) == n
    assert int((cols.verdict == "fail").sum()) == len([i for i in range(n) if i % 97 == 0])
