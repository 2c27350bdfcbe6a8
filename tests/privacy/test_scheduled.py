"""The scheduled jobs: retention per region and category, and the deadline watch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.privacy import audit
from tasks.privacy.config import resolve_datamap
from tasks.privacy.datastores import open_datastore
from tasks.privacy.deadlines import due_alerts, send_deadline_alerts
from tasks.privacy.requests import create_request, parse_new_request, set_status
from tasks.privacy.retention import enforce_datastore, retention_datastores
from tasks.store import get_engine


def test_retention_deletes_only_rows_past_their_regions_limit(stores):
    engine, datamap = get_engine(), resolve_datamap()
    assert retention_datastores(datamap) == ["pg"]
    store = open_datastore(datamap, "pg")
    now = datetime.now(UTC)
    counts = enforce_datastore(engine, datamap, "pg", store, now, "test")
    assert counts == {"marketing_events": 2}
    kept = [(r["region"], (now - r["sent_at"]).days) for r in stores.pg_rows("marketing_events")]
    assert kept == [("EU", 10), ("US", 40)]  # EU keeps 30 days, US 90
    assert enforce_datastore(engine, datamap, "pg", store, now, "test") == {"marketing_events": 0}
    entries = audit.entries_for(engine, "retention")
    assert [(e.step, e.datastore, e.counts) for e in entries] == [
        ("retention", "pg", {"marketing_events": 2}),
        ("retention", "pg", {"marketing_events": 0}),
    ]
    assert len(stores.pg_rows("customers")) == 2  # no rule covers the customers' categories


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, target: str, subject: str, body: str) -> None:
        self.sent.append((target, subject, body))


def _request(engine, ticket: str, jurisdiction: str, received_days_ago: int, now) -> str:
    new = parse_new_request(
        {
            "source": "cli",
            "ticket_id": ticket,
            "request_type": "access",
            "jurisdiction": jurisdiction,
            "identities": {"email": "someone@example.com"},
        }
    )
    return create_request(engine, new, now=now - timedelta(days=received_days_ago)).public_id


def test_deadline_watch_alerts_once_on_due_soon_and_overdue_requests():
    engine = get_engine()
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    soon = _request(engine, "T-1", "GDPR", 28, now)  # due in about 2 days
    late = _request(engine, "T-2", "CCPA", 50, now)  # 45 days: overdue
    _request(engine, "T-3", "GDPR", 1, now)  # a month to go
    done = _request(engine, "T-4", "CCPA", 60, now)
    set_status(engine, done, "completed")

    alerts = {a.request_id: a.level for a in due_alerts(engine, now, warn_days=7)}
    assert alerts == {soon: "due-soon", late: "overdue"}

    notifier = RecordingNotifier()
    counts = send_deadline_alerts(engine, notifier, "slack-webhook/dsr", now, 7, "test")
    assert counts == {"due-soon": 1, "overdue": 1, "sent": 2, "already_sent": 0}
    subjects = [s for _, s, _ in notifier.sent]
    assert subjects[0].startswith(f"[DSR] request {late} OVERDUE")
    assert all("someone" not in body for _, _, body in notifier.sent)

    again = send_deadline_alerts(engine, notifier, "slack-webhook/dsr", now, 7, "test")
    assert again["sent"] == 0 and again["already_sent"] == 2 and len(notifier.sent) == 2
