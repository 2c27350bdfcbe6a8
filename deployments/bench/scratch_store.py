"""A throwaway store for benchmarks: a PostgreSQL schema of its own, else a SQLite file."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text

__all__ = ["PG_URL", "scratch_store"]

PG_URL = os.environ.get(
    "TRACEO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def scratch_store(prefix: str) -> tuple[str, Callable[[], None]]:
    """A store URL and a function that removes it (SQLite when no PostgreSQL answers)."""
    admin = create_engine(PG_URL)
    try:
        schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # no PostgreSQL here: the embedded default
        admin.dispose()
        folder = tempfile.TemporaryDirectory(prefix=f"{prefix}-")
        return f"sqlite:///{folder.name}/store.db", folder.cleanup

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", drop
