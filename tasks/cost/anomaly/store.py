"""Persisting detected anomalies: idempotent upserts that keep an episode's id as it grows.

The natural key is ``(monitor, key, start_date)``. A detected episode updates the stored
anomaly of the same monitor and key whose days overlap it or touch it (a day before or after):
the same start (the usual case: the episode grew), or a start that moved because restated cost
made a neighbouring day anomalous. Otherwise it is a new anomaly. An episode cut short by the
start of the scored window never overwrites the whole stored one it belongs to. A new anomaly
that starts at most :data:`PLANNED_GRACE_DAYS` after a ``planned`` one of the same monitor and
key ended inherits that feedback, so the continuation of planned activity stays quiet.

Rerunning the scoring over the same cost changes nothing: figures are rounded to the store's 6
decimal places before they are compared, ``detected_at`` is kept from the first detection, and
root causes are only computed for new or changed anomalies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tasks.errors import ServiceUnavailableError
from tasks.store import CostAnomaly, session_scope

__all__ = [
    "PLANNED_GRACE_DAYS",
    "AnomalyRecord",
    "SaveResult",
    "get_anomaly",
    "list_anomalies",
    "save_anomalies",
]

PLANNED_GRACE_DAYS = 2
_FIGURES = (
    "kind",
    "end_date",
    "expected_total",
    "actual_total",
    "total_impact",
    "max_impact",
    "impact_pct",
    "score",
    "currency",
    "dimension",
)


@dataclass(frozen=True)
class AnomalyRecord:
    """A detected episode, ready to store. ``value`` is the dimension value behind ``key``
    (None for a total), used to break the cost down into root causes."""

    monitor: str
    dimension: str
    key: str
    value: str | None
    currency: str
    start_date: date
    end_date: date
    expected_total: Decimal
    actual_total: Decimal
    total_impact: Decimal
    max_impact: Decimal
    impact_pct: float | None
    score: float
    kind: str = "anomaly"  # see tasks.cost.anomaly.shifts
    root_causes: list[dict[str, Any]] | None = field(default=None, compare=False)
    # why it was flagged (tasks.cost.anomaly.explain); None for fees and purchases
    explanation: dict[str, Any] | None = field(default=None, compare=False)
    # the episode may have begun before the first day that was scored
    truncated: bool = field(default=False, compare=False)


@dataclass
class SaveResult:
    """Anomaly ids by what happened to them."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def _touches(row: CostAnomaly, record: AnomalyRecord) -> bool:
    day = timedelta(days=1)
    return row.start_date <= record.end_date + day and row.end_date >= record.start_date - day


def _changed(row: CostAnomaly, record: AnomalyRecord) -> bool:
    if row.start_date != record.start_date:
        return True
    for name in _FIGURES:
        old, new = getattr(row, name), getattr(record, name)
        if isinstance(old, float) or isinstance(new, float):
            if old is None or new is None:
                if old is not new:
                    return True
            elif abs(old - new) > 1e-9 * max(1.0, abs(new)):
                return True
        elif old != new:
            return True
    return False


def _apply(row: CostAnomaly, record: AnomalyRecord) -> None:
    row.start_date = record.start_date
    for name in _FIGURES:
        setattr(row, name, getattr(record, name))
    row.explanation = record.explanation


def _save_once(
    engine: Engine,
    records: Sequence[AnomalyRecord],
    now: datetime,
    explain: Callable[[AnomalyRecord], list[dict[str, Any]]] | None,
) -> SaveResult:
    result = SaveResult()
    if not records:
        return result
    monitors = {r.monitor for r in records}
    earliest = min(r.start_date for r in records) - timedelta(days=PLANNED_GRACE_DAYS + 1)
    with session_scope(engine) as session:
        stmt = (
            select(CostAnomaly)
            .where(CostAnomaly.monitor.in_(monitors), CostAnomaly.end_date >= earliest)
            .order_by(CostAnomaly.start_date, CostAnomaly.id)
        )
        existing: dict[tuple[str, str], list[CostAnomaly]] = {}
        for row in session.scalars(stmt):
            existing.setdefault((row.monitor, row.key), []).append(row)
        for record in sorted(records, key=lambda r: (r.monitor, r.key, r.start_date)):
            rows = existing.setdefault((record.monitor, record.key), [])
            match = next((r for r in rows if _touches(r, record)), None)
            if match is not None:
                cut_short = record.truncated and match.start_date < record.start_date
                if cut_short or not _changed(match, record):
                    result.unchanged.append(match.id)
                    continue
                _apply(match, record)
                if explain is not None:
                    match.root_causes = explain(record)
                session.flush()
                result.updated.append(match.id)
                continue
            row = CostAnomaly(
                monitor=record.monitor,
                key=record.key,
                start_date=record.start_date,
                detected_at=now,
                root_causes=explain(record) if explain is not None else record.root_causes,
            )
            _apply(row, record)
            grace = timedelta(days=PLANNED_GRACE_DAYS)
            planned = [
                r
                for r in rows
                if r.feedback == "planned" and r.end_date < record.start_date <= r.end_date + grace
            ]
            if planned:
                row.feedback = "planned"
                row.feedback_at = planned[-1].feedback_at
            session.add(row)
            session.flush()
            rows.append(row)
            result.created.append(row.id)
    return result


def save_anomalies(
    engine: Engine,
    records: Iterable[AnomalyRecord],
    now: datetime,
    explain: Callable[[AnomalyRecord], list[dict[str, Any]]] | None = None,
) -> SaveResult:
    """Insert new anomalies and update grown or restated ones, in one transaction.

    Args:
        engine: the store.
        records: detected episodes.
        now: the detection time of new anomalies (timezone-aware).
        explain: computes an anomaly's root causes (JSON); called only for new or changed ones.
            Without it, ``record.root_causes`` is stored for new anomalies.

    Raises:
        ServiceUnavailableError: the store cannot be reached.
    """
    records = list(records)
    try:
        try:
            return _save_once(engine, records, now, explain)
        except IntegrityError:
            # a concurrent run inserted the same (monitor, key, start_date): it is there now
            return _save_once(engine, records, now, explain)
    except OperationalError as exc:
        raise ServiceUnavailableError(
            f"cannot write cost anomalies: {exc.orig.__class__.__name__}"
        ) from None


def list_anomalies(
    engine: Engine,
    monitor: str | None = None,
    since: date | None = None,
    ids: Iterable[int] | None = None,
) -> list[CostAnomaly]:
    """Stored anomalies, newest first: of ``monitor``, ending on or after ``since``, or by id."""
    stmt = select(CostAnomaly).order_by(CostAnomaly.start_date.desc(), CostAnomaly.id.desc())
    if monitor is not None:
        stmt = stmt.where(CostAnomaly.monitor == monitor)
    if since is not None:
        stmt = stmt.where(CostAnomaly.end_date >= since)
    if ids is not None:
        stmt = stmt.where(CostAnomaly.id.in_(list(ids)))
    try:
        with session_scope(engine) as session:
            return list(session.scalars(stmt))
    except OperationalError as exc:
        raise ServiceUnavailableError(
            f"cannot read cost anomalies: {exc.orig.__class__.__name__}"
        ) from None


def get_anomaly(engine: Engine, anomaly_id: int) -> CostAnomaly | None:
    """One stored anomaly by id, or None."""
    found = list_anomalies(engine, ids=[anomaly_id])
    return found[0] if found else None
