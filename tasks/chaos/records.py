"""Store access for chaos runs: the run row, injected fault handles and tagged check results.

A fault handle is written *before* the injecting activity returns, so whoever reads the store
next (the run's own rollback, the flow's cancellation or crash hook, an operator) finds every
fault still in place with :func:`open_faults`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from tasks.chaos.drivers.base import FaultHandle, Verification
from tasks.errors import ServiceUnavailableError
from tasks.slo.events import CheckResults
from tasks.slo.gate import ExperimentResult
from tasks.store.chaos_models import ChaosCheckResult, ChaosFault, ChaosRun
from tasks.store.engine import session_scope

__all__ = [
    "OpenFault",
    "concat_results",
    "create_run",
    "fetch_run_results",
    "finish_if_running",
    "finish_run",
    "last_experiment",
    "last_runs",
    "mark_removed",
    "open_faults",
    "record_check_results",
    "record_fault",
    "results_columns",
    "run_faults",
    "runs_of_flow_run",
    "service_resilience",
]


@dataclass(frozen=True)
class OpenFault:
    """A fault of a run that has not been removed and verified clean yet."""

    id: int
    run_id: str
    handle: FaultHandle


def _now() -> datetime:
    return datetime.now(UTC)


def _unavailable(what: str, exc: OperationalError) -> ServiceUnavailableError:
    return ServiceUnavailableError(f"cannot {what}: {exc.orig.__class__.__name__}")


def create_run(
    engine: Engine,
    run_id: str,
    title: str,
    experiment_file: str,
    service: str,
    weight: int = 1,
    flow_run_id: str | None = None,
) -> None:
    """Insert the run as ``running`` (before anything is injected)."""
    try:
        with session_scope(engine) as session:
            session.add(
                ChaosRun(
                    run_id=run_id,
                    title=title[:400],
                    experiment_file=experiment_file[:1000],
                    service=service,
                    status="running",
                    deviated=False,
                    steady_states={},
                    activities={},
                    weight=weight,
                    flow_run_id=flow_run_id,
                    started_at=_now(),
                )
            )
    except OperationalError as exc:
        raise _unavailable("record the chaos run", exc) from None


def finish_run(engine: Engine, run_id: str, **fields: Any) -> None:
    """Set the final fields of a run (status, verdict, journal parts) and its end time."""
    with session_scope(engine) as session:
        run = session.scalars(select(ChaosRun).where(ChaosRun.run_id == run_id)).one()
        for name, value in fields.items():
            setattr(run, name, value)
        run.ended_at = _now()


def finish_if_running(engine: Engine, run_id: str, reason: str) -> None:
    """Close a run a crash or cancellation left ``running``: interrupted, verdict aborted."""
    with session_scope(engine) as session:
        run = session.scalars(select(ChaosRun).where(ChaosRun.run_id == run_id)).one_or_none()
        if run is not None and run.status == "running":
            run.status, run.verdict, run.reason = "interrupted", "aborted", reason
            run.ended_at = _now()


def record_fault(engine: Engine, run_id: str, handle: FaultHandle) -> int:
    """Store an injected fault's handle; returns its id."""
    try:
        with session_scope(engine) as session:
            fault = ChaosFault(
                run_id=run_id,
                driver=handle.driver,
                target=handle.target[:400],
                handle=handle.to_json(),
                injected_at=_now(),
            )
            session.add(fault)
            session.flush()
            return int(fault.id)
    except OperationalError as exc:
        raise _unavailable("record the injected fault", exc) from None


def mark_removed(engine: Engine, fault_id: int, verification: Verification | None) -> None:
    """Record that a fault was removed, and what the check afterwards found."""
    with session_scope(engine) as session:
        fault = session.get(ChaosFault, fault_id)
        if fault is None:
            return
        fault.removed_at = fault.removed_at or _now()
        if verification is not None:
            fault.verified_clean = verification.clean
            fault.verification = verification.detail[:2000]


def open_faults(engine: Engine, run_id: str | None = None) -> list[OpenFault]:
    """Faults not yet removed and verified clean (of ``run_id``, or of every run)."""
    stmt = select(ChaosFault).where(ChaosFault.verified_clean.is_not(True)).order_by(ChaosFault.id)
    if run_id is not None:
        stmt = stmt.where(ChaosFault.run_id == run_id)
    with session_scope(engine) as session:
        return [
            OpenFault(f.id, f.run_id, FaultHandle.from_json(f.handle))
            for f in session.scalars(stmt)
        ]


