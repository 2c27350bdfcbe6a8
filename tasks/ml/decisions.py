"""Monitoring and retrain decisions in the store, and the store-level retrain guard.

Every decision (a monitoring window's verdict, a retrain started or refused, a promotion or a
kept challenger) is a row with its reasons. Monitoring decisions have a natural key, the model
and the window's end, so rerunning a window replaces its row and never counts it twice towards
"K consecutive drifted windows".

The retrain lease backs up the Prefect concurrency limit: it lives in the store, so it also
holds when flows run against different Prefect servers or without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from tasks.errors import PermanentError
from tasks.store.engine import session_scope
from tasks.store.model_registry_models import ModelDecision, RetrainLease

__all__ = [
    "Decision",
    "RetrainInProgressError",
    "acquire_retrain_lease",
    "list_decisions",
    "monitor_key",
    "record_decision",
    "release_retrain_lease",
    "retrain_running",
]

MONITOR = "monitor"


class RetrainInProgressError(PermanentError):
    """Another retrain of the same model holds the lease; this one is refused, not queued."""


@dataclass(frozen=True)
class Decision:
    """One recorded decision."""

    model: str
    kind: str
    action: str
    at: datetime
    reasons: list[str]
    window_start: datetime | None = None
    window_end: datetime | None = None
    rows: int | None = None
    drifted: bool | None = None
    version: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    report_path: str | None = None
    id: int | None = None


def monitor_key(model: str, window_end: datetime) -> str:
    """The natural key of a monitoring decision: one per model and window end."""
    return f"{MONITOR}:{model}:{window_end.astimezone(UTC).isoformat()}"


def record_decision(
    engine: Engine,
    decision: Decision,
    *,
    natural_key: str | None = None,
    flow_run_id: str | None = None,
) -> int:
    """Insert ``decision`` (or replace the one with the same natural key); return its id."""
    values = {
        "model": decision.model,
        "kind": decision.kind,
        "action": decision.action,
        "at": decision.at,
        "window_start": decision.window_start,
        "window_end": decision.window_end,
        "rows": decision.rows,
        "drifted": decision.drifted,
        "version": decision.version,
        "reasons": list(decision.reasons),
        "detail": dict(decision.detail),
        "report_path": decision.report_path,
        "flow_run_id": flow_run_id,
    }
    for _attempt in range(3):
        with session_scope(engine) as session:
            row = None
            if natural_key is not None:
                row = session.scalar(
                    select(ModelDecision).where(ModelDecision.natural_key == natural_key)
                )
            if row is not None:
                for name, value in values.items():
                    setattr(row, name, value)
                return row.id
            row = ModelDecision(natural_key=natural_key, **values)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent rerun of the same window won: update it
                session.rollback()
                continue
            return row.id
    raise PermanentError(f"could not record the decision {natural_key!r}")


def list_decisions(
    engine: Engine,
    model: str,
    kind: str | None = None,
    *,
    before: datetime | None = None,
    limit: int = 50,
) -> list[Decision]:
    """Decisions of ``model``, newest first (monitoring ones ordered by window end)."""
    order = (
        (ModelDecision.window_end.desc(), ModelDecision.id.desc())
        if kind == MONITOR
        else (ModelDecision.at.desc(), ModelDecision.id.desc())
    )
    query = select(ModelDecision).where(ModelDecision.model == model).order_by(*order).limit(limit)
    if kind is not None:
        query = query.where(ModelDecision.kind == kind)
    if before is not None:
        query = query.where(ModelDecision.window_end <= before)
    with session_scope(engine) as session:
        return [
            Decision(
                model=r.model,
                kind=r.kind,
                action=r.action,
                at=r.at,
                reasons=list(r.reasons or []),
                window_start=r.window_start,
                window_end=r.window_end,
                rows=r.rows,
                drifted=r.drifted,
                version=r.version,
                detail=dict(r.detail or {}),
                report_path=r.report_path,
                id=r.id,
            )
            for r in session.scalars(query)
        ]


def acquire_retrain_lease(
    engine: Engine, model: str, holder: str, ttl: timedelta = timedelta(hours=2)
) -> None:
    """Take the model's retrain lease or raise :class:`RetrainInProgressError`.

    An expired lease (a crashed retrain) is taken over; the conditional update makes the
    take-over atomic, so two waiting retrains cannot both win it.
    """
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(RetrainLease(model=model, holder=holder, acquired_at=now, expires_at=now + ttl))
        try:
            session.flush()
            return
        except IntegrityError:
            session.rollback()
    with session_scope(engine) as session:
        # an UPDATE's result is a cursor result: it has a row count
        result = cast(
            CursorResult[Any],
            session.execute(
                update(RetrainLease)
                .where(RetrainLease.model == model, RetrainLease.expires_at < now)
                .values(holder=holder, acquired_at=now, expires_at=now + ttl)
            ),
        )
        taken = result.rowcount
        if taken == 1:
            return
        lease = session.get(RetrainLease, model)
        since = lease.acquired_at.isoformat() if lease else "just now"
    raise RetrainInProgressError(f"a retrain of model {model!r} is already running (since {since})")


def release_retrain_lease(engine: Engine, model: str, holder: str) -> None:
    """Release the lease if ``holder`` still holds it (never someone else's)."""
    with session_scope(engine) as session:
        session.execute(
            delete(RetrainLease).where(RetrainLease.model == model, RetrainLease.holder == holder)
        )


def retrain_running(engine: Engine, model: str) -> bool:
    """Whether an unexpired retrain lease of ``model`` exists."""
    with session_scope(engine) as session:
        lease = session.get(RetrainLease, model)
        return lease is not None and lease.expires_at > datetime.now(UTC)
