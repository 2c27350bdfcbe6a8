"""Retention removes raw results and rollups past their time, in batches, and seals what it cut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tasks.settings import Settings
from tasks.store.check_results import upsert_check_results
from tasks.store.models import CheckResult
from tasks.store.retention import RetentionPolicy, apply_retention
from tasks.store.rollup_models import CheckRollup
from tasks.store.usage import store_usage

NOW = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
POLICY = RetentionPolicy(raw_days=2, minute_days=4, rollup_days=10)


def rows(days: int) -> list[dict]:
    out = []
    for hour in range(0, days * 24, 3):
        at = NOW - timedelta(hours=hour, minutes=30)
        out.append(
            {
                "check_id": "api-health",
                "region": "eu-west-1",
                "scheduled_at": at,
                "started_at": at,
                "verdict": "fail" if hour % 2 else "pass",
                "duration_ms": 100.0,
            }
        )
    return out


def oldest(engine) -> dict[str, datetime]:
    raw, rollups = CheckResult.__table__, CheckRollup.__table__
    with engine.connect() as conn:
        first = {"raw": conn.execute(select(func.min(raw.c.started_at))).scalar_one()}
        for resolution, start in conn.execute(
            select(rollups.c.resolution, func.min(rollups.c.bucket_start)).group_by(
                rollups.c.resolution
            )
        ):
            first[str(resolution)] = datetime.fromtimestamp(start, UTC)
    return first


def test_each_kind_is_kept_for_its_days_in_small_batches(store_engine) -> None:
    upsert_check_results(store_engine, rows(15))

    report = apply_retention(store_engine, POLICY, NOW, batch=7)

    kept = oldest(store_engine)
    assert NOW - timedelta(days=2) <= kept["raw"] < NOW - timedelta(days=2, hours=-3)
    assert NOW - timedelta(days=4, minutes=1) <= kept["60"] < NOW - timedelta(days=4, hours=-3)
    assert kept["3600"] >= NOW - timedelta(days=10, hours=1)
    assert kept["86400"] >= NOW - timedelta(days=11)
    assert report.raw_removed == 15 * 8 - 2 * 8  # more than one batch of 7
    assert report.rollups_removed[60] == 15 * 8 - 4 * 8
    assert apply_retention(store_engine, POLICY, NOW, batch=7).raw_removed == 0


def test_a_late_result_cannot_reopen_a_minute_whose_raw_results_are_gone(store_engine) -> None:
    upsert_check_results(store_engine, rows(3))
    before = oldest(store_engine)
    apply_retention(store_engine, RetentionPolicy(raw_days=1, minute_days=4, rollup_days=10), NOW)

    late = {**rows(3)[-1], "verdict": "pass"}  # a redelivery of the oldest slot, now sealed
    upsert_check_results(store_engine, [late])

    table = CheckRollup.__table__
    with store_engine.connect() as conn:
        counts = conn.execute(
            select(
                table.c.resolution, func.sum(table.c.results), func.sum(table.c.fail_count)
            ).group_by(table.c.resolution)
        ).all()
    assert {r: (n, f) for r, n, f in counts} == {60: (24, 12), 3600: (24, 12), 86400: (24, 12)}
    assert oldest(store_engine)["60"] == before["60"]


def test_retention_settings_must_nest() -> None:
    with pytest.raises(ValueError, match="retention must nest"):
        Settings(raw_retention_days=40, minute_rollup_retention_days=35)
    assert RetentionPolicy.from_settings(Settings()) == RetentionPolicy(14, 35, 400)


def test_usage_counts_rows_and_says_what_each_kind_keeps(store_engine) -> None:
    upsert_check_results(store_engine, rows(1))

    usage = {u.what: u for u in store_usage(store_engine, POLICY)}

    assert {w: (u.rows, u.keeps_days) for w, u in usage.items()} == {
        "check_results": (8, 2),
        "check_results packed": (0, 2),
        "rollups 1m packed": (0, 4),
        "rollups 1m": (8, 4),
        "rollups 1h": (8, 10),
        "rollups 1d": (2, 10),
    }
    assert usage["check_results"].bytes and usage["rollups 1m"].bytes
    assert usage["rollups 1d"].oldest == datetime(2026, 11, 30, tzinfo=UTC)
