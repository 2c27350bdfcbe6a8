"""Every usage anomaly says why: the expectation's terms, the calendar effect, the baseline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from tasks.cost.anomaly.detect import score_and_save, score_series
from tasks.cost.anomaly.explain import explain_episode, explanation_text
from tasks.cost.anomaly.monitors import Monitor
from tasks.cost.anomaly.report import describe
from tasks.store import CostAnomaly, session_scope

from .helpers import EC2_US, START, THROUGH, insert_lines, scenario

MONITOR = Monitor(name="services", dimension="service")


def _month_end_series() -> tuple[np.ndarray, date]:
    """Flat 100/day, 250 on every last day of a month, and 700 on the last day of May."""
    start = date(2026, 1, 1)
    days = [start + timedelta(days=i) for i in range(151)]
    values = np.array([[250.0 if (d + timedelta(days=1)).day == 1 else 100.0 for d in days]])
    values[0, days.index(date(2026, 5, 31))] = 700.0
    return values + np.random.default_rng(1).normal(0, 2, values.shape), start


def test_the_calendar_effect_and_the_baseline_are_named():
    values, start = _month_end_series()
    scored = score_series(values, start, MONITOR.thresholds, None, 64)
    episodes = scored.episodes
    assert len(episodes.start) == 1  # only the unusual month end; the usual ones are expected
    first, last = int(episodes.start[0]), int(episodes.end[0])

    explanation = explain_episode(
        scored.scores, scored.labels, int(episodes.row[0]), first, last, start, MONITOR
    )

    (day,) = explanation["days"]
    assert day["day"] == "2026-05-31"
    assert day["calendar"]["label"] == "last day of the month"
    assert day["calendar"]["factor"] == pytest.approx(2.5, rel=0.05)
    assert day["expected"] == pytest.approx(250, rel=0.05)
    assert day["expected"] == pytest.approx(
        day["weekday_index"] * day["level"] * day["calendar"]["factor"], rel=1e-3
    )
    assert explanation["baseline"] == {
        "pattern": ["2026-04-27", "2026-05-30"],
        "spread": ["2026-05-01", "2026-05-30"],
    }
    assert explanation["charge_category"] == ["Usage"]
    text = explanation_text(explanation, "USD")
    assert "last day of the month: x 2.5" in text
    assert "baseline 2026-04-27..2026-05-30" in text and "charges: Usage" in text


def test_a_stored_anomaly_carries_its_explanation_into_the_alert_text(store_engine):
    insert_lines(store_engine, scenario(spikes={(EC2_US, 97): 900.0}))

    score_and_save(store_engine, [MONITOR], THROUGH, datetime(2026, 10, 14, 6, tzinfo=UTC))

    with session_scope(store_engine) as session:
        anomaly = session.scalars(select(CostAnomaly)).one()
        text = describe(anomaly)
        explanation = anomaly.explanation
    assert explanation["days"][0]["day"] == (START + timedelta(days=97)).isoformat()
    assert explanation["days"][0]["calendar"] is None
    assert "why: expected " in text and "x weekly level" in text
