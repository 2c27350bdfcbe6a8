"""Compaction packs cold hours; every reader sees the same results before and after, and writes,
rebuilds, retention and an interrupted run all keep each slot in exactly one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import event, func, select

from tasks.probes.metrics import fetch_latest
from tasks.store.check_results import fetch_results, upsert_check_results
from tasks.store.compaction import COMPACTION_MARK, compact_check_results
from tasks.store.marks import get_mark
from tasks.store.minute_codec import MINUTES_FORMAT_VERSION, decode_minutes
from tasks.store.models import CheckResult
from tasks.store.packed_models import CheckPackedHour
from tasks.store.rebuild import rebuild_rollups
from tasks.store.retention import RetentionPolicy, apply_retention
from tasks.store.rollup_cells import VERDICT_COLUMNS
from tasks.store.rollup_models import StoreMark
from tasks.store.rollup_reads import covering_plan, read_daily_sums, read_rollup_sums, read_rollups
from tests.store.readers import readers_view
from tests.store.test_minute_codec import version_1

START = datetime(2026, 11, 2, tzinfo=UTC)
NOW = START + timedelta(hours=13, minutes=20)
CHECKS = ("api-health", "web-shop")
REGIONS = ("eu-west-1", "us-east-1")


def results(hours: int = 12) -> list[dict]:
    rng = np.random.default_rng(3)
    out = []
    for minute in range(hours * 60):
        slot = START + timedelta(minutes=minute)
        for check in CHECKS:
            for region in REGIONS:
                ms = float(round(rng.lognormal(np.log(120.0), 0.5), 1))
                out.append(
                    {
                        "check_id": check,
                        "region": region,
                        "scheduled_at": slot,
                        "started_at": slot + timedelta(milliseconds=int(ms * 3) % 1000),
                        "verdict": "fail" if ms > 300 else "degraded" if ms > 200 else "pass",
                        "duration_ms": None if minute % 97 == 0 else ms,
                        "status_code": 503 if ms > 300 else 200,
                        "error": "HTTP 503" if ms > 300 else None,
                        "detail": {"note": "slow"} if ms > 250 else {},
                    }
                )
    return out


def everything(engine) -> dict[str, list]:
    return readers_view(engine, CHECKS)


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_packed_hours_read_exactly_as_the_rows_they_replace(store_engine) -> None:
    upsert_check_results(store_engine, results())
    before = everything(store_engine)
    columns = fetch_results(store_engine, ["web-shop"], START, NOW, regions=["us-east-1"])

    report = compact_check_results(store_engine, NOW, after_hours=6)

    # 13:20 less 6 hours: every hour before 07:00 is packed, 4 pairs x 7 hours
    assert report.cutoff == int((START + timedelta(hours=7)).timestamp())
    assert (report.hours_packed, report.results_packed) == (28, 28 * 60)
    assert count(store_engine, CheckPackedHour) == 28
    assert count(store_engine, CheckResult) == 4 * 5 * 60
    assert everything(store_engine) == before
    after = fetch_results(store_engine, ["web-shop"], START, NOW, regions=["us-east-1"])
    for name in ("check_id", "region", "started_at", "verdict", "simulated"):
        assert getattr(after, name).tolist() == getattr(columns, name).tolist()
    np.testing.assert_array_equal(after.duration_ms, columns.duration_ms)
    with store_engine.connect() as conn:
        assert get_mark(conn, COMPACTION_MARK) == report.cutoff

    again = compact_check_results(store_engine, NOW, after_hours=6)
    assert (again.hours_packed, again.results_packed) == (0, 0)
    assert everything(store_engine) == before


def verdict_sums(engine, cuts: list[int]) -> dict[str, list]:
    """Verdict sums by segment (from the SQL and packed-sums readers) and by segment from every
    minute bucket's cells (the bucket reader), per check and region."""
    plan = covering_plan(cuts, (60, 3600, 86400))
    with engine.connect() as conn:
        sums = read_rollup_sums(conn, CHECKS, plan, cuts[:-1])
        days = read_daily_sums(conn, CHECKS, plan, cuts[0] - cuts[0] % 86400)
        rows = read_rollups(conn, CHECKS, {60: [(cuts[0], cuts[-1])]})
    by_cells: dict[tuple, list[int]] = {}
    for check, region, start, cells in zip(
        rows.check_id, rows.region, rows.bucket_start, rows.cells, strict=True
    ):
        segment = sum(start >= c for c in cuts[:-1])
        held = by_cells.setdefault((check, region, segment), [0] * 4 + [-1] * 4)
        for key, (n, last) in cells.items():
            v = VERDICT_COLUMNS.index(key.rpartition(":")[0])
            held[v] += n
            held[4 + v] = max(held[4 + v], last)
    return {
        "sums": sorted(
            (c, r, int(s), *n.tolist(), *t.tolist())
            for c, r, s, n, t in zip(
                sums.check_id, sums.region, sums.segment, sums.counts, sums.last, strict=True
            )
        ),
        "cells": sorted((*k, *v) for k, v in by_cells.items()),
        "days": sorted(
            (c, int(d), *n.tolist())
            for c, d, n in zip(days.check_id, days.day, days.counts, strict=True)
        ),
    }


