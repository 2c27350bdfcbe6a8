"""Processes starting together on a fresh store: one migrates, the others wait, none fails."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, event, make_url, text

from tasks.store import get_engine
from tasks.store.locks import lock_key
from tasks.store.migrate import MIGRATION_LOCK, upgrade
from tests.services import POSTGRES_URL, require_service

PROCESSES = 8
ROUNDS = 10


def _upgrade_in_rounds(urls: list[str], barrier, results) -> None:  # type: ignore[no-untyped-def]
    """One starting process: per round, wait for the others, then migrate the round's store."""
    for url in urls:
        barrier.wait(timeout=120)
        engine = get_engine(url, migrate=False)
        try:
            results.put((url, "migrated" if upgrade(engine) else "current"))
        except BaseException as exc:  # the outcome travels back to the test, whatever it is
            results.put((url, f"{type(exc).__name__}: {exc}"))
        finally:
            engine.dispose()


def _start_together(urls: list[str]) -> dict[str, list[str]]:
    """Run PROCESSES processes, each starting on every store in ``urls`` at the same instant."""
    ctx = multiprocessing.get_context("fork")  # the workers inherit the imports: no start-up cost
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_upgrade_in_rounds, args=(urls, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes: dict[str, list[str]] = {url: [] for url in urls}
    for _ in range(PROCESSES * len(urls)):
        url, outcome = results.get(timeout=120)
        outcomes[url].append(outcome)
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


@pytest.fixture
def fresh_postgres_databases(request) -> Iterator[list[str]]:
    """``request.param`` throwaway PostgreSQL databases, dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_size=ROUNDS)
    names = [f"traceo_first_start_{uuid.uuid4().hex[:12]}" for _ in range(request.param)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = make_url(POSTGRES_URL)
    # Trust authentication ignores the password; it is there to check no message shows it.
    yield [
        base.set(database=name, password=base.password or "hunter2").render_as_string(
            hide_password=False
        )
        for name in names
    ]

    def drop(name: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    with ThreadPoolExecutor(max_workers=len(names)) as pool:  # the drops share checkpoints
        list(pool.map(drop, names))
    admin.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("fresh_postgres_databases", [ROUNDS], indirect=True)
def test_processes_starting_together_on_fresh_postgresql_all_succeed(fresh_postgres_databases):
    outcomes = _start_together(fresh_postgres_databases)
    for url, results in outcomes.items():
        assert sorted(results) == ["current"] * (PROCESSES - 1) + ["migrated"], url


@pytest.mark.slow
def test_processes_starting_together_on_fresh_sqlite_all_succeed(tmp_path):
    [results] = _start_together([f"sqlite:///{tmp_path / 'store.db'}"]).values()
    assert sorted(results) == ["current"] * (PROCESSES - 1) + ["migrated"]


def _ddl_statements(engine) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
            seen.append(statement)

    return seen


def test_a_current_store_is_left_alone(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}", migrate=False)
    assert upgrade(engine) is True
    ddl = _ddl_statements(engine)
    assert upgrade(engine) is False
    assert ddl == []


class _Seen(logging.Handler):
    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle, self.event = needle, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            assert "hunter2" not in record.getMessage()  # the URL's password stays hidden
            self.event.set()


def _migrate_while_locked(url: str, hold_lock) -> None:  # type: ignore[no-untyped-def]
    """Hold the migration lock, start a migration, see it say it waits, then let it go on."""
    seen = _Seen("waiting for another process to finish migrating")
    logger = logging.getLogger("traceo.store")
    logger.addHandler(seen)
    engine = get_engine(url, migrate=False)
    outcome: list[object] = []
    try:
        with engine.connect() as blocker:
            hold_lock(blocker)
            migrating = threading.Thread(target=lambda: outcome.append(upgrade(engine)))
            migrating.start()
            assert seen.event.wait(timeout=60), "no waiting message"
            blocker.commit()
        migrating.join(timeout=60)
    finally:
        logger.removeHandler(seen)
    assert outcome == [True]


def test_sqlite_migration_waits_for_the_write_lock_and_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _migrate_while_locked(url, lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))


@pytest.mark.parametrize("fresh_postgres_databases", [1], indirect=True)
def test_postgresql_migration_waits_for_the_advisory_lock_and_says_so(fresh_postgres_databases):
    key = lock_key(MIGRATION_LOCK)
    _migrate_while_locked(
        fresh_postgres_databases[0],
        lambda conn: conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key}),
    )
