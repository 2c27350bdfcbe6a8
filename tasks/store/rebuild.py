"""Rebuild rollups from raw results for a period: for upgrades, repairs and backfills.

The period is walked six hours at a time (a fleet of 1,000 checks writes ~1M results in six
hours: what one transaction can hold in memory), each step in its own transaction that also
records how far the rebuild got, so an interrupted rebuild run again with the same period
resumes at the first step not done. Every minute holding a raw result or a rollup in a step is
recomputed, so a rebuild also drops the rollups of results that are gone; running it twice
changes nothing.
Minutes before the raw retention's cutoff are left alone: their raw results no longer exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, union

from tasks.store.marks import delete_mark, get_mark, set_mark
from tasks.store.models import CheckResult
from tasks.store.packed_hours import held_minutes
from tasks.store.rollup_models import CheckRollup
from tasks.store.rollups import MINUTE, raw_cutoff, refresh_rollups
from tasks.store.sql import epoch_seconds, joined_text

__all__ = ["RebuildReport", "rebuild_rollups"]

STEP = 6 * 3600


@dataclass(frozen=True)
class RebuildReport:
    start: int
    end: int
    resumed_at: int | None
    sealed_before: int | None
    minutes: int


def rebuild_rollups(
    engine: Engine,
    start: datetime,
    end: datetime,
    on_step: Callable[[int, int], None] | None = None,
) -> RebuildReport:
    """Recompute the rollups of [start, end) from raw results, six hours per transaction.

    Args:
        engine: the store.
        start: first instant (rounded down to the minute).
        end: end, exclusive (rounded up to the minute).
        on_step: called with (done up to, end) in epoch seconds after each committed step.
    """
    first = int(start.timestamp()) // MINUTE * MINUTE
    stop = -(-int(end.timestamp()) // MINUTE) * MINUTE
    mark = f"rebuild:{first}-{stop}"
    with engine.connect() as conn:
        resumed, sealed = get_mark(conn, mark), raw_cutoff(conn)
    at = max(first, resumed or first, sealed or first)
    minutes = 0
    while at < stop:
        upto = min(at - at % STEP + STEP, stop)
        with engine.begin() as conn:
            minutes += refresh_rollups(conn, _minutes_held(conn, at, upto), complete=(at, upto))
            set_mark(conn, mark, upto)
        if on_step is not None:
            on_step(upto, stop)
        at = upto
    with engine.begin() as conn:
        delete_mark(conn, mark)
    return RebuildReport(first, stop, resumed, sealed, minutes)


def _minutes_held(conn: Connection, start: int, end: int) -> set[tuple[str, str, int]]:
    """Every (check, region, minute) in [start, end) with a raw result or a minute rollup, hot
    or packed. The database lists the hot minutes, one row per check and region: no result is
    read, and a minute with both a result and a rollup comes once."""
    raw, rollups = CheckResult.__table__, CheckRollup.__table__
    dialect = conn.dialect.name
    minutes = union(
        select(
            raw.c.check_id,
            raw.c.region,
            (epoch_seconds(dialect, raw.c.started_at) // MINUTE * MINUTE).label("minute"),
        ).where(
            raw.c.started_at >= datetime.fromtimestamp(start, UTC),
            raw.c.started_at < datetime.fromtimestamp(end, UTC),
        ),
        select(rollups.c.check_id, rollups.c.region, rollups.c.bucket_start).where(
            rollups.c.resolution == MINUTE,
            rollups.c.bucket_start >= start,
            rollups.c.bucket_start < end,
        ),
    ).subquery()
    stmt = select(
        minutes.c.check_id, minutes.c.region, joined_text(dialect, minutes.c.minute)
    ).group_by(minutes.c.check_id, minutes.c.region)
    held = {
        (check, region, int(minute))
        for check, region, joined in conn.execute(stmt)
        for minute in joined.split(",")
    }
    return held | held_minutes(conn, start, end)
