"""Raw check results in daily partitions on PostgreSQL: written, moved, migrated, dropped whole."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from tasks.store.check_results import fetch_results, upsert_check_results
from tasks.store.compaction import compact_check_results
from tasks.store.models import CheckResult
from tasks.store.partitions import DEFAULT_PARTITION, partition_days, partition_name
from tasks.store.retention import RetentionPolicy, apply_retention
from tests.services import POSTGRES_URL, require_service

pytestmark = pytest.mark.postgres

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)


def result(at: datetime, started_after: timedelta = timedelta(seconds=2)) -> dict:
    return {
        "check_id": "api-health",
        "region": "eu-west-1",
        "scheduled_at": at,
        "started_at": at + started_after,
        "verdict": "pass",
        "duration_ms": 80.0,
        "attempts": 1,
        "detail": {},
        "simulated": False,
    }


def rows_in(conn, table: str) -> int:
    return conn.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()


@pytest.fixture(scope="module")
def pg_store():
    """One migrated PostgreSQL store for the module (partitions do not exist on SQLite)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    from tasks.store import get_engine

    sep = "&" if "?" in POSTGRES_URL else "?"
    schema = f"traceo_part_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = get_engine(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_engine(pg_store):
    """The module's store, emptied: no day partitions, no rows, no rollups or marks."""
    with pg_store.begin() as conn:
        for day in partition_days(conn):
            conn.execute(text(f'DROP TABLE "{partition_name(day)}"'))
        conn.execute(text("TRUNCATE check_results, check_rollups, check_packed_hours, store_marks"))
    return pg_store


def test_results_land_in_their_days_partition(pg_engine) -> None:
    upsert_check_results(pg_engine, [result(DAY0 + timedelta(hours=h)) for h in range(0, 72, 6)])
    with pg_engine.connect() as conn:
        assert partition_days(conn) == [(DAY0 + timedelta(days=d)).date() for d in range(3)]
        assert rows_in(conn, partition_name(DAY0.date())) == 4
        assert rows_in(conn, DEFAULT_PARTITION) == 0


def test_rows_written_around_the_partitions_move_into_their_day_when_it_is_created(
    pg_engine,
) -> None:
    with pg_engine.begin() as conn:  # a writer that does not ensure partitions
        conn.execute(insert(CheckResult), [result(DAY0), result(DAY0 + timedelta(minutes=1))])
        assert rows_in(conn, DEFAULT_PARTITION) == 2
    upsert_check_results(pg_engine, [result(DAY0 + timedelta(minutes=2))])
    with pg_engine.connect() as conn:
        assert rows_in(conn, DEFAULT_PARTITION) == 0
        assert rows_in(conn, partition_name(DAY0.date())) == 3


def test_retention_drops_whole_days_and_keeps_a_late_started_row(pg_engine) -> None:
    results = [result(DAY0 + timedelta(hours=h)) for h in range(0, 24 * 5, 4)]
    # Scheduled on day 1, started on day 4 (a backfill): day 1 cannot be dropped whole.
    late = result(DAY0 + timedelta(days=1, hours=1), started_after=timedelta(days=3))
    upsert_check_results(pg_engine, [*results, late])
    now = DAY0 + timedelta(days=3, hours=12) + timedelta(days=1)  # raw kept 1 day
    report = apply_retention(pg_engine, RetentionPolicy(1, 2, 3), now)

    cutoff = DAY0 + timedelta(days=3, hours=12)
    with pg_engine.connect() as conn:
        days = partition_days(conn)
        left = conn.execute(select(func.min(CheckResult.started_at))).scalar_one()
        kept = conn.execute(select(func.count()).select_from(CheckResult)).scalar_one()
    assert DAY0.date() not in days and (DAY0 + timedelta(days=2)).date() not in days
    assert (DAY0 + timedelta(days=1)).date() in days  # holds the late row
    assert left >= cutoff
    expected_kept = sum(r["started_at"] >= cutoff for r in [*results, late])
    assert kept == expected_kept
    assert report.raw_removed == len(results) + 1 - expected_kept


def test_the_migration_keeps_every_row_and_its_id() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    from alembic import command

    from tasks.store.migrate import _alembic_config

    schema = f"traceo_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    engine = create_engine(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        with engine.connect() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0012")
            conn.commit()
        with engine.begin() as conn:
            conn.execute(insert(CheckResult), [result(DAY0 + timedelta(hours=h)) for h in (1, 30)])
            before = conn.execute(select(CheckResult.id, CheckResult.scheduled_at)).all()
        with engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
        with engine.begin() as conn:
            after = conn.execute(select(CheckResult.id, CheckResult.scheduled_at)).all()
            assert sorted(after) == sorted(before)
            assert partition_days(conn) == [DAY0.date(), (DAY0 + timedelta(days=1)).date()]
            new_id = conn.execute(
                insert(CheckResult).returning(CheckResult.id), result(DAY0 + timedelta(hours=2))
            ).scalar_one()
            assert new_id > max(i for i, _ in before)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_writers_creating_the_same_day_at_once_both_succeed(pg_engine) -> None:
    import threading

    from tasks.store.partitions import ensure_partitions

    day = DAY0 + timedelta(days=9)
    first = pg_engine.connect()
    first.begin()
    assert ensure_partitions(first, [day]) == [day.date()]  # holds the lock until commit
    outcome: dict[str, object] = {}

    def second_writer() -> None:
        try:
            with pg_engine.begin() as conn:
                outcome["created"] = ensure_partitions(conn, [day])
        except Exception as exc:  # reported below
            outcome["error"] = exc

    waiting = threading.Thread(target=second_writer)
    waiting.start()
    waiting.join(timeout=1)
    assert waiting.is_alive()  # blocked on the first writer's lock
    first.commit()
    first.close()
    waiting.join(timeout=60)
    assert outcome == {"created": []}


def test_compaction_drops_the_days_it_packed_whole_and_keeps_a_day_with_a_late_start(
    pg_engine,
) -> None:
    slots = [DAY0 + timedelta(minutes=m) for m in range(0, 3 * 24 * 60, 30)]
    written = [result(at) for at in slots]
    written[10] = result(slots[10], started_after=timedelta(days=2, hours=23))  # day 0, late
    upsert_check_results(pg_engine, written)
    before = fetch_results(pg_engine, None, DAY0, DAY0 + timedelta(days=4))

    report = compact_check_results(pg_engine, DAY0 + timedelta(days=2, hours=12), after_hours=6)

    assert report.partitions_dropped == 1  # day 1; day 0 still holds the late start
    with pg_engine.connect() as conn:
        assert partition_days(conn) == [DAY0.date(), (DAY0 + timedelta(days=2)).date()]
        assert rows_in(conn, partition_name(DAY0.date())) == 1
    after = fetch_results(pg_engine, None, DAY0, DAY0 + timedelta(days=4))
    assert after.started_at.tolist() == before.started_at.tolist()
    assert after.verdict.tolist() == before.verdict.tolist()