def record_check_results(engine: Engine, run_id: str, results: Iterable[Any]) -> int:
    """Store check results tagged with the run (a repeated slot of a check is skipped)."""
    rows = [
        ChaosCheckResult(
            run_id=run_id,
            check_id=r.check_id,
            region=r.region,
            scheduled_at=r.scheduled_at,
            started_at=r.started_at,
            verdict=r.verdict,
            duration_ms=r.duration_ms,
            status_code=r.status_code,
            error=(r.error or None) and str(r.error)[:500],
        )
        for r in results
    ]
    with session_scope(engine) as session:
        seen = set(
            session.execute(
                select(ChaosCheckResult.check_id, ChaosCheckResult.scheduled_at).where(
                    ChaosCheckResult.run_id == run_id,
                    ChaosCheckResult.scheduled_at.in_({r.scheduled_at for r in rows}),
                )
            ).all()
        )
        fresh = [r for r in rows if (r.check_id, r.scheduled_at) not in seen]
        session.add_all(fresh)
    return len(fresh)


def fetch_run_results(engine: Engine, run_id: str, start: datetime, end: datetime) -> CheckResults:
    """The run's tagged results with ``start <= started_at < end``, as SLO-engine columns."""
    table = ChaosCheckResult.__table__
    stmt = (
        select(table.c.check_id, table.c.region, table.c.started_at, table.c.verdict)
        .add_columns(table.c.duration_ms)
        .where(table.c.run_id == run_id, table.c.started_at >= start, table.c.started_at < end)
        .order_by(table.c.started_at)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return CheckResults.from_records(
        {
            "check_id": r[0],
            "region": r[1],
            "started_at": r[2] if r[2].tzinfo else r[2].replace(tzinfo=UTC),
            "verdict": r[3],
            "duration_ms": r[4],
        }
        for r in rows
    )


def last_runs(engine: Engine, service: str) -> list[ChaosRun]:
    """The latest finished run of each experiment (by file) of ``service``, newest first."""
    stmt = (
        select(ChaosRun)
        .where(ChaosRun.service == service, ChaosRun.verdict.is_not(None))
        .order_by(ChaosRun.started_at.desc(), ChaosRun.id.desc())
    )
    latest: dict[str, ChaosRun] = {}
    with session_scope(engine) as session:
        for run in session.scalars(stmt):
            latest.setdefault(run.experiment_file, run)
    return list(latest.values())


def concat_results(parts: Sequence[CheckResults]) -> CheckResults:
    """One :class:`CheckResults` from several, in ``started_at`` order."""
    order = np.argsort(np.concatenate([p.started_at for p in parts]), kind="stable")
    return CheckResults(
        *(
            np.concatenate([getattr(p, name) for p in parts])[order]
            for name in ("check_id", "region", "started_at", "verdict", "duration_ms")
        )
    )


def results_columns(columns: Any) -> CheckResults:
    """Store columns (:class:`~tasks.store.check_results.ResultColumns`) as SLO-engine input."""
    return CheckResults(
        columns.check_id, columns.region, columns.started_at, columns.verdict, columns.duration_ms
    )


def run_faults(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """Every fault of a run with its rollback outcome, oldest first."""
    stmt = select(ChaosFault).where(ChaosFault.run_id == run_id).order_by(ChaosFault.id)
    with session_scope(engine) as session:
        return [
            {
                "driver": f.driver,
                "target": f.target,
                "injected_at": f.injected_at.isoformat(),
                "removed_at": f.removed_at.isoformat() if f.removed_at else None,
                "verified_clean": f.verified_clean,
                "verification": f.verification,
            }
            for f in session.scalars(stmt)
        ]


def runs_of_flow_run(engine: Engine, flow_run_id: str) -> list[str]:
    """Run ids of the chaos runs a Prefect flow run started."""
    stmt = select(ChaosRun.run_id).where(ChaosRun.flow_run_id == flow_run_id)
    with engine.connect() as conn:
        return [str(r) for r in conn.execute(stmt).scalars()]


def last_experiment(engine: Engine, service: str) -> ExperimentResult | None:
    """The most recent finished chaos run of ``service``, for the release gate."""
    stmt = (
        select(ChaosRun)
        .where(ChaosRun.service == service, ChaosRun.verdict.is_not(None))
        .order_by(ChaosRun.started_at.desc(), ChaosRun.id.desc())
        .limit(1)
    )
    with session_scope(engine) as session:
        run = session.scalars(stmt).first()
        if run is None:
            return None
        return ExperimentResult(run.title, str(run.verdict), run.ended_at, run.reason)


def service_resilience(engine: Engine, service: str) -> float | None:
    """The resilience score (0-100) of ``service`` over the latest run of each experiment."""
    from tasks.chaos.score import resilience_score

    return resilience_score((r.weight, r.probe_success) for r in last_runs(engine, service))
