"""Benchmark ``store_growth``: bytes per check per day in the store, and a 30-day fleet's size.

Store: PostgreSQL (a schema of its own, dropped afterwards; SQLite in a temporary file when no
server answers, stated). C checks (20; 5 with ``quick``) x 3 regions x one result a minute for D
days (2; 1 with ``quick``) go through the production write path
(:func:`~tasks.store.check_results.upsert_check_results`: raw rows and their rollups, in chunks
as probe runs would write them over a day), then each table is compacted (``VACUUM FULL``) so
sizes are live data and indexes, not the load's dead rows. Bytes per check per day are measured
for raw results and per rollup resolution (the rollup table split by rows).

Ours: the 1,000-check fleet after 30 days under the default retention (raw results kept
``TRACEO_RAW_RETENTION_DAYS``, minute rollups ``TRACEO_MINUTE_ROLLUP_RETENTION_DAYS``, hour and
day rollups all 30 days), computed from the measured bytes. Reference: the same fleet with no
rollups and no retention (30 days of raw results), as the store held it before issue 21.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from deployments.bench import Measurement
from deployments.bench.scratch_store import scratch_store
from tasks.settings import get_settings
from tasks.store import dispose_engines, get_engine
from tasks.store.check_results import upsert_check_results
from tasks.store.retention import RetentionPolicy
from tasks.store.usage import store_usage

__all__ = ["run"]

FLEET, DAYS = 1_000, 30
TARGET_BYTES = 5 * 1024**3
START = datetime(2025, 6, 1, tzinfo=UTC)
REGIONS = ("ap-northeast-1", "eu-west-1", "us-east-1")
_RUN_MINUTES = 60  # results written per call: an hour of probe runs at a time


def _load(engine: Engine, checks: int, days: int) -> int:
    rng = np.random.default_rng(5)
    written = 0
    for hour in range(days * 24):
        at = START + timedelta(hours=hour)
        run = str(uuid.UUID(int=hour))
        rows: list[dict[str, Any]] = []
        for minute in range(_RUN_MINUTES):
            slot = at + timedelta(minutes=minute)
            durations = rng.lognormal(np.log(120.0), 0.35, checks * len(REGIONS))
            for i, duration in enumerate(durations.tolist()):
                failed = duration > 400
                rows.append(
                    {
                        "check_id": f"check-{i // len(REGIONS):04d}",
                        "region": REGIONS[i % len(REGIONS)],
                        "scheduled_at": slot,
                        "started_at": slot + timedelta(milliseconds=int(duration * 7) % 900),
                        "verdict": "fail" if failed else "pass",
                        "duration_ms": round(duration, 1),
                        "status_code": 503 if failed else 200,
                        "error": "HTTP 503" if failed else None,
                    }
                )
        written += upsert_check_results(engine, rows, flow_run_id=run)
    return written


def _compact(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM FULL"))


def run(quick: bool) -> list[Measurement]:
    checks, days = (5, 1) if quick else (20, 2)
    policy = RetentionPolicy.from_settings(get_settings())
    url, remove = scratch_store("traceo_bench_growth")
    try:
        engine = get_engine(url)
        started = time.perf_counter()
        written = _load(engine, checks, days)
        load_s = time.perf_counter() - started
        _compact(engine)
        usage = {row.what: row for row in store_usage(engine, policy)}
        backend = engine.dialect.name
    finally:
        dispose_engines()
        remove()
    per_check_day = {what: (row.bytes or 0) / (checks * days) for what, row in usage.items()}
    kept = {
        "check_results": min(policy.raw_days, DAYS),
        "rollups 1m": min(policy.minute_days, DAYS),
        "rollups 1h": min(policy.rollup_days, DAYS),
        "rollups 1d": min(policy.rollup_days, DAYS),
    }
    ours = sum(FLEET * per_check_day[what] * kept[what] for what in kept)
    reference = FLEET * per_check_day["check_results"] * DAYS
    gib = 1024**3
    detail = ", ".join(f"{what} {per_check_day[what] / 1024:,.0f} KiB" for what in kept)
    note = (
        f"{backend}; measured on {checks} checks x 3 regions x 1/min x {days} day(s) "
        f"({written:,} results written in {load_s:.0f} s, then compacted); per check per day: "
        f"{detail}. Fleet of {FLEET:,} checks after {DAYS} days keeping raw {kept['check_results']}"
        f" d, minute rollups {kept['rollups 1m']} d, hour/day rollups {kept['rollups 1h']} d: "
        f"{ours / gib:.1f} GiB. Reference: raw results only, {DAYS} days, no rollups: "
        f"{reference / gib:.1f} GiB"
    )
    return [
        Measurement(
            workload="store_growth",
            ours=ours / gib,
            reference=reference / gib,
            unit="GiB",
            ratio=reference / ours if ours else float("inf"),
            target="< 5 GiB for 1,000 checks x 3 regions x 1/min after 30 days",
            met=ours < TARGET_BYTES,
            note=note,
        )
    ]
