"""Store models: chaos experiment runs, the faults they injected, and their tagged check results.

- :class:`ChaosRun` is one execution of one experiment file: its status and verdict, the steady
  states before / during / after, every activity and rollback with its timing (the Chaos Toolkit
  journal, trimmed to what people read), and the flow run that carried it.
- :class:`ChaosFault` is one injected fault: the driver's :class:`FaultHandle` as JSON, written
  the moment the fault is in place, so a crashed or cancelled run can still be rolled back by
  whoever reads the store next (the flow's on_cancellation / on_crashed hooks do).
- :class:`ChaosCheckResult` holds the checks run continuously during an experiment, tagged with
  the run; they stay out of ``check_results`` (and so out of the release-gate budget) unless the
  experiment asks to count them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.models import Base, BigId

__all__ = ["ChaosCheckResult", "ChaosFault", "ChaosRun"]


class ChaosRun(Base):
    """One run of one experiment (``status``: running|completed|failed|aborted|interrupted)."""

    __tablename__ = "chaos_runs"
    __table_args__ = (Index("ix_chaos_runs_service", "service", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), unique=True)
    title: Mapped[str] = mapped_column(String(400))
    experiment_file: Mapped[str] = mapped_column(String(1000))
    service: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    deviated: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str | None] = mapped_column(String(16))  # passed|failed|aborted
    reason: Mapped[str | None] = mapped_column(Text)
    steady_states: Mapped[dict[str, Any]] = mapped_column(default=dict)
    activities: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"run": [], "rollbacks": []}
    probe_success: Mapped[float | None] = mapped_column(Float)  # share of probes that held
    weight: Mapped[int] = mapped_column(Integer, default=1)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ChaosFault(Base):
    """One fault injected by a run; ``removed_at`` and ``verified_clean`` record its rollback."""

    __tablename__ = "chaos_faults"
    __table_args__ = (Index("ix_chaos_faults_run", "run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("chaos_runs.run_id"))
    driver: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(400))
    handle: Mapped[dict[str, Any]] = mapped_column(default=dict)
    injected_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
    verified_clean: Mapped[bool | None] = mapped_column(Boolean)
    verification: Mapped[str | None] = mapped_column(Text)


class ChaosCheckResult(Base):
    """A check run continuously during an experiment, tagged with the experiment's run."""

    __tablename__ = "chaos_check_results"
    __table_args__ = (
        UniqueConstraint("run_id", "check_id", "scheduled_at", name="uq_chaos_check_results_run"),
        Index("ix_chaos_check_results_started", "run_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36))
    check_id: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(64))
    scheduled_at: Mapped[datetime]
    started_at: Mapped[datetime]
    verdict: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
