"""Persisting SLO evaluations in the store: one row per (SLO, instant), replaced on rerun."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, delete

from tasks.slo.report import SloReport
from tasks.store import SloEvaluation, session_scope

__all__ = ["save_evaluations"]


def save_evaluations(engine: Engine, reports: Sequence[SloReport]) -> int:
    """Store each report under its natural key (slo_id, evaluated_at), replacing a previous one."""
    with session_scope(engine) as session:
        for report in reports:
            session.execute(
                delete(SloEvaluation).where(
                    SloEvaluation.slo_id == report.slo_id,
                    SloEvaluation.evaluated_at == report.evaluated_at,
                )
            )
            session.add(
                SloEvaluation(
                    slo_id=report.slo_id,
                    service=report.service,
                    evaluated_at=report.evaluated_at,
                    objective=report.objective,
                    sli=report.sli,
                    budget_remaining=report.budget_remaining,
                    detail=report.to_dict(),
                )
            )
    return len(reports)
