"""Evaluating on rollups gives the verdicts of evaluating on raw results, to the last figure."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import delete, update

from deployments.bench.slo_evaluation import NOW, make_workload
from tasks.slo.definition import Indicator, SloDefinition
from tasks.slo.rollup_source import read_plan
from tasks.slo.source import evaluate_from_raw, evaluate_from_store
from tasks.slo.windows import CalendarWindow, Duration
from tasks.store.check_results import upsert_check_results
from tasks.store.compaction import compact_check_results
from tasks.store.models import CheckResult
from tasks.store.packed_models import CheckPackedHour
from tasks.store.rollup_models import StoreMark
from tasks.store.rollups import RAW_CUTOFF_MARK


def month_of_scenarios() -> tuple[list[SloDefinition], list[dict]]:
    """The benchmark's scenarios (one of each kind) as stored results: every fifth minute for a
    month, every minute of the last three hours, latencies around 300 ms (some exactly 300)."""
    slos, events = make_workload(10)
    rng = np.random.default_rng(7)
    now = int(NOW.timestamp())
    rows = []
    for slo, ev in zip(slos, events, strict=True):
        minute = ev.ts - ev.ts % 60
        keep = ((minute // 60) % 5 == 0) | (minute >= now - 3 * 3600)
        duration = np.round(rng.normal(280, 40, len(ev.ts)), 1)
        duration[rng.random(len(ev.ts)) < 0.05] = 300.0
        for i in np.flatnonzero(keep):
            start = datetime.fromtimestamp(int(ev.ts[i]), UTC)
            rows.append(
                {
                    "check_id": slo.indicator.checks[0],
                    "region": ev.regions[ev.region[i]],
                    "scheduled_at": datetime.fromtimestamp(int(minute[i]), UTC),
                    "started_at": start,
                    "verdict": "pass" if ev.good[i] else "fail",
                    "duration_ms": None if i % 97 == 0 else float(duration[i]),
                }
            )
    return slos, rows


def variants(slos: list[SloDefinition]) -> list[SloDefinition]:
    """Every way an SLO is counted: quorum, time slices, latency, a calendar month, a 7m slot."""
    latency = Indicator("latency", checks=("check-0001", "check-0002"), latency_op="lte")
    out = list(slos)
    for i, slo in enumerate(slos[:5]):
        out += [
            replace(slo, id=f"{slo.id}-quorum", min_failing_regions=2),
            replace(
                slo,
                id=f"{slo.id}-slices",
                budgeting_method="Timeslices",
                time_slice_target=0.9,
                slot_seconds=300 if i % 2 else 60,
            ),
            replace(slo, id=f"{slo.id}-7m", slot_seconds=420, min_failing_regions=1 + i % 2),
            replace(
                slo,
                id=f"{slo.id}-month",
                window=CalendarWindow(Duration(1, "M"), datetime(2024, 1, 1), "Europe/Paris"),
            ),
        ]
    out += [
        replace(slos[0], id="latency-lte", indicator=replace(latency, latency_ms=300.0)),
        replace(
            slos[0],
            id="latency-lt",
            target=0.9,
            indicator=replace(latency, latency_op="lt", latency_ms=300.0),
        ),
        replace(slos[0], id="latency-off-ladder", indicator=replace(latency, latency_ms=301.7)),
    ]
    return out


def same(engine, slos, services, now) -> list:
    from_rollups = evaluate_from_store(engine, slos, services, now)
    from_raw = evaluate_from_raw(engine, slos, services, now)
    assert [r.to_dict() for r in from_rollups] == [r.to_dict() for r in from_raw]
    return from_rollups


@pytest.fixture(scope="module")
def month() -> tuple[list[SloDefinition], list[dict]]:
    slos, rows = month_of_scenarios()
    return variants(slos), rows


def test_a_generated_month_gets_the_raw_verdicts_and_keeps_them_once_raw_results_are_gone(
    store_engine, month
) -> None:
    slos, rows = month
    upsert_check_results(store_engine, rows)
    fired = set()
    verdicts = {}
    instants = (NOW, NOW + timedelta(minutes=7, seconds=10), NOW + timedelta(hours=2))
    for now in instants:
        t = int(now.timestamp())
        assert [s.id for s in slos if read_plan(s, t) is None] == ["latency-off-ladder"]
        evaluated = same(store_engine, slos, {}, now)
        verdicts[now] = [r.to_dict() for r in evaluated]
        fired |= {a.key for r in evaluated for a in r.firing}
    assert {"page:1h/5m", "ticket:1d/2h", "no-data"} <= fired

    # Cold hours packed (all but the last six): rollups read from packed minutes give the raw
    # verdicts (raw reads of packed hours equal the rows they replace: tests/store/test_compaction).
    packed = compact_check_results(store_engine, NOW, after_hours=6)
    assert packed.results_packed > len(rows) // 2
    for now in instants:
        packed_reports = evaluate_from_store(store_engine, slos, {}, now)
        assert [r.to_dict() for r in packed_reports] == verdicts[now]

    # The month written once (the slowest part) also shows the rollups alone carry the verdicts.
    slos = [s for s in slos if s.id != "latency-off-ladder"]
    before = evaluate_from_store(store_engine, slos, {}, NOW)
    minute = NOW.replace(second=0)
    with store_engine.begin() as conn:
        conn.execute(StoreMark.__table__.insert(), {"name": RAW_CUTOFF_MARK, "at": minute})
        conn.execute(delete(CheckResult).where(CheckResult.started_at < minute))
        # every packed hour is older than the minute: its raw results go, its minutes stay
        conn.execute(update(CheckPackedHour).values(raw=None, results=0))

    after = evaluate_from_store(store_engine, slos, {}, NOW)
    assert [r.to_dict() for r in after] == [r.to_dict() for r in before]


def shop_rows(check: str, hours: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for minute in range(hours * 60):
        for region in ("eu-west-1", "us-east-1", "ap-northeast-1"):
            at = NOW.replace(second=0) - timedelta(minutes=minute)
            rows.append(
                {
                    "check_id": check,
                    "region": region,
                    "scheduled_at": at,
                    "started_at": at + timedelta(seconds=rng.randrange(50)),
                    "verdict": rng.choice(["pass"] * 30 + ["fail", "degraded", "error"]),
                    "duration_ms": rng.uniform(50, 900),
                }
            )
    return rows


def shop_slos(check: str) -> list[SloDefinition]:
    base = SloDefinition(
        id="shop", service="shop", indicator=Indicator("sli", checks=(check,)), target=0.99
    )
    return [base, replace(base, id="shop-quorum", min_failing_regions=2)]


def test_late_duplicate_and_reordered_deliveries_count_once(store_engine) -> None:
    rows = shop_rows("shop-health", 12, seed=1)
    reruns = [{**r, "verdict": "fail", "started_at": r["started_at"] + timedelta(seconds=9)}
              for r in rows[::7]]  # fmt: skip
    deliveries = [*rows, *reruns, *rows[::11]]
    random.Random(2).shuffle(deliveries)
    for start in range(0, len(deliveries), 500):  # many small writes, in no order
        upsert_check_results(store_engine, deliveries[start : start + 500])

    reports = same(store_engine, shop_slos("shop-health"), {}, NOW)
    stored = {(r["region"], r["scheduled_at"]): r for r in deliveries}  # the last one wins
    counted = [r for r in stored.values() if r["verdict"] != "error" and r["started_at"] <= NOW]
    assert reports[0].events == len(counted)


def test_a_renamed_check_counts_only_under_the_name_the_slo_selects(store_engine) -> None:
    upsert_check_results(store_engine, shop_rows("shop-health", 2, seed=3))
    upsert_check_results(store_engine, shop_rows("shop-healthz", 1, seed=4))

    renamed, _ = same(store_engine, shop_slos("shop-healthz"), {}, NOW)
    removed, _ = same(store_engine, shop_slos("gone"), {}, NOW)

    assert renamed.events == sum(r["verdict"] != "error" for r in shop_rows("shop-healthz", 1, 4))
    assert removed.events == 0 and removed.alert("no-data").firing
