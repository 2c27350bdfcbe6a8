"""Retention of check results and their rollups, removed in bounded batches.

Raw results go first past ``raw_days`` (on PostgreSQL, days wholly past it are dropped as
partitions: :mod:`tasks.store.partitions`; packed hours: :mod:`tasks.store.packed_retention`);
before any is removed the cutoff is recorded (:data:`~tasks.store.rollups.RAW_CUTOFF_MARK`),
which seals the rollups of older minutes so that a late write can never recompute them from a
partial set. Minute rollups (hot and packed) go past ``minute_days``, hour and day rollups past
``rollup_days``. Each batch is its own transaction: the store stays writable while a large
backlog drains, and a run cut short resumes next time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Delete, Engine, Select, select, tuple_

from tasks.settings import Settings
from tasks.store.marks import get_mark, set_mark
from tasks.store.models import CheckResult
from tasks.store.packed_retention import expire_packed
from tasks.store.partitions import drop_day, expired_days
from tasks.store.rollup_models import CheckRollup
from tasks.store.rollups import DAY, HOUR, MINUTE, RAW_CUTOFF_MARK

__all__ = ["RetentionPolicy", "RetentionReport", "apply_retention"]

_RAW = CheckResult.metadata.tables[CheckResult.__tablename__]
_ROLLUPS = CheckRollup.metadata.tables[CheckRollup.__tablename__]


@dataclass(frozen=True)
class RetentionPolicy:
    """How many days each kind of check data is kept."""

    raw_days: int = 14
    minute_days: int = 35
    rollup_days: int = 400

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            settings.raw_retention_days,
            settings.minute_rollup_retention_days,
            settings.rollup_retention_days,
        )

    def keeps(self) -> dict[str, int]:
        """Days kept, by what the store holds (``check_results``, ``rollups 1m`` ...)."""
        return {
            "check_results": self.raw_days,
            "check_results packed": self.raw_days,
            "rollups 1m": self.minute_days,
            "rollups 1m packed": self.minute_days,
            "rollups 1h": self.rollup_days,
            "rollups 1d": self.rollup_days,
        }

    def cutoffs(self, now: int) -> tuple[int, dict[int, int]]:
        """Epoch cutoffs at ``now``: raw results, and rollups by resolution (whole minutes)."""

        def before(days: int) -> int:
            at = now - days * DAY
            return at - at % MINUTE

        rollups = {MINUTE: before(self.minute_days), HOUR: before(self.rollup_days)}
        rollups[DAY] = rollups[HOUR]
        return before(self.raw_days), rollups


@dataclass(frozen=True)
class RetentionReport:
    raw_cutoff: int
    raw_removed: int
    rollups_removed: dict[int, int]


def apply_retention(
    engine: Engine, policy: RetentionPolicy, now: datetime, batch: int = 10_000
) -> RetentionReport:
    """Remove what ``policy`` no longer keeps at ``now``, ``batch`` rows per transaction."""
    raw_cut, rollup_cuts = policy.cutoffs(int(now.timestamp()))
    with engine.begin() as conn:
        # The cutoff only moves forward: what is gone stays gone, even if retention grows.
        raw_cut = max(raw_cut, get_mark(conn, RAW_CUTOFF_MARK) or raw_cut)
        set_mark(conn, RAW_CUTOFF_MARK, raw_cut)
    before = datetime.fromtimestamp(raw_cut, UTC)
    raw_removed = 0
    with engine.connect() as conn:
        days = expired_days(conn, before)
    for day in days:  # PostgreSQL: whole days dropped, one per transaction
        with engine.begin() as conn:
            raw_removed += drop_day(conn, day, before) or 0
    raw_removed += _drain(
        engine,
        select(_RAW.c.id).where(_RAW.c.started_at < before).limit(batch),
        lambda ids: _RAW.delete().where(_RAW.c.id.in_(ids)),
        batch,
    )
    packed_raw, packed_minutes = expire_packed(engine, raw_cut, rollup_cuts[MINUTE], batch)
    raw_removed += packed_raw
    removed = {}
    for resolution, cut in rollup_cuts.items():
        removed[resolution] = _drain(
            engine,
            select(_ROLLUPS.c.check_id, _ROLLUPS.c.region, _ROLLUPS.c.bucket_start)
            .where(_ROLLUPS.c.resolution == resolution, _ROLLUPS.c.bucket_start < cut)
            .limit(batch),
            partial(_delete_rollups, resolution),
            batch,
        )
    removed[MINUTE] += packed_minutes
    return RetentionReport(raw_cut, raw_removed, removed)


def _delete_rollups(resolution: int, keys: list[Any]) -> Delete:
    key = tuple_(_ROLLUPS.c.check_id, _ROLLUPS.c.region, _ROLLUPS.c.bucket_start)
    return _ROLLUPS.delete().where(_ROLLUPS.c.resolution == resolution, key.in_(keys))


def _drain(
    engine: Engine,
    pick: Select[Any],
    delete: Callable[[list[Any]], Delete],
    batch: int,
    size: Callable[[list[Any]], int] = len,
) -> int:
    """Delete what ``pick`` selects, a batch per transaction, until a batch comes back short.

    Returns:
        The sum of ``size`` over the batches (by default, the rows deleted).
    """
    removed = 0
    while True:
        with engine.begin() as conn:
            found = [tuple(r) if len(r) > 1 else r[0] for r in conn.execute(pick)]
            if found:
                conn.execute(delete(found))
        removed += size(found)
        if len(found) < batch:
            return removed
