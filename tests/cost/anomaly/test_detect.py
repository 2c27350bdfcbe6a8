"""Detection end to end over stored cost lines: anomalies, root causes, reruns (both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tasks.cost.anomaly.detect import detect_anomalies, score_and_save
from tasks.store import CostAnomaly, session_scope

from .helpers import (
    EC2_US,
    RDS_EU,
    S3_US,
    START,
    THROUGH,
    cost_line,
    insert_lines,
    monitor,
    scenario,
)

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


def _charge(day, cost, labels, frequency, span_days=1):
    return cost_line(
        day,
        cost,
        labels,
        category="Purchase",
        charge_frequency=frequency,
        span_days=span_days,
        tags={"team": "web"},
    )


def test_fees_are_compared_month_to_month_and_purchases_announced_once(store_engine):
    support = ("AWS Support (Business)", None, "111111111111", None)
    reserved = ("Amazon Elastic Compute Cloud", None, "111111111111", None)
    months = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    charges = [_charge(m, 500.0, support, "Recurring", span_days=30) for m in months]
    charges += [
        _charge(m, c, reserved, "Recurring")
        for m, c in zip(months, (1000, 1000, 1400), strict=True)
    ]
    charges += [
        _charge(date(2026, 10, 1), 300.0, RDS_EU, "Recurring"),  # a new fee
        _charge(date(2026, 10, 9), 5000.0, EC2_US, "One-Time"),  # an upfront payment
        _charge(date(2026, 10, 10), 500.0, EC2_US, "One-Time"),  # the next day: the same purchase
        _charge(date(2026, 10, 12), 5.0, S3_US, "One-Time"),  # below the floor
    ]
    insert_lines(store_engine, [*scenario(), *charges])
    services = monitor("services", "service")

    _, saved = score_and_save(store_engine, [services], THROUGH, NOW)

    found = {(r["key"], r["kind"]): r for r in stored(store_engine)}
    assert set(found) == {
        ("Amazon Elastic Compute Cloud [fee]", "fee_change"),
        ("Amazon Relational Database Service [fee]", "fee_change"),
        ("Amazon Elastic Compute Cloud [purchase]", "purchase"),
    }  # the unchanged support fee and the usage series (fees kept out of it) are quiet
    rise = found[("Amazon Elastic Compute Cloud [fee]", "fee_change")]
    assert rise["start_date"] == date(2026, 10, 1)
    assert (float(rise["expected_total"]), float(rise["actual_total"])) == (1000.0, 1400.0)
    assert rise["impact_pct"] == pytest.approx(40.0)
    new_fee = found[("Amazon Relational Database Service [fee]", "fee_change")]
    assert new_fee["impact_pct"] is None and float(new_fee["total_impact"]) == 300.0
    purchase = found[("Amazon Elastic Compute Cloud [purchase]", "purchase")]
    assert (purchase["start_date"], purchase["end_date"]) == (date(2026, 10, 9), date(2026, 10, 10))
    assert float(purchase["total_impact"]) == 5500
    assert len(saved.created) == 3

    _, again = score_and_save(store_engine, [services], THROUGH, NOW + timedelta(hours=1))
    assert again.created == [] and len(again.unchanged) == 3  # a rerun announces nothing new


def test_a_fee_in_the_first_month_on_record_is_not_news(store_engine):
    from tasks.cost.anomaly.charges import charge_records

    services = monitor("services", "service")
    insert_lines(store_engine, [_charge(date(2026, 10, 1), 300.0, RDS_EU, "Recurring")])

    fresh = charge_records(
        store_engine, services, date(2026, 10, 1), date(2026, 10, 13), date(2026, 9, 20)
    )
    known = charge_records(
        store_engine, services, date(2026, 10, 1), date(2026, 10, 13), date(2026, 7, 6)
    )

    assert fresh == []  # the store began on 20 September: September's fees are unknown
    assert [(r.kind, float(r.total_impact)) for r in known] == [("fee_change", 300.0)]


def test_a_missed_day_and_a_credit_are_not_alerts_and_do_not_move_the_baseline(store_engine):
    lines = [
        row
        for row in scenario(spikes=SPIKE)
        if row["charge_period_start"].date() != START + timedelta(days=90)  # ingestion missed it
    ]
    credit = cost_line(START + timedelta(days=92), -800.0, EC2_US, category="Credit")
    insert_lines(store_engine, [*lines, credit])
    services = monitor("services", "service", filter={"charge_category": ["Usage", "Credit"]})

    score_and_save(store_engine, [services], THROUGH, NOW)

    found = [(r["key"], r["start_date"]) for r in stored(store_engine)]
    # only the spike: the missing day (zero cost) and the credit (negative) are dips, and the
    # medians behind the expectation do not move for one low day
    assert found == [("Amazon Elastic Compute Cloud", START + timedelta(days=97))]
