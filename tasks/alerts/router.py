"""Apply the alert lifecycle to evaluated signals: notify targets and persist state in the store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, select

from tasks.alerts.lifecycle import AlertAction, AlertMemory, decide
from tasks.errors import TraceoError
from tasks.notify import Notifier
from tasks.store import AlertEvent, AlertState, session_scope

__all__ = [
    "DEFAULT_REMIND_EVERY",
    "AlertOutcome",
    "AlertSignalLike",
    "RoutedSignal",
    "route_alerts",
]

DEFAULT_REMIND_EVERY: dict[str, timedelta] = {
    "page": timedelta(hours=1),
    "ticket": timedelta(hours=24),
}


class AlertSignalLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def firing(self) -> bool: ...
    @property
    def summary(self) -> str: ...


@dataclass(frozen=True)
class RoutedSignal:
    """One alert signal of one SLO with the notification targets it goes to."""

    slo_id: str
    signal: AlertSignalLike
    targets: Sequence[str] = ()


@dataclass(frozen=True)
class AlertOutcome:
    slo_id: str
    key: str
    severity: str
    action: AlertAction
    delivered: bool
    error: str | None


def _subject(action: AlertAction, slo_id: str, signal: AlertSignalLike) -> str:
    label = {AlertAction.FIRE: "FIRING", AlertAction.REMIND: "STILL FIRING"}.get(action, "RESOLVED")
    return f"[{signal.severity.upper()}] [{label}] {slo_id}: {signal.key}"


def route_alerts(
    engine: Engine,
    signals: Iterable[RoutedSignal],
    notifier: Notifier,
    now: datetime,
    remind_every: Mapping[str, timedelta] = DEFAULT_REMIND_EVERY,
) -> list[AlertOutcome]:
    """Fire, remind or resolve each signal, notify its targets, and keep the state in the store.

    The new state is kept only when every target received the notice, so a failed delivery is
    retried at the next evaluation instead of being lost.
    """
    routed = list(signals)
    outcomes: list[AlertOutcome] = []
    with session_scope(engine) as session:
        slo_ids = {r.slo_id for r in routed}
        rows = {
            (s.slo_id, s.alert_key): s
            for s in session.scalars(select(AlertState).where(AlertState.slo_id.in_(slo_ids)))
        }
        for item in routed:
            signal = item.signal
            row = rows.get((item.slo_id, signal.key))
            memory = (
                AlertMemory(row.firing, row.fired_at, row.last_notified_at, row.resolved_at)
                if row
                else AlertMemory()
            )
            interval = remind_every.get(signal.severity, DEFAULT_REMIND_EVERY["ticket"])
            action, new_memory = decide(memory, signal.firing, now, interval)
            if action is None:
                continue
            errors = []
            for target in item.targets:
                try:
                    notifier.send(target, _subject(action, item.slo_id, signal), signal.summary)
                except TraceoError as exc:
                    errors.append(str(exc))
            delivered = not errors
            session.add(
                AlertEvent(
                    slo_id=item.slo_id,
                    alert_key=signal.key,
                    kind=action.value,
                    at=now,
                    message=signal.summary,
                    delivered=delivered,
                    error="; ".join(errors) or None,
                )
            )
            if delivered:
                if row is None:
                    row = AlertState(slo_id=item.slo_id, alert_key=signal.key, detail={})
                    session.add(row)
                    rows[(item.slo_id, signal.key)] = row
                row.severity = signal.severity
                row.firing = new_memory.firing
                row.fired_at = new_memory.fired_at
                row.last_notified_at = new_memory.last_notified_at
                row.resolved_at = new_memory.resolved_at
            outcomes.append(
                AlertOutcome(
                    item.slo_id,
                    signal.key,
                    signal.severity,
                    action,
                    delivered,
                    "; ".join(errors) or None,
                )
            )
    return outcomes
