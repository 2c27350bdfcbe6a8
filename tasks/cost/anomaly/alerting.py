"""Anomaly alerts: immediate notices for large anomalies, one daily digest per target for the rest.

Rules, per anomaly and target (a Prefect notification block, see :mod:`tasks.notify`):

* ``planned`` feedback silences an anomaly (and, see :mod:`tasks.cost.anomaly.store`, the
  episode that continues it).
* An anomaly whose total impact reaches its monitor's ``immediate_impact`` gets one immediate
  notice, including one that was already listed in a digest and has grown past the threshold.
* Every other new anomaly is listed in the target's next daily digest: one notice per target
  per UTC day, sent by the first run at or after ``digest_hour``, listing every anomaly not yet
  notified; later anomalies of that day wait for the next day's digest.
* Nothing is sent twice: each delivered notice is kept per anomaly, target and kind
  (:class:`~tasks.cost.anomaly.models.AnomalyNotice`); a failed delivery is recorded and
  retried at the next run.

This does not reuse :func:`tasks.alerts.router.route_alerts`: that state machine fires, reminds
and resolves a continuous condition, whereas an anomaly is a one-off event that is notified
once (or once more when it turns severe) and grouped into digests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, select

from tasks.cost.anomaly.models import AnomalyNotice
from tasks.cost.anomaly.monitors import Monitor
from tasks.cost.anomaly.report import describe
from tasks.cost.anomaly.store import list_anomalies
from tasks.errors import TraceoError
from tasks.notify import Notifier
from tasks.store import CostAnomaly, session_scope

__all__ = [
    "DIGEST",
    "IMMEDIATE",
    "Notice",
    "NoticeOutcome",
    "alert_anomalies",
    "plan_notices",
    "send_notices",
]

IMMEDIATE = "immediate"
DIGEST = "digest"


@dataclass(frozen=True)
class Notice:
    """One message to one target about one anomaly (immediate) or several (digest)."""

    kind: str
    target: str
    anomaly_ids: tuple[int, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class NoticeOutcome:
    kind: str
    target: str
    anomaly_ids: tuple[int, ...]
    delivered: bool
    error: str | None


def _immediate(anomaly: CostAnomaly, target: str) -> Notice:
    pct = f" ({anomaly.impact_pct:+.0f}%)" if anomaly.impact_pct is not None else ""
    headline = {
        "step_change": "COST STEP CHANGE",
        "new_spend": "NEW COST",
        "fee_change": "FEE CHANGE",
        "purchase": "PURCHASE",
    }.get(anomaly.kind, "COST ANOMALY")
    subject = (
        f"[{headline}] {anomaly.monitor} / {anomaly.key}: "
        f"+{anomaly.total_impact:,.2f} {anomaly.currency}{pct} since {anomaly.start_date}"
    )
    return Notice(IMMEDIATE, target, (anomaly.id,), subject, describe(anomaly))


def _digest(anomalies: Sequence[CostAnomaly], target: str, day: date) -> Notice:
    count = len(anomalies)
    subject = f"[COST DIGEST] {count} new cost anomal{'y' if count == 1 else 'ies'} on {day}"
    body = "\n".join(f"- {describe(a)}" for a in anomalies)
    return Notice(DIGEST, target, tuple(a.id for a in anomalies), subject, body)


def plan_notices(
    anomalies: Sequence[CostAnomaly],
    monitors: Mapping[str, Monitor],
    delivered: set[tuple[int, str, str]],
    digested_today: set[str],
    now: datetime,
    digest_hour: int = 0,
    notify_via: str | None = None,
) -> list[Notice]:
    """Decide what to send now (pure).

    Args:
        anomalies: candidate anomalies (recent ones), in the order to list them.
        monitors: monitors by name; anomalies of unknown monitors are skipped.
        delivered: ``(anomaly_id, target, kind)`` of every notice already delivered.
        digested_today: targets that already received today's digest.
        now: the current time (UTC); its hour gates the digest.
        digest_hour: the UTC hour from which the day's digest may go out.
        notify_via: send everything to this target instead of the monitors' own (staging, demo).
    """
    notices: list[Notice] = []
    pending: dict[str, list[CostAnomaly]] = defaultdict(list)
    for anomaly in anomalies:
        monitor = monitors.get(anomaly.monitor)
        if monitor is None or anomaly.feedback == "planned":
            continue
        threshold = monitor.immediate_impact
        severe = threshold is not None and anomaly.total_impact >= threshold
        for target in (notify_via,) if notify_via else monitor.targets:
            if (anomaly.id, target, IMMEDIATE) in delivered:
                continue
            if severe:
                notices.append(_immediate(anomaly, target))
            elif (anomaly.id, target, DIGEST) not in delivered:
                pending[target].append(anomaly)
    if now.hour >= digest_hour:
        for target, items in pending.items():
            if target not in digested_today:
                notices.append(_digest(items, target, now.date()))
    return notices


def send_notices(
    engine: Engine, notices: Sequence[Notice], notifier: Notifier, now: datetime
) -> list[NoticeOutcome]:
    """Deliver each notice, record it per anomaly and target, mark delivered anomalies."""
    outcomes: list[NoticeOutcome] = []
    for notice in notices:
        try:
            notifier.send(notice.target, notice.subject, notice.body)
            error = None
        except TraceoError as exc:
            error = str(exc)
        outcomes.append(
            NoticeOutcome(notice.kind, notice.target, notice.anomaly_ids, error is None, error)
        )
    if not outcomes:
        return outcomes
    ids = {i for o in outcomes for i in o.anomaly_ids}
    with session_scope(engine) as session:
        rows = {
            (r.anomaly_id, r.target, r.kind): r
            for r in session.scalars(select(AnomalyNotice).where(AnomalyNotice.anomaly_id.in_(ids)))
        }
        anomalies = {
            a.id: a for a in session.scalars(select(CostAnomaly).where(CostAnomaly.id.in_(ids)))
        }
        for outcome in outcomes:
            for anomaly_id in outcome.anomaly_ids:
                row = rows.get((anomaly_id, outcome.target, outcome.kind))
                if row is None:
                    row = AnomalyNotice(
                        anomaly_id=anomaly_id, target=outcome.target, kind=outcome.kind
                    )
                    session.add(row)
                    rows[(anomaly_id, outcome.target, outcome.kind)] = row
                row.day, row.sent_at = now.date(), now
                row.delivered, row.error = outcome.delivered, outcome.error
                anomaly = anomalies[anomaly_id]
                if outcome.delivered and anomaly.alert_kind != IMMEDIATE:
                    anomaly.alert_kind = outcome.kind
                if outcome.delivered:
                    anomaly.last_alerted_at = now
    return outcomes


def _history(
    engine: Engine, ids: set[int], day: date
) -> tuple[set[tuple[int, str, str]], set[str]]:
    with session_scope(engine) as session:
        delivered = {
            (a, t, k)
            for a, t, k in session.execute(
                select(AnomalyNotice.anomaly_id, AnomalyNotice.target, AnomalyNotice.kind).where(
                    AnomalyNotice.anomaly_id.in_(ids), AnomalyNotice.delivered.is_(True)
                )
            )
        }
        digested = set(
            session.scalars(
                select(AnomalyNotice.target)
                .where(
                    AnomalyNotice.kind == DIGEST,
                    AnomalyNotice.day == day,
                    AnomalyNotice.delivered.is_(True),
                )
                .distinct()
            )
        )
    return delivered, digested


def alert_anomalies(
    engine: Engine,
    monitors: Sequence[Monitor],
    notifier: Notifier,
    now: datetime,
    since: date,
    digest_hour: int = 0,
    notify_via: str | None = None,
) -> list[NoticeOutcome]:
    """Send the immediate notices and digests due now for anomalies ending on/after ``since``.

    Anomalies that ended before ``since`` are history (for instance found by the first run over
    months of backfilled cost) and are not notified.
    """
    by_name = {m.name: m for m in monitors}
    candidates = [a for a in list_anomalies(engine, since=since) if a.monitor in by_name]
    candidates.sort(key=lambda a: (a.start_date, a.id))
    if not candidates:
        return []
    delivered, digested = _history(engine, {a.id for a in candidates}, now.date())
    notices = plan_notices(candidates, by_name, delivered, digested, now, digest_hour, notify_via)
    return send_notices(engine, notices, notifier, now)
