"""The ``status_page`` benchmark's store: 200 public services' rollups, and a plain reader of them.

Each service counts two checks in three regions, one result a minute; the store holds what the
page reads after 90 days (day buckets, today's hours, this hour's minutes), written as the
store's own :class:`~tasks.store.rollup_cells.Bucket` rows. The reference reader reads the same
buckets as whole rows (:func:`~tasks.store.rollup_reads.read_rollups`) and sums their cells in
Python per service and day, as a reader of the rollups would without the database's sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

from tasks.probes.catalog import AnyCheck, parse_check
from tasks.slo.definition import Indicator, SloDefinition
from tasks.status.spec import PublicService, StatusPageSpec
from tasks.store import CheckRollup
from tasks.store.rollup_cells import Bucket, latency_codes
from tasks.store.rollup_reads import covering_plan, read_rollups
from tasks.store.rollups import DAY, HOUR, MINUTE, RESOLUTIONS
from tasks.store.sql import execute_many

__all__ = ["NOW", "fleet", "plain_bars", "write_rollups"]

NOW = datetime(2026, 12, 7, 12, 0, 30, tzinfo=UTC)
REGIONS = ("ap-northeast-1", "eu-west-1", "us-east-1")
_CHUNK = 20_000


def fleet(services: int) -> tuple[StatusPageSpec, list[AnyCheck]]:
    """A page of ``services`` public services, each counting two checks."""
    checks: list[AnyCheck] = []
    public = []
    for i in range(services):
        ids = (f"svc{i:03d}-a", f"svc{i:03d}-b")
        checks += [
            parse_check({"id": c, "service": f"svc{i:03d}", "request": {"url": "http://x"}})
            for c in ids
        ]
        slo = SloDefinition(
            id=f"svc{i:03d}", service=f"svc{i:03d}", indicator=Indicator("a", ids), target=0.999
        )
        public.append(PublicService(f"Group {i // 20}", f"Service {i}", None, slo, {}, ids, ids))
    return StatusPageSpec("bench", "Benchmark", tuple(public), {}), checks


def _buckets(days: int) -> list[tuple[int, int]]:
    t = int(NOW.timestamp())
    today, hour = t - t % DAY, t - t % HOUR
    out = [(DAY, today - k * DAY) for k in range(1, days)]
    out += [(HOUR, h) for h in range(today, hour, HOUR)]
    return out + [(MINUTE, m) for m in range(hour, t - t % MINUTE + MINUTE, MINUTE)]


def write_rollups(engine: Engine, checks: Sequence[AnyCheck], days: int, seed: int = 11) -> int:
    """The rollup rows the page reads, one result a minute per check and region."""
    rng = np.random.default_rng(seed)
    code = int(latency_codes(np.array([120.0]))[0])
    rows: list[dict[str, Any]] = []
    written = 0
    with engine.begin() as conn:
        for check in checks:
            for region in REGIONS:
                for resolution, start in _buckets(days):
                    n = resolution // MINUTE
                    bad = int(rng.binomial(n, 0.001))
                    last = start + resolution - MINUTE + 7
                    bucket = Bucket()
                    bucket.add_row(
                        {
                            "cells": {f"pass:{code}": [n - bad, last], f"fail:{code}": [bad, last]},
                            "pass_count": n - bad,
                            "degraded_count": 0,
                            "fail_count": bad,
                            "error_count": 0,
                            "latency_sum_ms": 120.0 * n,
                        }
                    )
                    rows.append(
                        {
                            "check_id": check.id,
                            "region": region,
                            "resolution": resolution,
                            "bucket_start": start,
                            **bucket.as_row(),
                        }
                    )
                    if len(rows) == _CHUNK:
                        execute_many(conn, insert(CheckRollup), rows)
                        written, rows = written + len(rows), []
        execute_many(conn, insert(CheckRollup), rows)
    return written + len(rows)


def plain_bars(engine: Engine, spec: StatusPageSpec, days: int) -> list[list[tuple[int, int]]]:
    """(good, total) per service and day, from whole rollup rows summed in Python."""
    t = int(NOW.timestamp())
    first = t - t % DAY - (days - 1) * DAY
    ranges = covering_plan([first, t - t % MINUTE + MINUTE], RESOLUTIONS)
    with engine.connect() as conn:
        rows = read_rollups(conn, {c for s in spec.services for c in s.bar_checks}, ranges)
    sums: dict[str, list[list[int]]] = {}
    for check, start, cells in zip(rows.check_id, rows.bucket_start, rows.cells, strict=True):
        day = (int(start) - first) // DAY
        per_day = sums.setdefault(check, [[0, 0] for _ in range(days)])
        for key, (count, _) in cells.items():
            verdict = key.rpartition(":")[0]
            if verdict in ("pass", "degraded", "fail"):
                per_day[day][1] += count
                per_day[day][0] += count if verdict != "fail" else 0
    empty = [[0, 0] for _ in range(days)]
    return [
        [
            (
                sum(sums.get(c, empty)[k][0] for c in s.bar_checks),
                sum(sums.get(c, empty)[k][1] for c in s.bar_checks),
            )
            for k in range(days)
        ]
        for s in spec.services
    ]
