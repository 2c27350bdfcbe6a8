"""Engine and sessions for the store; migrations are applied on first use (tasks.store.migrate)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from tasks.errors import ConfigurationError
from tasks.settings import get_settings
from tasks.store.migrate import upgrade

__all__ = ["dispose_engines", "get_engine", "session_scope", "upgrade"]

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


_EXPECTED_URL = (
    "expected dialect+driver://user:password@host:port/database, "
    "e.g. postgresql+psycopg://traceo@db/traceo or sqlite:////var/lib/traceo/traceo.db"
)


def _create_or_explain(url: str, name: str) -> Engine:
    """:func:`_create`, or a one-line error naming ``name`` that never repeats the URL."""
    try:
        return _create(url)
    except NoSuchModuleError as exc:
        dialect = str(exc).rsplit(":", 1)[-1]
        raise ConfigurationError(
            f"{name}: no database driver {dialect!r} ({_EXPECTED_URL})"
        ) from None
    except (ArgumentError, ValueError):
        raise ConfigurationError(f"{name}: not a database URL ({_EXPECTED_URL})") from None


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
    name = "the store URL" if url else "TRACEO_DATABASE_URL"
    url = url or settings.resolved_database_url
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _create_or_explain(url, name)
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