def test_verdict_sums_over_parts_of_packed_hours_equal_the_hot_rows_and_the_cells(
    store_engine,
) -> None:
    upsert_check_results(store_engine, results())
    at = int(START.timestamp())
    # Window edges inside hours: segments start and end mid-hour, packed and hot alike.
    cuts = [at + 77 * 60, at + 223 * 60, at + 301 * 60, at + 611 * 60]
    hot = verdict_sums(store_engine, cuts)

    compact_check_results(store_engine, NOW, after_hours=6)

    packed = verdict_sums(store_engine, cuts)
    assert packed == hot
    assert packed["sums"] == packed["cells"]
    assert sum(row[3] for row in packed["sums"]) > 0


def test_a_rerun_of_a_packed_slot_replaces_it_once_and_moves_its_minute(store_engine) -> None:
    upsert_check_results(store_engine, results())
    compact_check_results(store_engine, NOW, after_hours=6)
    slot = START + timedelta(hours=2, minutes=5)
    rerun = {
        "check_id": "api-health",
        "region": "eu-west-1",
        "scheduled_at": slot,
        "started_at": slot + timedelta(minutes=1, seconds=10),  # into the next minute
        "verdict": "error",
        "duration_ms": None,
        "error": "timed out",
    }
    late = {**rerun, "scheduled_at": slot + timedelta(seconds=30), "verdict": "pass"}

    upsert_check_results(store_engine, [rerun, late])
    upsert_check_results(store_engine, [rerun, late])  # a duplicate delivery changes nothing

    window = fetch_results(store_engine, ["api-health"], START, NOW, regions=["eu-west-1"])
    assert len(window) == 12 * 60 + 1  # the rerun replaced its slot, the late slot is new
    started = int(rerun["started_at"].timestamp())
    assert window.verdict[window.started_at == started].tolist() == ["error", "pass"]
    moved = everything(store_engine)

    # Compaction takes the two hot rows back into their hour; nothing changes for readers.
    report = compact_check_results(store_engine, NOW, after_hours=6)
    assert (report.hours_packed, report.results_packed) == (1, 2)
    assert count(store_engine, CheckPackedHour) == 28
    assert everything(store_engine) == moved

    rebuild_rollups(store_engine, START, NOW)  # rollups rebuilt from packed hours are the same
    assert everything(store_engine) == moved


