"""Detection end to end over stored cost lines: anomalies, root causes, reruns (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tasks.cost.anomaly.detect import detect_anomalies, score_and_save
from tasks.store import CostAnomaly, session_scope

from .helpers import EC2_US, RDS_EU, START, THROUGH, insert_lines, monitor, scenario

NOW = datetime(2026, 10, 14, 6, 0, tzinfo=UTC)
MONITORS = [
    monitor("total", "total", immediate_impact=1000),
    monitor("services", "service"),
    monitor("accounts", "sub_account"),
    monitor("teams", "tag", tag="team"),
]
SPIKE = {(EC2_US, 97): 900.0, (EC2_US, 98): 700.0}


def stored(engine) -> list[dict]:
    with session_scope(engine) as session:
        found = session.scalars(select(CostAnomaly).order_by(CostAnomaly.id)).all()
        return [
            {c.key: getattr(a, c.key) for c in CostAnomaly.__mapper__.column_attrs} for a in found
        ]


def test_a_spike_is_found_by_every_monitor_with_its_root_cause(store_engine):
    insert_lines(store_engine, scenario(spikes=SPIKE))
    detection, _ = score_and_save(store_engine, MONITORS, THROUGH, NOW)
    assert detection.series == {"total": 1, "services": 3, "accounts": 2, "teams": 3}
    found = {(r["monitor"], r["key"]): r for r in stored(store_engine)}
    assert set(found) == {
        ("total", "total"),
        ("services", "Amazon Elastic Compute Cloud"),
        ("accounts", "111111111111"),
        ("teams", "web"),
    }
    total = found[("total", "total")]
    assert (total["start_date"], total["end_date"]) == (
        START + timedelta(days=97),
        START + timedelta(days=98),
    )
    assert float(total["total_impact"]) == pytest.approx(1600, rel=0.1)
    assert total["impact_pct"] > 15 and total["score"] >= 2.5 and total["currency"] == "USD"
    assert total["dimension"] == "total" and total["detected_at"] == NOW
    for row in found.values():
        top = row["root_causes"][0]
        assert (top["service"], top["region"], top["sub_account"], top["usage"]) == EC2_US
        assert top["share"] > 0.8
        assert sum(c["share"] for c in row["root_causes"]) == pytest.approx(1.0, abs=1e-3)


def test_rerunning_the_scoring_changes_nothing(store_engine):
    insert_lines(store_engine, scenario(spikes=SPIKE))
    _, first = score_and_save(store_engine, MONITORS, THROUGH, NOW)
    before = stored(store_engine)
    _, again = score_and_save(store_engine, MONITORS, THROUGH, NOW + timedelta(hours=8))
    assert again.created == [] and again.updated == []
    assert sorted(again.unchanged) == sorted(first.created)
    assert stored(store_engine) == before


def test_an_episode_that_grows_keeps_its_id(store_engine):
    insert_lines(store_engine, scenario(spikes={**SPIKE, (EC2_US, 99): 800.0}))
    through_first_day = THROUGH - timedelta(days=2)
    _, first = score_and_save(store_engine, MONITORS[:1], through_first_day, NOW)
    (anomaly_id,) = first.created
    (row,) = stored(store_engine)
    assert row["end_date"] == through_first_day
    _, grown = score_and_save(store_engine, MONITORS[:1], THROUGH, NOW + timedelta(days=2))
    assert grown.updated == [anomaly_id]
    (row,) = stored(store_engine)
    assert row["end_date"] == THROUGH and row["detected_at"] == NOW


def test_quiet_cost_gives_no_anomalies_and_old_episodes_are_outside_the_window(store_engine):
    insert_lines(store_engine, scenario(spikes={(RDS_EU, 60): 2000.0}))
    assert detect_anomalies(store_engine, MONITORS, THROUGH, lookback_days=14).records == []
    wide = detect_anomalies(store_engine, MONITORS, THROUGH, lookback_days=45).records
    assert {(r.monitor, r.key, r.start_date) for r in wide} >= {
        ("services", "Amazon Relational Database Service", START + timedelta(days=60))
    }


def test_lookback_must_be_positive(store_engine):
    with pytest.raises(ValueError, match="at least 1"):
        detect_anomalies(store_engine, MONITORS, THROUGH, lookback_days=0)


def test_a_lasting_rise_is_stored_once_as_a_step_change(store_engine):
    from .helpers import WEEK

    rise = {(EC2_US, i): 500.0 * WEEK[i % 7] for i in range(70, 100)}  # +50% for good
    insert_lines(store_engine, scenario(spikes=rise))
    score_and_save(store_engine, [monitor("total", "total")], THROUGH, NOW, lookback_days=40)
    (row,) = stored(store_engine)
    assert row["kind"] == "step_change" and row["start_date"] == START + timedelta(days=70)
    assert row["end_date"] < START + timedelta(days=80)  # then the new level is the baseline
