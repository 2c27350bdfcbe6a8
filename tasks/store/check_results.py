"""Bulk writes and columnar reads of synthetic check results.

Writes are idempotent on the natural key ``(check_id, region, scheduled_at)``: a rerun of a slot
replaces its rows (``INSERT ... ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL; a slot already
packed is taken out of its packed hour, :mod:`tasks.store.packed_hours`), and in the same
transaction the rollups of every minute the write touched are recomputed
(:mod:`tasks.store.rollups`). Reads (hot rows and packed hours alike,
:mod:`tasks.store.raw_reads`) return numpy columns, which is what the SLO engine computes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import OperationalError

from tasks.errors import ServiceUnavailableError
from tasks.store.locks import lock_check_pairs
from tasks.store.models import CheckResult
from tasks.store.packed_hours import take_slots
from tasks.store.partitions import ensure_partitions
from tasks.store.raw_reads import read_raw
from tasks.store.rollups import refresh_rollups
from tasks.store.sql import dialect_insert, epoch_seconds, execute_many

__all__ = ["RESULT_FIELDS", "ResultColumns", "fetch_results", "upsert_check_results"]

# Attributes read from each result (a ProbeResult, any object with them, or a mapping).
RESULT_FIELDS = (
    "check_id",
    "region",
    "scheduled_at",
    "started_at",
    "verdict",
    "duration_ms",
    "status_code",
    "failing_step",
    "error",
    "attempts",
    "detail",
    "cert_expires_at",
)
_KEY = ("check_id", "region", "scheduled_at")
_REQUIRED = ("check_id", "region", "scheduled_at", "started_at", "verdict")
# Rows per executemany call: bounds memory held by the driver, not a database limit.
_CHUNK_ROWS = 5_000


@dataclass(frozen=True)
class ResultColumns:
    """Check results as aligned numpy arrays, ordered by ``started_at``.

    ``started_at`` is int64 epoch seconds; ``duration_ms`` is NaN where no request was made.
    """

    check_id: np.ndarray
    region: np.ndarray
    started_at: np.ndarray
    verdict: np.ndarray
    duration_ms: np.ndarray
    simulated: np.ndarray

    def __len__(self) -> int:
        return len(self.check_id)


def _row(result: Any, flow_run_id: str | None, simulated: bool) -> dict[str, Any]:
    get = result.get if isinstance(result, Mapping) else lambda k, d=None: getattr(result, k, d)
    row = {name: get(name, None) for name in RESULT_FIELDS}
    missing = [k for k in _REQUIRED if row[k] is None]
    if missing:
        raise ValueError(f"check result lacks {', '.join(missing)}")
    row["attempts"] = row["attempts"] or 1
    row["detail"] = row["detail"] or {}
    row["flow_run_id"] = flow_run_id
    row["simulated"] = simulated
    return row


def upsert_check_results(
    engine: Engine,
    results: Iterable[Any],
    flow_run_id: str | None = None,
    simulated: bool = False,
) -> int:
    """Insert or replace results on ``(check_id, region, scheduled_at)``, in chunks.

    Args:
        engine: the store.
        results: :class:`~tasks.probes.http.ProbeResult` objects or mappings with the same keys.
        flow_run_id: the Prefect flow run that produced them.
        simulated: mark rows as generated (demo backfill), not measured.

    Returns:
        Rows written (after collapsing duplicates of one key within ``results``: the last wins).

    Raises:
        ServiceUnavailableError: the store cannot be reached.
    """
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in results:
        row = _row(result, flow_run_id, simulated)
        # one statement may not touch a key twice (PostgreSQL refuses), so keep the last
        rows[tuple(row[k] for k in _KEY)] = row
    if not rows:
        return 0
    values = list(rows.values())
    # One compiled statement run as one driver executemany per chunk (tasks.store.sql).
    stmt = dialect_insert(engine.dialect.name)(CheckResult.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={k: stmt.excluded[k] for k in values[0] if k not in _KEY},
    )
    try:
        with engine.begin() as conn:
            # Every lock the write needs, first and in one order (the partition lock, then the
            # (check, region) locks sorted): taken chunk by chunk, a writer holding one chunk's
            # rollup locks could wait for the partition lock that another, waiting for those
            # rollup locks, holds.
            ensure_partitions(conn, [row["scheduled_at"] for row in values])
            lock_check_pairs(conn, {(row["check_id"], row["region"]) for row in values})
            for start in range(0, len(values), _CHUNK_ROWS):
                chunk = values[start : start + _CHUNK_ROWS]
                replaced = _stored_starts(conn, chunk)
                execute_many(conn, stmt, chunk)
                refresh_rollups(conn, [*replaced, *map(_started, chunk)])
    except OperationalError as exc:
        raise ServiceUnavailableError(
            f"cannot write check results: {exc.orig.__class__.__name__}"
        ) from None
    return len(values)


def _started(row: dict[str, Any]) -> tuple[str, str, int]:
    return row["check_id"], row["region"], int(row["started_at"].timestamp())


def _stored_starts(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """Where the stored results that ``rows`` replace started (their minutes change too).

    A replaced slot held in a packed hour is taken out of it here, so the new row is its only
    copy.
    """
    table = CheckResult.__table__
    scheduled = [r["scheduled_at"] for r in rows]
    stmt = select(
        table.c.check_id,
        table.c.region,
        table.c.scheduled_at,
        epoch_seconds(conn.dialect.name, table.c.started_at),
    ).where(
        table.c.check_id.in_({r["check_id"] for r in rows}),
        table.c.scheduled_at >= min(scheduled),
        table.c.scheduled_at <= max(scheduled),
    )
    keys = {(r["check_id"], r["region"], r["scheduled_at"]) for r in rows}
    hot = [(c, r, t) for c, r, s, t in conn.execute(stmt) if (c, r, s) in keys]
    return hot + take_slots(conn, keys)


def fetch_results(
    engine: Engine,
    check_ids: Sequence[str] | None,
    start: datetime,
    end: datetime,
    regions: Sequence[str] | None = None,
) -> ResultColumns:
    """Results with ``start <= started_at < end`` for ``check_ids`` (None: all checks).

    Args:
        engine: the store.
        check_ids: checks to read; None reads every check.
        start: inclusive lower bound (timezone-aware).
        end: exclusive upper bound (timezone-aware).
        regions: only these regions (None: all).
    """
    try:
        with engine.connect() as conn:
            rows = read_raw(conn, check_ids, start, end, regions)
    except OperationalError as exc:
        raise ServiceUnavailableError(
            f"cannot read check results: {exc.orig.__class__.__name__}"
        ) from None
    return ResultColumns(
        check_id=rows.check_id,
        region=rows.region,
        started_at=rows.started_s,
        verdict=rows.verdict,
        duration_ms=rows.duration_ms,
        simulated=rows.simulated,
    )