def test_retention_removes_packed_results_as_it_removes_rows(store_engine) -> None:
    upsert_check_results(store_engine, results())
    compact_check_results(store_engine, NOW, after_hours=6)
    policy = RetentionPolicy(raw_days=1, minute_days=2, rollup_days=3)
    at = START + timedelta(days=1, hours=3, minutes=30)  # the cutoff falls at 03:30 on day one

    report = apply_retention(store_engine, policy, at)

    cutoff = int((START + timedelta(hours=3, minutes=30)).timestamp())
    assert report.raw_removed == 4 * (3 * 60 + 30)
    columns = fetch_results(store_engine, None, START, NOW)
    assert len(columns) == 4 * (8 * 60 + 30)
    assert columns.started_at.min() >= cutoff
    with store_engine.connect() as conn:
        raw_held = conn.execute(
            select(func.count()).where(CheckPackedHour.raw.is_not(None))
        ).scalar_one()
    assert raw_held == 4 * 4  # 03:00 trimmed, 04:00 to 06:00 kept; every hour keeps its minutes
    assert count(store_engine, CheckPackedHour) == 4 * 7
    again = apply_retention(store_engine, policy, at)
    assert again.raw_removed == 0

    # A day later the minutes go too, packed ones before 02:30 of the first day
    later = apply_retention(store_engine, policy, at + timedelta(days=1, hours=-1))
    assert later.rollups_removed[60] == 4 * 150
    with store_engine.connect() as conn:
        minutes = read_rollups(conn, CHECKS, {60: [(0, 2**40)]})
    assert minutes.bucket_start.min() == int((START + timedelta(hours=2, minutes=30)).timestamp())
    assert count(store_engine, CheckPackedHour) == 4 * 5  # 00:00 and 01:00 are gone


def test_an_interrupted_compaction_resumes_where_it_stopped(store_engine) -> None:
    upsert_check_results(store_engine, results())
    before = everything(store_engine)
    deletes = []

    def fail_on_third_batch(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("DELETE FROM CHECK_RESULTS"):
            deletes.append(statement)
            if len(deletes) == 3:
                raise ConnectionError("connection lost")

    event.listen(store_engine, "before_cursor_execute", fail_on_third_batch)
    try:
        with pytest.raises(ConnectionError):
            compact_check_results(store_engine, NOW, after_hours=6, batch=5)
    finally:
        event.remove(store_engine, "before_cursor_execute", fail_on_third_batch)
    assert count(store_engine, CheckPackedHour) == 10  # two batches committed, the third not
    assert everything(store_engine) == before

    report = compact_check_results(store_engine, NOW, after_hours=6, batch=5)
    assert report.hours_packed == 28 - 10
    assert everything(store_engine) == before


def test_metrics_read_the_newest_result_from_packed_hours_too(store_engine) -> None:
    upsert_check_results(store_engine, results(hours=3))
    hot = fetch_latest(store_engine, START)

    compact_check_results(store_engine, START + timedelta(hours=10), after_hours=6)

    assert count(store_engine, CheckResult) == 0
    assert fetch_latest(store_engine, START) == hot
    assert len(hot) == 4


def test_minutes_packed_by_format_version_1_are_rewritten_in_the_current_one(store_engine) -> None:
    upsert_check_results(store_engine, results())
    compact_check_results(store_engine, NOW, after_hours=6)
    packed = CheckPackedHour.__table__
    with store_engine.begin() as conn:  # as a store upgraded in place holds them
        conn.execute(StoreMark.__table__.delete())  # an upgraded store has no repack mark yet
        key = (packed.c.check_id, packed.c.region, packed.c.hour_start)
        hours = conn.execute(select(*key, packed.c.minutes)).all()
        for check, region, hour, payload in hours:
            old = version_1(hour, decode_minutes(hour, payload))
            where = (packed.c.check_id == check, packed.c.region == region, key[2] == hour)
            conn.execute(packed.update().where(*where).values(minutes=old))
    before = everything(store_engine)

    report = compact_check_results(store_engine, NOW, after_hours=6, batch=5)

    assert report.minutes_repacked == len(hours) > 5  # several batches
    with store_engine.connect() as conn:
        versions = {bytes(p)[0] for (p,) in conn.execute(select(packed.c.minutes))}
    assert versions == {MINUTES_FORMAT_VERSION}
    assert everything(store_engine) == before
    again = compact_check_results(store_engine, NOW, after_hours=6)
    assert again.minutes_repacked == 0
