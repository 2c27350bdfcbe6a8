"""Benchmark ``slo_cycle``: a fleet's SLO evaluation cycle on rollups next to today's raw path.

Store: PostgreSQL (a schema of its own, dropped afterwards; SQLite in a temporary file when no
server answers). A fleet of N checks (1,000; 100 with ``quick``) x 3 regions x one result a
minute, one 30-day rolling SLO per check with the default tiers.

Ours: one cycle, :func:`~tasks.slo.source.evaluate_from_store` (rollups, plus the filling minute
from raw results) and :func:`~tasks.slo.records.save_evaluations`, best of two. The fleet's
rollups are written as the store holds them after 30 days for every bucket this cycle reads (the
days, hours and minutes of the read plan); minute rows it does not read are not generated: they
make the table larger, not the read. Alerts routing is the same for both paths and not timed.

The store is then compacted as the store-retention flow leaves it (hours older than
``TRACEO_COMPACT_AFTER_HOURS`` packed: the reference's raw month, and the minutes at the
windows' far edge), so the cycle reads packed minutes where the store would hold them.

Reference: :func:`~tasks.slo.source.evaluate_from_raw` and ``save_evaluations`` over 30 days of
raw results of R checks (3; 1 with ``quick``: 130k raw rows each), the largest the raw path
reads here in a benchmark's time; its time is extrapolated linearly to N checks and stated so.
Those R checks' rollups are rebuilt from their raw results (``rebuild_rollups``) and the two
paths' reports for them must be identical. Loading the data is not timed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

from deployments.bench import Measurement
from deployments.bench.scratch_store import scratch_store
from tasks.settings import get_settings
from tasks.slo.definition import Indicator, SloDefinition
from tasks.slo.records import save_evaluations
from tasks.slo.rollup_source import read_plan
from tasks.slo.source import evaluate_from_raw, evaluate_from_store
from tasks.store import CheckResult, CheckRollup, dispose_engines, get_engine
from tasks.store.compaction import compact_check_results
from tasks.store.partitions import ensure_partitions
from tasks.store.rebuild import rebuild_rollups
from tasks.store.rollup_cells import Bucket, latency_codes
from tasks.store.sql import execute_many

__all__ = ["run"]

NOW = datetime(2025, 6, 30, 12, 0, 30, tzinfo=UTC)
REGIONS = ("ap-northeast-1", "eu-west-1", "us-east-1")
TARGET_SECONDS = 5.0
_CHUNK = 20_000


def _slo(check: str) -> SloDefinition:
    return SloDefinition(
        id=check, service="fleet", indicator=Indicator(check, checks=(check,)), target=0.999
    )


def _fleet_rollups(engine: Engine, checks: list[str], seed: int) -> int:
    """Rollup rows of every bucket the cycle reads, one result a minute per region."""
    rng = np.random.default_rng(seed)
    plan = read_plan(_slo(checks[0]), int(NOW.timestamp()))
    assert plan is not None
    buckets = [(r, b) for r, spans in plan.items() for a, z in spans for b in range(a, z, r)]
    code = int(latency_codes(np.array([120.0]))[0])
    rows: list[dict[str, Any]] = []
    written = 0
    for check in checks:
        for region in REGIONS:
            for resolution, start in buckets:
                n = resolution // 60
                bad = int(rng.binomial(n, 0.0005))
                last = start + resolution - 60 + 7
                cells = {f"pass:{code}": [n - bad, last]}
                if bad:
                    cells[f"fail:{code}"] = [bad, last]
                bucket = Bucket()
                bucket.add_row(
                    {
                        "cells": cells,
                        "pass_count": n - bad,
                        "degraded_count": 0,
                        "fail_count": bad,
                        "error_count": 0,
                        "latency_sum_ms": 120.0 * n,
                    }
                )
                rows.append(
                    {
                        "check_id": check,
                        "region": region,
                        "resolution": resolution,
                        "bucket_start": start,
                        **bucket.as_row(),
                    }
                )
                if len(rows) == _CHUNK:
                    written += _insert(engine, CheckRollup, rows)
    return written + _insert(engine, CheckRollup, rows)


def _raw_month(engine: Engine, checks: list[str], seed: int) -> int:
    """30 days of raw results, one a minute per region, up to NOW (rollups rebuilt after)."""
    rng = np.random.default_rng(seed)
    end = int(NOW.timestamp())
    minutes = np.arange(end - end % 60 - 30 * 86400 + 60, end - end % 60 + 60, 60)
    rows: list[dict[str, Any]] = []
    written = 0
    for check in checks:
        for region in REGIONS:
            bad = rng.random(len(minutes)) < 0.0005
            for minute, failed in zip(minutes.tolist(), bad.tolist(), strict=True):
                at = datetime.fromtimestamp(minute, UTC)
                rows.append(
                    {
                        "check_id": check,
                        "region": region,
                        "scheduled_at": at,
                        "started_at": at + timedelta(seconds=7),
                        "verdict": "fail" if failed else "pass",
                        "duration_ms": 120.0,
                        "attempts": 1,
                        "detail": {},
                        "simulated": True,
                    }
                )
                if len(rows) == _CHUNK:
                    written += _insert(engine, CheckResult, rows)
    written += _insert(engine, CheckResult, rows)
    rebuild_rollups(engine, NOW - timedelta(days=31), NOW + timedelta(minutes=1))
    return written


def _insert(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> int:
    if rows:
        with engine.begin() as conn:
            if model is CheckResult:
                ensure_partitions(conn, [row["scheduled_at"] for row in rows])
            execute_many(conn, insert(model), rows)
    n = len(rows)
    rows.clear()
    return n


def _cycle(engine: Engine, slos: list[SloDefinition], path: Any) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    reports = path(engine, slos, {}, NOW)
    save_evaluations(engine, reports)
    return time.perf_counter() - start, reports


def run(quick: bool) -> list[Measurement]:
    n_checks, n_ref = (100, 1) if quick else (1000, 3)
    url, remove = scratch_store("traceo_bench")
    try:
        engine = get_engine(url)
        reference_checks = [f"ref-{i:04d}" for i in range(n_ref)]
        fleet = [f"check-{i:04d}" for i in range(n_checks)]
        raw_rows = _raw_month(engine, reference_checks, seed=1)
        rollup_rows = _fleet_rollups(engine, fleet, seed=2)
        # As the store-retention flow leaves it: hours past the compaction age packed (the raw
        # month, and the minutes at each window's far edge).
        packed = compact_check_results(engine, NOW, get_settings().compact_after_hours)
        fleet_slos = [_slo(c) for c in fleet]
        ref_slos = [_slo(c) for c in reference_checks]

        ours, reports = min(_cycle(engine, fleet_slos, evaluate_from_store) for _ in range(2))
        raw_s, raw_reports = _cycle(engine, ref_slos, evaluate_from_raw)
        reference = raw_s * n_checks / n_ref
        _, rollup_reports = _cycle(engine, ref_slos, evaluate_from_store)
        agree = [r.to_dict() for r in raw_reports] == [r.to_dict() for r in rollup_reports]
        backend = engine.dialect.name
    finally:
        dispose_engines()
        remove()
    firing = sum(bool(r.firing) for r in reports)
    note = (
        f"{backend}; {n_checks} checks x 3 regions x 1/min, 30-day SLOs: {rollup_rows:,} rollup "
        f"rows written (every bucket the cycle reads; unread minute rows not generated), "
        f"then compacted ({packed.hours_packed:,} hours packed), "
        f"{firing} SLOs firing; ours best of 2 (read, evaluate, save). Reference: raw path on "
        f"{n_ref} check(s) ({raw_rows:,} raw rows, {raw_s:.2f} s), EXTRAPOLATED linearly to "
        f"{n_checks} checks; rollup and raw reports for those checks "
        + ("identical" if agree else "DIFFER")
    )
    return [
        Measurement(
            workload="slo_cycle",
            ours=ours,
            reference=reference,
            unit="s",
            ratio=reference / ours if ours > 0 else float("inf"),
            target=f"< {TARGET_SECONDS:.0f} s per cycle for 1,000 checks, same reports",
            met=agree and (quick or ours < TARGET_SECONDS),
            note=note,
        )
    ]
