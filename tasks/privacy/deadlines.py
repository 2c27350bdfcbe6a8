"""The deadline watch: alerts on open requests close to their legal due date, and overdue ones.

The due date is the extended one when the request was extended. Each request gets at most one
``due-soon`` and one ``overdue`` alert (remembered as progress steps), so the watch can run
hourly without repeating itself. Alerts name the request id, type, jurisdiction and due date only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from tasks.notify import Notifier
from tasks.privacy import audit, progress
from tasks.store.engine import session_scope

__all__ = ["OPEN_STATUSES", "DeadlineAlert", "due_alerts", "send_deadline_alerts"]

OPEN_STATUSES = ("received", "in_progress", "waiting", "failed")


@dataclass(frozen=True)
class DeadlineAlert:
    request_id: str
    level: str  # "due-soon" | "overdue"
    request_type: str
    jurisdiction: str
    due_at: datetime

    @property
    def subject(self) -> str:
        word = "OVERDUE" if self.level == "overdue" else "due soon"
        return f"[DSR] request {self.request_id} {word} (due {self.due_at:%Y-%m-%d %H:%M} UTC)"

    @property
    def body(self) -> str:
        return (
            f"Data-subject request {self.request_id} ({self.request_type}, "
            f"{self.jurisdiction}) is due {self.due_at.isoformat()} and not completed."
        )


def due_alerts(engine: Engine, now: datetime, warn_days: int) -> list[DeadlineAlert]:
    """Open requests overdue or due within ``warn_days`` of ``now``, most urgent first."""
    from tasks.store.privacy_models import DsrRequest

    with session_scope(engine) as session:
        rows = session.scalars(select(DsrRequest).where(DsrRequest.status.in_(OPEN_STATUSES))).all()
    alerts = []
    for row in rows:
        due = row.extended_until or row.due_at
        if due <= now:
            level = "overdue"
        elif due - now <= timedelta(days=warn_days):
            level = "due-soon"
        else:
            continue
        alerts.append(DeadlineAlert(row.public_id, level, row.request_type, row.jurisdiction, due))
    return sorted(alerts, key=lambda a: a.due_at)


def send_deadline_alerts(
    engine: Engine,
    notifier: Notifier | None,
    target: str | None,
    now: datetime,
    warn_days: int,
    actor: str,
) -> dict[str, int]:
    """Send each alert not sent before; counts of alerts found, sent and already sent."""
    counts = {"due-soon": 0, "overdue": 0, "sent": 0, "already_sent": 0}
    for alert in due_alerts(engine, now, warn_days):
        counts[alert.level] += 1
        step = f"alert_{alert.level}"
        done = progress.get_step(engine, alert.request_id, step)
        if done is not None and done.status == "done":
            counts["already_sent"] += 1
            continue
        if notifier is None or target is None:
            continue
        notifier.send(target, alert.subject, alert.body)
        progress.finish_step(engine, alert.request_id, step, counts={"due_at": str(alert.due_at)})
        audit.append_entry(engine, alert.request_id, step, "", {"level": alert.level}, actor)
        counts["sent"] += 1
    return counts
