"""Persisting anomalies: idempotent reruns, growing episodes, planned feedback (both backends)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tasks.cost.anomaly.feedback import set_feedback
from tasks.cost.anomaly.store import AnomalyRecord, get_anomaly, list_anomalies, save_anomalies
from tasks.errors import NotFoundError
from tasks.store import CostAnomaly, session_scope

NOW = datetime(2026, 10, 14, 6, 0, tzinfo=UTC)
DAY = date(2026, 10, 10)


def record(start: date = DAY, end: date = DAY, impact: str = "500", **changes) -> AnomalyRecord:
    base = AnomalyRecord(
        monitor="services",
        dimension="service",
        key="Amazon EC2",
        value="Amazon EC2",
        currency="USD",
        start_date=start,
        end_date=end,
        expected_total=Decimal("1000.000000"),
        actual_total=Decimal("1000.000000") + Decimal(impact),
        total_impact=Decimal(impact).quantize(Decimal("0.000001")),
        max_impact=Decimal(impact).quantize(Decimal("0.000001")),
        impact_pct=float(impact) / 10,
        score=6.5,
    )
    return replace(base, **changes)


def rows(engine) -> list[dict]:
    with session_scope(engine) as session:
        found = session.scalars(select(CostAnomaly).order_by(CostAnomaly.id)).all()
        return [
            {c.key: getattr(a, c.key) for c in CostAnomaly.__mapper__.column_attrs} for a in found
        ]


def explain_counter():
    calls = []

    def explain(rec: AnomalyRecord) -> list[dict]:
        calls.append(rec)
        return [{"service": rec.key, "impact": str(rec.total_impact), "share": 1.0}]

    return explain, calls


def test_a_rerun_with_the_same_data_changes_nothing(store_engine):
    explain, calls = explain_counter()
    first = save_anomalies(
        store_engine, [record(), record(key="Amazon S3", value="Amazon S3")], NOW, explain
    )
    assert len(first.created) == 2 and len(calls) == 2
    before = rows(store_engine)
    again = save_anomalies(
        store_engine,
        [record(), record(key="Amazon S3", value="Amazon S3")],
        NOW + timedelta(hours=8),
        explain,
    )
    assert (
        again.created == []
        and again.updated == []
        and sorted(again.unchanged) == sorted(first.created)
    )
    assert len(calls) == 2  # root causes are not recomputed
    assert rows(store_engine) == before


def test_a_growing_episode_keeps_its_id_and_first_detection(store_engine):
    (anomaly_id,) = save_anomalies(store_engine, [record()], NOW).created
    grown = save_anomalies(
        store_engine, [record(end=DAY + timedelta(days=2), impact="1700")], NOW + timedelta(days=2)
    )
    assert grown.updated == [anomaly_id]
    (row,) = rows(store_engine)
    assert row["id"] == anomaly_id and row["end_date"] == DAY + timedelta(days=2)
    assert row["total_impact"] == Decimal("1700") and row["detected_at"] == NOW


def test_restated_cost_moving_the_start_updates_the_same_anomaly(store_engine):
    (anomaly_id,) = save_anomalies(
        store_engine, [record(DAY, DAY + timedelta(days=1))], NOW
    ).created
    moved = save_anomalies(
        store_engine, [record(DAY - timedelta(days=1), DAY + timedelta(days=1))], NOW
    )
    assert moved.updated == [anomaly_id]
    assert rows(store_engine)[0]["start_date"] == DAY - timedelta(days=1)


def test_an_episode_cut_short_by_the_window_does_not_overwrite_the_whole_one(store_engine):
    (anomaly_id,) = save_anomalies(
        store_engine, [record(DAY, DAY + timedelta(days=2), "900")], NOW
    ).created
    tail = record(DAY + timedelta(days=1), DAY + timedelta(days=2), "600", truncated=True)
    assert save_anomalies(store_engine, [tail], NOW).unchanged == [anomaly_id]
    assert rows(store_engine)[0]["start_date"] == DAY and rows(store_engine)[0][
        "total_impact"
    ] == Decimal("900")


def test_a_later_separate_episode_is_a_new_anomaly(store_engine):
    first = save_anomalies(store_engine, [record()], NOW).created
    later = save_anomalies(
        store_engine, [record(DAY + timedelta(days=5), DAY + timedelta(days=5))], NOW
    ).created
    assert later and later != first
    assert [a.id for a in list_anomalies(store_engine)] == [later[0], first[0]]  # newest first
    assert [a.id for a in list_anomalies(store_engine, since=DAY + timedelta(days=1))] == later
    assert list_anomalies(store_engine, monitor="other") == []


def test_feedback_is_recorded_and_an_unknown_id_is_not_found(store_engine):
    (anomaly_id,) = save_anomalies(store_engine, [record()], NOW).created
    set_feedback(store_engine, anomaly_id, "yes", NOW)
    set_feedback(store_engine, anomaly_id, "planned", NOW + timedelta(hours=1))
    anomaly = get_anomaly(store_engine, anomaly_id)
    assert anomaly.feedback == "planned" and anomaly.feedback_at == NOW + timedelta(hours=1)
    with pytest.raises(NotFoundError, match="no cost anomaly with id 999"):
        set_feedback(store_engine, 999, "no", NOW)
    with pytest.raises(ValueError, match="yes, no, planned"):
        set_feedback(store_engine, anomaly_id, "maybe", NOW)
    assert get_anomaly(store_engine, 999) is None


def test_planned_feedback_survives_growth_and_carries_over_to_a_continuation(store_engine):
    (planned_id,) = save_anomalies(store_engine, [record()], NOW).created
    set_feedback(store_engine, planned_id, "planned", NOW)
    save_anomalies(store_engine, [record(end=DAY + timedelta(days=1), impact="900")], NOW)
    assert get_anomaly(store_engine, planned_id).feedback == "planned"
    # the load test resumes after one quiet day: still the planned activity
    (resumed,) = save_anomalies(
        store_engine, [record(DAY + timedelta(days=3), DAY + timedelta(days=3))], NOW
    ).created
    assert get_anomaly(store_engine, resumed).feedback == "planned"
    # a week later it is news again
    (fresh,) = save_anomalies(
        store_engine, [record(DAY + timedelta(days=10), DAY + timedelta(days=10))], NOW
    ).created
    assert get_anomaly(store_engine, fresh).feedback is None
    # another key is never affected
    (other,) = save_anomalies(
        store_engine,
        [record(DAY + timedelta(days=2), DAY + timedelta(days=2), key="Amazon S3")],
        NOW,
    ).created
    assert get_anomaly(store_engine, other).feedback is None
