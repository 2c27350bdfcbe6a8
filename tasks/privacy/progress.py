"""Progress of each (request, step, datastore): what a rerun may skip.

A step is ``done`` only after its work committed; a rerun reads the stored counts of done steps
instead of repeating them, so nothing is exported or erased twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from tasks.store.engine import session_scope
from tasks.store.fulfilment_models import DsrStep

__all__ = ["clear_detail", "finish_step", "get_step", "start_step", "steps_for"]


def get_step(engine: Engine, request_id: str, step: str, datastore: str = "") -> DsrStep | None:
    with session_scope(engine) as session:
        return session.scalars(
            select(DsrStep).where(
                DsrStep.request_id == request_id,
                DsrStep.step == step,
                DsrStep.datastore == datastore,
            )
        ).first()


def _upsert(engine: Engine, request_id: str, step: str, datastore: str, **values: Any) -> DsrStep:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        row = session.scalars(
            select(DsrStep).where(
                DsrStep.request_id == request_id,
                DsrStep.step == step,
                DsrStep.datastore == datastore,
            )
        ).first()
        if row is None:
            row = DsrStep(
                request_id=request_id,
                step=step,
                datastore=datastore,
                status="running",
                attempts=0,
                counts={},
                detail={},
                updated_at=now,
            )
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
        return row


def start_step(engine: Engine, request_id: str, step: str, datastore: str = "") -> int:
    """Mark a step running; returns the attempt number."""
    previous = get_step(engine, request_id, step, datastore)
    attempts = (previous.attempts if previous else 0) + 1
    _upsert(engine, request_id, step, datastore, status="running", attempts=attempts, error=None)
    return attempts


def finish_step(
    engine: Engine,
    request_id: str,
    step: str,
    datastore: str = "",
    counts: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    status: str = "done",
    error: str | None = None,
) -> DsrStep:
    values: dict[str, Any] = {"status": status, "counts": counts or {}, "error": error}
    if detail is not None:
        values["detail"] = detail
    return _upsert(engine, request_id, step, datastore, **values)


def steps_for(engine: Engine, request_id: str) -> list[DsrStep]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(DsrStep).where(DsrStep.request_id == request_id).order_by(DsrStep.id)
            )
        )


def clear_detail(engine: Engine, request_id: str, step: str) -> None:
    """Forget a step's detail (the plan's row keys once the request is closed)."""
    _upsert(engine, request_id, step, "", detail={})
