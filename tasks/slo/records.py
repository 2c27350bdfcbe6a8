"""Persisting SLO evaluations in the store: one row per (SLO, instant), replaced on rerun."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete

from tasks.slo.report import SloReport
from tasks.store import SloEvaluation, session_scope

__all__ = ["save_evaluations"]

_CHUNK = 500


def save_evaluations(engine: Engine, reports: Sequence[SloReport]) -> int:
    """Store each report under its natural key (slo_id, evaluated_at), replacing a previous one."""
    replaced: dict[datetime, list[str]] = defaultdict(list)
    for report in reports:
        replaced[report.evaluated_at].append(report.slo_id)
    with session_scope(engine) as session:
        # One DELETE per instant and chunk, not per report: a fleet's cycle saves 1,000 at once.
        for at, slo_ids in replaced.items():
            for start in range(0, len(slo_ids), _CHUNK):
                session.execute(
                    delete(SloEvaluation).where(
                        SloEvaluation.evaluated_at == at,
                        SloEvaluation.slo_id.in_(slo_ids[start : start + _CHUNK]),
                    )
                )
        session.add_all(
            SloEvaluation(
                slo_id=report.slo_id,
                service=report.service,
                evaluated_at=report.evaluated_at,
                objective=report.objective,
                sli=report.sli,
                budget_remaining=report.budget_remaining,
                detail=report.to_dict(),
            )
            for report in reports
        )
    return len(reports)
