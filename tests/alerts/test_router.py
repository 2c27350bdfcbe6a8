from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from sqlalchemy import select

from infra.sandbox.webhook_sink import WebhookSink
from tasks.alerts import AlertAction
from tasks.alerts.router import RoutedSignal, route_alerts
from tasks.notify import BlockNotifier
from tasks.store import AlertEvent, AlertState, session_scope

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TARGET = "custom-webhook/sre-alerts"


@dataclass
class Signal:
    key: str = "page:1h/5m"
    severity: str = "page"
    firing: bool = True
    summary: str = "burn rate 20.0x over 1h and 25.0x over 5m (threshold 14.4x)"


@pytest.fixture
def sink():
    with WebhookSink() as receiver:
        yield receiver


@pytest.fixture
def notifier(sink):
    block = CustomWebhookNotificationBlock(
        name="sre-alerts", url=sink.url, json_data={"subject": "{{subject}}", "text": "{{body}}"}
    )
    return BlockNotifier({TARGET: block})


def _route(engine, notifier, firing, at):
    signal = RoutedSignal("shop-api/availability", Signal(firing=firing), [TARGET])
    return route_alerts(engine, [signal], notifier, at)


def test_fire_remind_resolve_sequence_reaches_the_webhook(store_engine, notifier, sink):
    assert [o.action for o in _route(store_engine, notifier, True, T0)] == [AlertAction.FIRE]
    assert _route(store_engine, notifier, True, T0 + timedelta(minutes=10)) == []
    remind = _route(store_engine, notifier, True, T0 + timedelta(hours=1))
    assert [o.action for o in remind] == [AlertAction.REMIND]
    resolve = _route(store_engine, notifier, False, T0 + timedelta(hours=1, minutes=5))
    assert [o.action for o in resolve] == [AlertAction.RESOLVE]
    subjects = [m["subject"] for m in sink.received]
    assert subjects == [
        "[PAGE] [FIRING] shop-api/availability: page:1h/5m",
        "[PAGE] [STILL FIRING] shop-api/availability: page:1h/5m",
        "[PAGE] [RESOLVED] shop-api/availability: page:1h/5m",
    ]
    with session_scope(store_engine) as session:
        state = session.scalars(select(AlertState)).one()
        kinds = session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)).all()
    assert not state.firing and state.resolved_at == T0 + timedelta(hours=1, minutes=5)
    assert kinds == ["fire", "remind", "resolve"]


def test_failed_delivery_is_recorded_and_retried(store_engine, notifier, sink):
    sink.fail_with = 500
    outcome = _route(store_engine, notifier, True, T0)
    assert outcome[0].action is AlertAction.FIRE and not outcome[0].delivered
    assert "500" in outcome[0].error
    sink.fail_with = None
    retry = _route(store_engine, notifier, True, T0 + timedelta(minutes=1))
    assert [(o.action, o.delivered) for o in retry] == [(AlertAction.FIRE, True)]
    assert len(sink.received) == 1
    with session_scope(store_engine) as session:
        events = session.scalars(select(AlertEvent).order_by(AlertEvent.id)).all()
    assert [(e.kind, e.delivered) for e in events] == [("fire", False), ("fire", True)]


def test_alerts_without_targets_still_keep_state(store_engine):
    outcome = route_alerts(store_engine, [RoutedSignal("slo-a", Signal(), [])], BlockNotifier(), T0)
    assert outcome[0].delivered
    with session_scope(store_engine) as session:
        assert session.scalars(select(AlertState.firing)).one() is True
