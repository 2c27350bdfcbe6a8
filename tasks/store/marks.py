"""Named instants the store keeps (retention cutoffs, rebuild progress), read and written."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select

from tasks.store.rollup_models import StoreMark
from tasks.store.sql import dialect_insert

__all__ = ["delete_mark", "get_mark", "set_mark"]

_MARKS = StoreMark.metadata.tables[StoreMark.__tablename__]


def get_mark(conn: Connection, name: str) -> int | None:
    """The mark ``name`` in epoch seconds (None when never set)."""
    at = conn.execute(select(_MARKS.c.at).where(_MARKS.c.name == name)).scalar_one_or_none()
    if at is None:
        return None
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())


def set_mark(conn: Connection, name: str, epoch: int) -> None:
    """Set (or move) the mark ``name`` to ``epoch`` seconds."""
    stmt = dialect_insert(conn.dialect.name)(_MARKS)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"at": stmt.excluded.at})
    conn.execute(stmt, {"name": name, "at": datetime.fromtimestamp(epoch, UTC)})


def delete_mark(conn: Connection, name: str) -> None:
    conn.execute(_MARKS.delete().where(_MARKS.c.name == name))
