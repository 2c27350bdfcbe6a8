from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.alerts import AlertAction, AlertMemory, decide

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_quiet_alert_stays_quiet():
    assert decide(AlertMemory(), False, T0, HOUR) == (None, AlertMemory())


def test_alert_fires_once_then_reminds_after_the_interval():
    action, memory = decide(AlertMemory(), True, T0, HOUR)
    assert action is AlertAction.FIRE
    assert memory.firing and memory.fired_at == T0
    action, memory = decide(memory, True, T0 + timedelta(minutes=30), HOUR)
    assert action is None
    action, memory = decide(memory, True, T0 + HOUR, HOUR)
    assert action is AlertAction.REMIND
    assert memory.last_notified_at == T0 + HOUR
    assert memory.fired_at == T0


def test_alert_resolves_when_it_clears():
    _, memory = decide(AlertMemory(), True, T0, HOUR)
    action, memory = decide(memory, False, T0 + timedelta(minutes=5), HOUR)
    assert action is AlertAction.RESOLVE
    assert not memory.firing and memory.resolved_at == T0 + timedelta(minutes=5)
    assert decide(memory, False, T0 + HOUR, HOUR)[0] is None


def test_undelivered_fire_is_retried_as_fire():
    memory = AlertMemory(firing=True, fired_at=T0, last_notified_at=None)
    assert decide(memory, True, T0 + timedelta(minutes=1), HOUR)[0] is AlertAction.FIRE
