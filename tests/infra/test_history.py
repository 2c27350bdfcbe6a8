from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from infra.sandbox.history import Incident, SimulatedCheck, default_incidents, simulate_history
from tasks.store import CheckResult, get_engine, session_scope
from tasks.store.check_results import fetch_results
from tasks.store.compaction import compact_check_results, compaction_cutoff
from tasks.store.rollup_reads import read_rollup_sums
from tests.store.readers import readers_view

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # a multiple of every frequency used below
REGIONS = ("eu-west-1", "us-east-1", "ap-northeast-1")
EU, US, AP = REGIONS
HEALTH = SimulatedCheck("shop-health", 60, REGIONS, degraded_ms=500, failed_ms=2000)
ORDERS = SimulatedCheck("shop-order-journey", 300, (EU,), degraded_ms=2000, failed_ms=8000)


def verdicts(engine, check_id: str, region: str) -> tuple[np.ndarray, np.ndarray]:
    """(started_at in epoch seconds, verdict) of one check in one region, oldest first."""
    columns = fetch_results(engine, [check_id], NOW - timedelta(days=30), NOW, regions=[region])
    return columns.started_at, columns.verdict


def test_history_writes_one_row_per_slot_and_region(store_engine) -> None:
    written = simulate_history(store_engine, [HEALTH, ORDERS], NOW, days=1, incidents=[])

    # Slots fall strictly inside (now - 1 day, now): 1440 - 1 minutes, 288 - 1 five-minute slots.
    assert written == 1439 * 3 + 287 * 1
    with session_scope(store_engine) as session:
        rows = session.execute(
            select(CheckResult.check_id, CheckResult.region, func.count()).group_by(
                CheckResult.check_id, CheckResult.region
            )
        ).all()
    per_series = {(check_id, region): n for check_id, region, n in rows}
    assert per_series == {(HEALTH.id, r): 1439 for r in REGIONS} | {(ORDERS.id, EU): 287}
    columns = fetch_results(store_engine, None, NOW - timedelta(days=2), NOW + timedelta(days=1))
    assert len(columns) == written
    assert columns.started_at.min() > (NOW - timedelta(days=1)).timestamp()
    assert columns.started_at.max() < NOW.timestamp()


def test_history_rows_are_marked_simulated(store_engine) -> None:
    simulate_history(store_engine, [ORDERS], NOW, days=1, incidents=[])

    columns = fetch_results(store_engine, None, NOW - timedelta(days=2), NOW)
    assert len(columns) == 287 and columns.simulated.all()
    with session_scope(store_engine) as session:
        rows = session.execute(select(CheckResult.detail, CheckResult.flow_run_id)).all()
    assert len(rows) == 287
    assert all(detail == {"simulated": True} and run is None for detail, run in rows)


def test_incident_fails_its_checks_and_regions_inside_its_window_only(tmp_path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'history.db'}")
    products = SimulatedCheck("shop-products-list", 60, REGIONS, degraded_ms=800, failed_ms=3000)
    start, end = NOW - timedelta(hours=6), NOW - timedelta(hours=5)
    outage = Incident(
        "eu outage", start, end, 1.0, regions=frozenset({EU}), checks=frozenset({HEALTH.id})
    )
    simulate_history(engine, [HEALTH, products], NOW, days=1, incidents=[outage])

    ts, verdict = verdicts(engine, HEALTH.id, EU)
    inside = (ts >= start.timestamp()) & (ts < end.timestamp())
    assert inside.sum() == 60
    assert (verdict[inside] == "fail").all()
    # The baseline elsewhere is 0.01% failures: a handful at most, never the incident's 100%.
    assert (verdict[~inside] == "fail").mean() < 0.01
    for check_id, region in [(HEALTH.id, US), (HEALTH.id, AP), (products.id, EU)]:
        _, others = verdicts(engine, check_id, region)
        assert (others == "fail").mean() < 0.01, (check_id, region)


