"""Benchmark ``store_growth``: bytes per check per day in the store, and a 30-day fleet's size.

Store: PostgreSQL (a schema of its own, dropped afterwards; SQLite in a temporary file when no
server answers, stated). C checks (20; 5 with ``quick``) x 3 regions x one result a minute for D
days (2; 1 with ``quick``) go through the production write path
(:func:`~tasks.store.check_results.upsert_check_results`: raw rows and their rollups, in chunks
as probe runs would write them over a day). Each table is then vacuumed (``VACUUM FULL``) so
sizes are live data and indexes, not the load's dead rows, and measured: raw results as rows.
Then the store-retention flow's compaction runs at the end of the load
(:func:`~tasks.store.compaction.compact_check_results`: every hour older than
``TRACEO_COMPACT_AFTER_HOURS`` packed), the tables are vacuumed again and measured again: packed
raw results and packed minutes (the packed table split by payload bytes), the hot rows left, and
hour and day rollups (the rollup table split by rows).

Ours: the 1,000-check fleet after 30 days under the default retention (packed raw results kept
``TRACEO_RAW_RETENTION_DAYS``, packed minute rollups ``TRACEO_MINUTE_ROLLUP_RETENTION_DAYS``,
the hot raw rows and minute rows of the last compaction age, hour and day rollups all 30 days),
computed from the measured bytes. Reference, measured in the same run: the same fleet with no
rollups, no retention and no packing (30 days of raw results as rows), as the store held it
before issue 21.
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
from tasks.store.compaction import compact_check_results
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


def _measure(engine: Engine, policy: RetentionPolicy) -> dict[str, int]:
    _compact(engine)
    return {row.what: row.bytes or 0 for row in store_usage(engine, policy)}


def run(quick: bool) -> list[Measurement]:
    checks, days = (5, 1) if quick else (20, 2)
    settings = get_settings()
    policy = RetentionPolicy.from_settings(settings)
    hot_hours = settings.compact_after_hours
    url, remove = scratch_store("traceo_bench_growth")
    try:
        engine = get_engine(url)
        started = time.perf_counter()
        written = _load(engine, checks, days)
        load_s = time.perf_counter() - started
        as_rows = _measure(engine, policy)
        cpu = time.process_time()
        started = time.perf_counter()
        report = compact_check_results(engine, START + timedelta(days=days), hot_hours)
        pack_s, pack_cpu = time.perf_counter() - started, time.process_time() - cpu
        packed = _measure(engine, policy)
        backend = engine.dialect.name
    finally:
        dispose_engines()
        remove()
    packed_days = days - hot_hours / 24
    per_check_day = {
        "raw as rows": as_rows["check_results"] / (checks * days),
        "minutes as rows": as_rows["rollups 1m"] / (checks * days),
        "raw packed": packed["check_results packed"] / (checks * packed_days),
        "rollups 1m packed": packed["rollups 1m packed"] / (checks * packed_days),
        **{what: packed[what] / (checks * days) for what in ("rollups 1h", "rollups 1d")},
    }
    kept = {
        "raw packed": min(policy.raw_days, DAYS) - hot_hours / 24,
        "rollups 1m packed": min(policy.minute_days, DAYS) - hot_hours / 24,
        "rollups 1h": min(policy.rollup_days, DAYS),
        "rollups 1d": min(policy.rollup_days, DAYS),
    }
    # The last compaction age stays as rows: raw results and their minute rollups.
    hot = FLEET * (packed["check_results"] + packed["rollups 1m"]) / checks
    ours = hot + sum(FLEET * per_check_day[what] * kept[what] for what in kept)
    reference = FLEET * per_check_day["raw as rows"] * DAYS
    gib = 1024**3
    detail = ", ".join(f"{what} {per_check_day[what] / 1024:,.0f} KiB" for what in per_check_day)
    parts = ", ".join(
        f"{what} {FLEET * per_check_day[what] * kept[what] / gib:.2f} GiB" for what in kept
    )
    note = (
        f"{backend}; measured on {checks} checks x 3 regions x 1/min x {days} day(s) "
        f"({written:,} results written in {load_s:.0f} s; compaction packed "
        f"{report.results_packed:,} results into {report.hours_packed:,} hours in {pack_s:.1f} s, "
        f"{pack_cpu:.1f} s CPU); per check per day: {detail}. Fleet of {FLEET:,} checks after "
        f"{DAYS} days: hot raw and minute rows of the last {hot_hours} h {hot / gib:.2f} GiB, "
        f"{parts}; total "
        f"{ours / gib:.2f} GiB. Reference: raw results as rows only, {DAYS} days, no rollups: "
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
