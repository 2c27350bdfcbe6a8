"""Engine and sessions for the store; migrations are applied on first use (tasks.store.migrate)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tasks.settings import get_settings
from tasks.store.migrate import upgrade

__all__ = ["dispose_engines", "get_engine", "session_scope", "upgrade"]

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                # Switching a fresh file to WAL needs it unlocked, and SQLite does not wait: the
                # process holding it switches it (the mode is stored in the file), so go on.
                if "locked" not in str(exc):
                    raise
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """Return the (cached) engine for ``url`` or the configured store, migrated to head."""
    settings = get_settings()
    url = url or settings.resolved_database_url
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _create(url)
            if migrate:
                upgrade(engine, lock_timeout=settings.migration_lock_timeout_seconds)
            _ENGINES[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached engine (tests and CLI shutdown)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
