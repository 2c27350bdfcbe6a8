"""Immediate alerts and daily digests, delivered to a local webhook receiver."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from sqlalchemy import select

from infra.sandbox.webhook_sink import WebhookSink
from tasks.cost.anomaly.alerting import DIGEST, IMMEDIATE, alert_anomalies, plan_notices
from tasks.cost.anomaly.feedback import set_feedback
from tasks.cost.anomaly.models import AnomalyNotice
from tasks.cost.anomaly.store import AnomalyRecord, get_anomaly, list_anomalies, save_anomalies
from tasks.notify import BlockNotifier
from tasks.store import CostAnomaly, session_scope

from .helpers import monitor

FINOPS, ONCALL = "custom-webhook/finops", "custom-webhook/oncall"
DAY = date(2026, 10, 12)
MORNING = datetime(2026, 10, 13, 8, 0, tzinfo=UTC)
SINCE = DAY - timedelta(days=6)
MONITORS = [
    monitor("total", "total", targets=[FINOPS], immediate_impact=1000),
    monitor("services", "service", targets=[FINOPS]),
]


def record(
    monitor: str, key: str, impact: str, day: date = DAY, end: date | None = None
) -> AnomalyRecord:
    return AnomalyRecord(
        monitor=monitor,
        dimension="total" if monitor == "total" else "service",
        key=key,
        value=None if monitor == "total" else key,
        currency="USD",
        start_date=day,
        end_date=end or day,
        expected_total=Decimal("2000"),
        actual_total=Decimal("2000") + Decimal(impact),
        total_impact=Decimal(impact),
        max_impact=Decimal(impact),
        impact_pct=float(impact) / 20,
        score=7.0,
        root_causes=[
            {
                "service": "Amazon EC2",
                "region": "us-east-1",
                "sub_account": "111111111111",
                "usage": "BoxUsage",
                "impact": impact,
                "share": 1.0,
            }
        ],
    )


@pytest.fixture
def sink():
    with WebhookSink() as receiver:
        yield receiver


@pytest.fixture
def notifier(sink):
    def block(name: str) -> CustomWebhookNotificationBlock:
        return CustomWebhookNotificationBlock(
            name=name,
            url=sink.url,
            json_data={"target": name, "subject": "{{subject}}", "text": "{{body}}"},
        )

    return BlockNotifier({FINOPS: block("finops"), ONCALL: block("oncall")})


def alert(engine, notifier, now, monitors=MONITORS, **kwargs):
    return alert_anomalies(engine, monitors, notifier, now, kwargs.pop("since", SINCE), **kwargs)


def test_big_anomalies_alert_at_once_and_the_rest_go_into_one_digest(store_engine, notifier, sink):
    save_anomalies(
        store_engine,
        [
            record("total", "total", "1500"),
            record("services", "Amazon S3", "200"),
            record("services", "AWS Lambda", "300"),
        ],
        MORNING,
    )
    outcomes = alert(store_engine, notifier, MORNING)
    assert [(o.kind, o.target, len(o.anomaly_ids), o.delivered) for o in outcomes] == [
        (IMMEDIATE, FINOPS, 1, True),
        (DIGEST, FINOPS, 2, True),
    ]
    immediate, digest = sink.received
    assert (
        immediate["subject"]
        == "[COST ANOMALY] total / total: +1,500.00 USD (+75%) since 2026-10-12"
    )
    assert (
        "Amazon EC2 / us-east-1 / 111111111111 / BoxUsage +1,500.00 USD (100%)" in immediate["text"]
    )
    assert digest["subject"] == "[COST DIGEST] 2 new cost anomalies on 2026-10-13"
    assert "services / Amazon S3" in digest["text"] and "services / AWS Lambda" in digest["text"]
    kinds = {a.key: (a.alert_kind, a.last_alerted_at) for a in list_anomalies(store_engine)}
    assert kinds == {
        "total": (IMMEDIATE, MORNING),
        "Amazon S3": (DIGEST, MORNING),
        "AWS Lambda": (DIGEST, MORNING),
    }
    # nothing is ever sent twice, however often the job runs
    assert alert(store_engine, notifier, MORNING + timedelta(hours=4)) == []
    assert len(sink.received) == 2


def test_one_digest_per_target_per_day(store_engine, notifier, sink):
    save_anomalies(store_engine, [record("services", "Amazon S3", "200")], MORNING)
    assert [o.kind for o in alert(store_engine, notifier, MORNING)] == [DIGEST]
    save_anomalies(
        store_engine, [record("services", "AWS Lambda", "300", DAY + timedelta(days=1))], MORNING
    )
    assert alert(store_engine, notifier, MORNING + timedelta(hours=6)) == []  # waits for tomorrow
    tomorrow = alert(store_engine, notifier, MORNING + timedelta(days=1))
    assert [(o.kind, len(o.anomaly_ids)) for o in tomorrow] == [(DIGEST, 1)]
    assert sink.received[-1]["subject"] == "[COST DIGEST] 1 new cost anomaly on 2026-10-14"
    assert (
        "AWS Lambda" in sink.received[-1]["text"] and "Amazon S3" not in sink.received[-1]["text"]
    )


def test_the_digest_waits_for_its_hour_but_immediate_alerts_do_not(store_engine, notifier, sink):
    save_anomalies(
        store_engine,
        [record("total", "total", "5000"), record("services", "Amazon S3", "200")],
        MORNING,
    )
    early = alert(store_engine, notifier, MORNING.replace(hour=2), digest_hour=9)
    assert [o.kind for o in early] == [IMMEDIATE]
    assert [
        o.kind for o in alert(store_engine, notifier, MORNING.replace(hour=9), digest_hour=9)
    ] == [DIGEST]


def test_a_digested_anomaly_alerts_once_more_when_it_grows_past_the_threshold(
    store_engine, notifier, sink
):
    (anomaly_id,) = save_anomalies(store_engine, [record("total", "total", "400")], MORNING).created
    assert [o.kind for o in alert(store_engine, notifier, MORNING)] == [DIGEST]
    save_anomalies(
        store_engine, [record("total", "total", "800", end=DAY + timedelta(days=1))], MORNING
    )
    assert alert(store_engine, notifier, MORNING + timedelta(hours=8)) == []  # grew, still below
    save_anomalies(
        store_engine, [record("total", "total", "1300", end=DAY + timedelta(days=2))], MORNING
    )
    grown = alert(store_engine, notifier, MORNING + timedelta(days=1))
    assert [(o.kind, o.anomaly_ids) for o in grown] == [(IMMEDIATE, (anomaly_id,))]
    save_anomalies(
        store_engine, [record("total", "total", "2600", end=DAY + timedelta(days=3))], MORNING
    )
    assert alert(store_engine, notifier, MORNING + timedelta(days=2)) == []  # immediate only once
    assert get_anomaly(store_engine, anomaly_id).alert_kind == IMMEDIATE
    assert len(sink.received) == 2


def test_planned_anomalies_and_their_continuation_stay_quiet(store_engine, notifier, sink):
    (planned,) = save_anomalies(store_engine, [record("total", "total", "3000")], MORNING).created
    set_feedback(store_engine, planned, "planned", MORNING)
    save_anomalies(
        store_engine, [record("total", "total", "9000", end=DAY + timedelta(days=1))], MORNING
    )
    save_anomalies(
        store_engine, [record("total", "total", "4000", DAY + timedelta(days=3))], MORNING
    )
    assert alert(store_engine, notifier, MORNING + timedelta(days=3)) == []
    assert sink.received == []
    assert {a.feedback for a in list_anomalies(store_engine)} == {"planned"}


def test_feedback_yes_or_no_does_not_change_alerting(store_engine, notifier, sink):
    (anomaly_id,) = save_anomalies(
        store_engine, [record("total", "total", "3000")], MORNING
    ).created
    set_feedback(store_engine, anomaly_id, "no", MORNING)
    assert [o.kind for o in alert(store_engine, notifier, MORNING)] == [IMMEDIATE]


def test_a_failed_delivery_is_recorded_and_retried_only_where_it_failed(
    store_engine, notifier, sink
):
    monitors = [monitor("total", "total", targets=[FINOPS, ONCALL], immediate_impact=1000)]
    (anomaly_id,) = save_anomalies(
        store_engine, [record("total", "total", "1500")], MORNING
    ).created
    sink.fail_with = 500
    failed = alert(store_engine, notifier, MORNING, monitors)
    assert [(o.target, o.delivered) for o in failed] == [(FINOPS, False), (ONCALL, False)]
    assert "500" in failed[0].error
    assert get_anomaly(store_engine, anomaly_id).alert_kind is None
    sink.fail_with = None
    retried = alert(store_engine, notifier, MORNING + timedelta(hours=1), monitors)
    assert [(o.target, o.delivered) for o in retried] == [(FINOPS, True), (ONCALL, True)]
    with session_scope(store_engine) as session:
        notices = session.scalars(select(AnomalyNotice).order_by(AnomalyNotice.target)).all()
        assert [(n.target, n.kind, n.delivered, n.error) for n in notices] == [
            (FINOPS, IMMEDIATE, True, None),
            (ONCALL, IMMEDIATE, True, None),
        ]
    assert alert(store_engine, notifier, MORNING + timedelta(hours=2), monitors) == []
    assert [m["target"] for m in sink.received] == ["finops", "oncall"]


def test_old_anomalies_and_unknown_monitors_are_not_notified(store_engine, notifier, sink):
    save_anomalies(
        store_engine,
        [
            record("total", "total", "5000", DAY - timedelta(days=30)),
            record("retired", "x", "5000"),
        ],
        MORNING,
    )
    assert alert(store_engine, notifier, MORNING) == []


def test_notify_via_sends_everything_to_one_target(store_engine, notifier, sink):
    save_anomalies(
        store_engine,
        [record("total", "total", "1500"), record("services", "Amazon S3", "200")],
        MORNING,
    )
    outcomes = alert(store_engine, notifier, MORNING, notify_via=ONCALL)
    assert {(o.kind, o.target) for o in outcomes} == {(IMMEDIATE, ONCALL), (DIGEST, ONCALL)}


def test_plan_is_pure_and_skips_targets_already_served():
    anomalies = []
    for i, impact in enumerate(("1500", "200"), start=1):
        rec = record("total", "total", impact)
        fields = {k: v for k, v in vars(rec).items() if k not in ("value", "truncated")}
        anomalies.append(CostAnomaly(id=i, **fields))
    by_name = {m.name: m for m in MONITORS}
    delivered = {(1, FINOPS, IMMEDIATE)}
    (digest,) = plan_notices(anomalies, by_name, delivered, set(), MORNING)
    assert (digest.kind, digest.target, digest.anomaly_ids) == (DIGEST, FINOPS, (2,))
    assert digest.subject == "[COST DIGEST] 1 new cost anomaly on 2026-10-13"
    assert plan_notices(anomalies, by_name, delivered, {FINOPS}, MORNING) == []
    assert plan_notices(anomalies, {}, set(), set(), MORNING) == []


def test_a_step_change_is_announced_as_one_and_said_so(store_engine, notifier, sink):
    from dataclasses import replace

    step = replace(record("total", "total", "1500", end=DAY), kind="step_change")
    save_anomalies(store_engine, [step], MORNING)
    assert [o.kind for o in alert(store_engine, notifier, MORNING)] == [IMMEDIATE]
    (notice,) = sink.received
    assert notice["subject"].startswith("[COST STEP CHANGE] total / total: +1,500.00 USD")
    assert "total / total, step change, 2026-10-12: +1,500.00 USD" in notice["text"]
    assert alert(store_engine, notifier, MORNING + timedelta(hours=4)) == []  # once
