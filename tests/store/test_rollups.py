"""Rollups follow the raw results they summarise: reruns, late and moved results, sealing."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, text

from tasks.store.check_results import upsert_check_results
from tasks.store.models import CheckResult
from tasks.store.rollup_models import CheckRollup, StoreMark
from tasks.store.rollups import RAW_CUTOFF_MARK, refresh_rollups

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
EPOCH0 = int(T0.timestamp())


def row(minute: int, verdict: str = "pass", region: str = "eu-west-1", **extra: object) -> dict:
    values: dict = {
        "check_id": "api-health",
        "region": region,
        "scheduled_at": T0 + timedelta(minutes=minute),
        "started_at": T0 + timedelta(minutes=minute, seconds=2),
        "verdict": verdict,
        "duration_ms": 120.0,
    }
    values.update(extra)
    return values


def buckets(engine, resolution: int) -> dict[tuple[str, int], Counter]:
    """(region, bucket start - T0) -> verdict counts, read back from the rollups."""
    table = CheckRollup.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.resolution == resolution)).mappings()
        return {
            (r["region"], r["bucket_start"] - EPOCH0): Counter(
                {
                    v: r[f"{v}_count"]
                    for v in ("pass", "degraded", "fail", "error")
                    if r[f"{v}_count"]
                }
            )
            for r in rows
        }


def test_each_resolution_counts_its_results_once(store_engine) -> None:
    upsert_check_results(
        store_engine,
        [row(0), row(1, "fail"), row(1, region="us-east-1"), row(61, "degraded")],
    )

    assert buckets(store_engine, 60) == {
        ("eu-west-1", 0): Counter(passed := {"pass": 1}),
        ("eu-west-1", 60): Counter({"fail": 1}),
        ("us-east-1", 60): Counter(passed),
        ("eu-west-1", 3660): Counter({"degraded": 1}),
    }
    assert buckets(store_engine, 3600) == {
        ("eu-west-1", 0): Counter({"pass": 1, "fail": 1}),
        ("us-east-1", 0): Counter(passed),
        ("eu-west-1", 3600): Counter({"degraded": 1}),
    }
    assert buckets(store_engine, 86400) == {
        ("eu-west-1", -12 * 3600): Counter({"pass": 1, "fail": 1, "degraded": 1}),
        ("us-east-1", -12 * 3600): Counter(passed),
    }


def test_a_rerun_of_a_slot_replaces_its_contribution(store_engine) -> None:
    upsert_check_results(store_engine, [row(0, "fail"), row(1)])
    upsert_check_results(store_engine, [row(0, "pass")])
    upsert_check_results(store_engine, [row(0, "pass")])  # a duplicate delivery

    assert buckets(store_engine, 3600) == {("eu-west-1", 0): Counter({"pass": 2})}


def test_a_rerun_starting_in_another_minute_leaves_the_old_minute(store_engine) -> None:
    upsert_check_results(store_engine, [row(0, "fail")])
    upsert_check_results(store_engine, [row(0, "fail", started_at=T0 + timedelta(minutes=5))])

    assert buckets(store_engine, 60) == {("eu-west-1", 300): Counter({"fail": 1})}
    assert buckets(store_engine, 3600) == {("eu-west-1", 0): Counter({"fail": 1})}


def test_late_results_out_of_order_land_in_their_buckets(store_engine) -> None:
    upsert_check_results(store_engine, [row(120), row(121)])
    upsert_check_results(store_engine, [row(3, "fail"), row(2)])  # two hours late, reversed

    assert buckets(store_engine, 3600) == {
        ("eu-west-1", 0): Counter({"fail": 1, "pass": 1}),
        ("eu-west-1", 7200): Counter({"pass": 2}),
    }
    assert buckets(store_engine, 86400) == {
        ("eu-west-1", -12 * 3600): Counter({"pass": 3, "fail": 1})
    }


def test_minutes_before_the_raw_cutoff_are_sealed(store_engine) -> None:
    upsert_check_results(store_engine, [row(0, "fail"), row(1)])
    with store_engine.begin() as conn:
        conn.execute(
            StoreMark.__table__.insert(), {"name": RAW_CUTOFF_MARK, "at": T0 + timedelta(minutes=1)}
        )

    upsert_check_results(store_engine, [row(0, "pass"), row(1, "fail")])

    # minute 0's raw results may be partly gone: its rollup keeps what it counted
    assert buckets(store_engine, 60) == {
        ("eu-west-1", 0): Counter({"fail": 1}),
        ("eu-west-1", 60): Counter({"fail": 1}),
    }
    assert buckets(store_engine, 3600) == {("eu-west-1", 0): Counter({"fail": 2})}


def test_cells_keep_latency_on_the_ladder_and_the_latest_start(store_engine) -> None:
    upsert_check_results(
        store_engine,
        [
            row(0, duration_ms=300.0),
            row(1, duration_ms=299.5, started_at=T0 + timedelta(minutes=1, seconds=40)),
            row(2, "error", duration_ms=None),
        ],
    )
    table = CheckRollup.__table__
    with store_engine.connect() as conn:
        hour = conn.execute(select(table).where(table.c.resolution == 3600)).mappings().one()

    assert hour["cells"] == {
        "pass:57": [1, EPOCH0 + 2],  # exactly 300 ms: bound 28's own cell
        "pass:56": [1, EPOCH0 + 100],  # between 250 and 300 ms
        "error:-1": [1, EPOCH0 + 122],
    }
    assert (hour["results"], hour["no_latency_count"]) == (3, 1)
    assert hour["latency_sum_ms"] == pytest.approx(599.5)


def test_concurrent_writers_of_one_minute_both_count_on_postgresql(postgres_schema_url) -> None:
    from tasks.store import get_engine

    engine = get_engine(postgres_schema_url)
    first, second = row(0, "fail"), row(0, "pass", scheduled_at=T0 + timedelta(seconds=30))
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(insert(CheckResult), [{**first, "attempts": 1, "detail": {}}])
            refresh_rollups(conn, [("api-health", "eu-west-1", EPOCH0 + 2)])
            writer = threading.Thread(target=upsert_check_results, args=(engine, [second]))
            writer.start()
            while not conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            ).scalar():
                writer.join(0.05)  # the second writer now waits for this transaction
        writer.join()

    assert buckets(engine, 60) == {("eu-west-1", 0): Counter({"fail": 1, "pass": 1})}
    with engine.begin() as conn:
        conn.execute(delete(CheckRollup))
        conn.execute(delete(CheckResult))
