"""Simulated probe history for the demo, clearly labelled ``simulated`` in the store.

A few weeks of results for each (check, region) at the check's frequency: a healthy baseline with
rare failures and degraded answers, a regional outage, a bad deploy everywhere, and an incident
still burning budget now, so error budgets and burn rates have something to show.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, insert

from tasks.store import CheckResult
from tasks.store.bulk_load import load_packed
from tasks.store.packed_codec import PackedColumns
from tasks.store.partitions import ensure_partitions
from tasks.store.rebuild import rebuild_rollups
from tasks.store.sql import execute_many

__all__ = ["Incident", "SimulatedCheck", "default_incidents", "simulate_history"]


@dataclass(frozen=True)
class SimulatedCheck:
    id: str
    frequency: int
    regions: Sequence[str]
    degraded_ms: int
    failed_ms: int
    median_ms: float = 120.0


@dataclass(frozen=True)
class Incident:
    """A period ``[start, end)`` during which a share of the results of some checks fail."""

    name: str
    start: datetime
    end: datetime
    failure_rate: float
    regions: frozenset[str] | None = None  # None: every region
    checks: frozenset[str] | None = None  # None: every check


def default_incidents(now: datetime, checks: Sequence[str]) -> list[Incident]:
    """A regional outage 9 days ago, a bad deploy 3 days ago and an incident burning right now."""
    journeys = frozenset(c for c in checks if "order" in c or "product" in c) or None
    return [
        Incident(
            "regional network outage (eu-west-1)",
            now - timedelta(days=9, hours=2),
            now - timedelta(days=9, hours=1, minutes=35),
            1.0,
            regions=frozenset({"eu-west-1"}),
        ),
        Incident(
            "bad deploy rolled back",
            now - timedelta(days=3, hours=6),
            now - timedelta(days=3, hours=5, minutes=45),
            1.0,
            checks=journeys,
        ),
        Incident("ongoing: elevated 503s", now - timedelta(minutes=90), now, 0.12, checks=journeys),
    ]


def simulate_history(
    engine: Engine,
    checks: Sequence[SimulatedCheck],
    now: datetime,
    days: int,
    incidents: Sequence[Incident],
    seed: int = 7,
    chunk: int = 20_000,
    packed_before: datetime | None = None,
) -> int:
    """Insert simulated results ending just before ``now``, then roll them up.

    Args:
        packed_before: results started before this instant (a whole hour) are stored packed,
            as the store-retention flow leaves hours past the compaction cutoff; None: all as
            rows.

    Returns:
        The number of results written.
    """
    rng = np.random.default_rng(seed)
    end = int(now.timestamp())
    start = end - days * 86_400
    cutoff = start if packed_before is None else max(start, int(packed_before.timestamp()))
    written = 0
    with engine.begin() as conn:
        for check in checks:
            first = start - start % check.frequency + check.frequency
            slots = np.arange(first, end - end % check.frequency, check.frequency, dtype=np.int64)
            for region in check.regions:
                rows = _rows(rng, check, region, slots, incidents)
                written += len(rows)
                cold = bisect_left([r["started_at"].timestamp() for r in rows], cutoff)
                if cold:  # loaded pair by pair, so memory follows one pair's history
                    load_packed(conn, {(check.id, region): PackedColumns.from_rows(rows[:cold])})
                rows = rows[cold:]
                ensure_partitions(conn, [row["scheduled_at"] for row in rows])
                for i in range(0, len(rows), chunk):
                    execute_many(conn, insert(CheckResult), rows[i : i + chunk])
    # Bulk inserts skip the per-write rollup refresh; one rebuild of the period is cheaper.
    rebuild_rollups(engine, datetime.fromtimestamp(cutoff, UTC), now)
    return written


def _rows(
    rng: np.random.Generator,
    check: SimulatedCheck,
    region: str,
    slots: np.ndarray,
    incidents: Sequence[Incident],
) -> list[dict]:
    n = len(slots)
    fail_p = np.full(n, 0.0001)
    for incident in incidents:
        if incident.regions is not None and region not in incident.regions:
            continue
        if incident.checks is not None and check.id not in incident.checks:
            continue
        inside = (slots >= incident.start.timestamp()) & (slots < incident.end.timestamp())
        fail_p[inside] = np.maximum(fail_p[inside], incident.failure_rate)
    failed = rng.random(n) < fail_p
    duration = rng.lognormal(np.log(check.median_ms), 0.35, n)
    degraded = ~failed & (rng.random(n) < 0.01)
    duration[degraded] = rng.uniform(check.degraded_ms, check.failed_ms, degraded.sum())
    verdict = np.where(failed, "fail", np.where(degraded, "degraded", "pass"))
    jitter = rng.integers(0, 900, n)  # ms after the slot start when the probe actually ran
    base = datetime.fromtimestamp(0, tz=UTC)
    return [
        {
            "check_id": check.id,
            "region": region,
            "scheduled_at": base + timedelta(seconds=int(slot)),
            "started_at": base + timedelta(seconds=int(slot), milliseconds=int(j)),
            "verdict": str(v),
            "duration_ms": float(round(d, 1)),
            "status_code": 503 if v == "fail" else 200,
            "failing_step": None,
            "error": "simulated: HTTP 503" if v == "fail" else None,
            "attempts": 1,
            "detail": {"simulated": True},
            "cert_expires_at": None,
            "flow_run_id": None,
            "simulated": True,
        }
        for slot, v, d, j in zip(
            slots.tolist(), verdict.tolist(), duration.tolist(), jitter.tolist(), strict=True
        )
    ]
