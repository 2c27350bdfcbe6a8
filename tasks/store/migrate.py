"""Migrate the store once, however many processes start on it together.

A process first reads the store's revision: at head it does nothing more (no lock, no DDL).
Otherwise it takes the migration lock, reads the revision again (another process may have
migrated while it waited) and migrates in that same transaction:

- PostgreSQL: ``pg_advisory_xact_lock`` (see :mod:`tasks.store.locks`), released at commit or
  rollback, so a migrator that dies never leaves it held; DDL is transactional, so a failed
  migration leaves nothing half-applied.
- SQLite: ``BEGIN IMMEDIATE`` takes the database's single write lock.

A process that has to wait logs "waiting for another process to finish migrating" once, then
waits up to ``TRACEO_MIGRATION_LOCK_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from tasks.errors import ServiceUnavailableError
from tasks.redaction import display_url
from tasks.store.locks import lock_key

__all__ = ["MIGRATION_LOCK", "upgrade"]

MIGRATION_LOCK = "store-migrations"
_MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("traceo.store")


def _alembic_config() -> Any:  # alembic.config.Config, imported lazily
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@functools.cache
def _heads() -> frozenset[str]:
    """The newest revisions (reading the scripts imports every one: do it once a process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _at_head(connection: Connection) -> bool:
    from alembic.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads()) == _heads()


def _waiting(connection: Connection) -> None:
    log.warning(
        "waiting for another process to finish migrating the store at %s",
        display_url(connection.engine.url),
    )


def _lock_postgresql(connection: Connection, timeout: float) -> None:
    key = {"key": lock_key(MIGRATION_LOCK)}
    if connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar():
        return
    _waiting(connection)
    connection.execute(text(f"SET LOCAL lock_timeout = {int(timeout * 1000)}"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)


def _lock_sqlite(connection: Connection, timeout: float) -> None:
    saved = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    try:
        connection.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
        _waiting(connection)
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(saved or 0)}")


_LOCKS = {"postgresql": _lock_postgresql, "sqlite": _lock_sqlite}


def _unavailable(engine: Engine, exc: OperationalError, timeout: float) -> ServiceUnavailableError:
    url = display_url(engine.url)
    reason = str(exc.orig).lower()
    if "locked" in reason or "lock timeout" in reason:
        return ServiceUnavailableError(
            f"store at {url}: another process held the migration lock for over {timeout:g} s "
            "(TRACEO_MIGRATION_LOCK_TIMEOUT_SECONDS)"
        )
    return ServiceUnavailableError(f"store unreachable at {url}: {exc.orig.__class__.__name__}")


def upgrade(engine: Engine, *, lock_timeout: float = 300.0) -> bool:
    """Bring the store to the newest revision; True if this process applied migrations.

    Raises:
        ServiceUnavailableError: the store is unreachable, or the lock was held too long.
    """
    from alembic import command

    try:
        with engine.connect() as connection:
            if _at_head(connection):
                return False
        with engine.connect() as connection:
            lock = _LOCKS.get(connection.dialect.name)
            if lock is not None:
                lock(connection, lock_timeout)
            if _at_head(connection):
                return False
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
            return True
    except OperationalError as exc:
        raise _unavailable(engine, exc, lock_timeout) from None