def test_incident_failure_rate_sets_the_share_of_failures(tmp_path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'history.db'}")
    start = NOW - timedelta(hours=20)
    simulate_history(engine, [HEALTH], NOW, days=1, incidents=[Incident("x", start, NOW, 0.25)])

    for region in REGIONS:
        ts, verdict = verdicts(engine, HEALTH.id, region)
        inside = ts >= start.timestamp()
        assert inside.sum() == 20 * 60  # from the start slot up to the minute before now
        # 1,200 draws at 25%: the standard deviation of the share is ~1.3 points.
        assert (verdict[inside] == "fail").mean() == pytest.approx(0.25, abs=0.06)
        assert (verdict[~inside] == "fail").mean() < 0.01


def test_history_is_deterministic_for_a_seed(tmp_path) -> None:
    def run(name: str, seed: int) -> list[tuple]:
        engine = get_engine(f"sqlite:///{tmp_path / name}")
        incidents = default_incidents(NOW, [HEALTH.id, ORDERS.id])
        simulate_history(engine, [HEALTH, ORDERS], NOW, days=1, incidents=incidents, seed=seed)
        with session_scope(engine) as session:
            return [
                tuple(row)
                for row in session.execute(
                    select(
                        CheckResult.check_id,
                        CheckResult.region,
                        CheckResult.started_at,
                        CheckResult.verdict,
                        CheckResult.duration_ms,
                    ).order_by(CheckResult.check_id, CheckResult.region, CheckResult.scheduled_at)
                ).all()
            ]

    first, again, other = run("a.db", 7), run("b.db", 7), run("c.db", 8)
    assert first == again
    assert len(other) == len(first) and other != first


def test_default_incidents_target_regions_checks_and_now() -> None:
    checks = ["shop-health", "shop-products-list", "shop-order-journey"]
    regional, deploy, ongoing = default_incidents(NOW, checks)

    assert regional.regions == frozenset({EU}) and regional.checks is None
    assert NOW - timedelta(days=10) < regional.start < regional.end < NOW - timedelta(days=9)
    journeys = frozenset({"shop-products-list", "shop-order-journey"})
    assert deploy.checks == journeys and deploy.regions is None
    assert ongoing.checks == journeys and ongoing.end == NOW
    assert 0 < ongoing.failure_rate < 1
    # Without any order or product check the incidents hit every check rather than none.
    assert all(i.checks is None for i in default_incidents(NOW, ["shop-health"]))


def readers_view_with_sums(engine) -> dict[str, list]:
    """What the readers see, and verdict sums over cuts inside packed hours."""
    checks = [HEALTH.id, ORDERS.id]
    cuts = [int(NOW.timestamp()) - s for s in (30 * 3600 + 420, 9 * 3600 + 60, 0)]
    with engine.connect() as conn:
        sums = read_rollup_sums(conn, checks, {60: [(cuts[0], cuts[-1])]}, cuts)
    return {
        **readers_view(engine, checks),
        "sums": sorted(
            zip(
                sums.check_id.tolist(),
                sums.region.tolist(),
                sums.segment.tolist(),
                sums.counts.tolist(),
                sums.last.tolist(),
                strict=True,
            )
        ),
    }


def test_history_packed_before_the_cutoff_reads_as_compacted_rows(tmp_path) -> None:
    incidents = default_incidents(NOW, [HEALTH.id, ORDERS.id])
    cutoff = datetime.fromtimestamp(compaction_cutoff(NOW, 6), UTC)
    as_rows = get_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    simulate_history(as_rows, [HEALTH, ORDERS], NOW, days=2, incidents=incidents)
    compacted = compact_check_results(as_rows, NOW, after_hours=6)
    packed = get_engine(f"sqlite:///{tmp_path / 'packed.db'}")
    written = simulate_history(
        packed, [HEALTH, ORDERS], NOW, days=2, incidents=incidents, packed_before=cutoff
    )

    with session_scope(packed) as session:
        hot = session.execute(select(func.count()).select_from(CheckResult)).scalar_one()
    assert hot == written - compacted.results_packed > 0  # only the last six hours are rows
    assert readers_view_with_sums(packed) == readers_view_with_sums(as_rows)
