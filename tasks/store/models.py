"""SQLAlchemy 2 models of the Traceo store (the system of record for every job)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AlertEvent", "AlertState", "Base", "CheckResult", "SloEvaluation", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class CheckResult(Base):
    """One synthetic check run in one region for one scheduled slot (the natural key)."""

    __tablename__ = "check_results"
    __table_args__ = (
        UniqueConstraint("check_id", "region", "scheduled_at", name="uq_check_results_run"),
        Index("ix_check_results_check_started", "check_id", "started_at"),
        Index("ix_check_results_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    check_id: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(64))
    scheduled_at: Mapped[datetime]
    started_at: Mapped[datetime]
    verdict: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    failing_step: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cert_expires_at: Mapped[datetime | None]
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)


class SloEvaluation(Base):
    """The outcome of evaluating one SLO at one instant (SLI, budget, burn rates, alerts)."""

    __tablename__ = "slo_evaluations"
    __table_args__ = (
        UniqueConstraint("slo_id", "evaluated_at", name="uq_slo_evaluations_at"),
        Index("ix_slo_evaluations_service", "service", "evaluated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    slo_id: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(200))
    evaluated_at: Mapped[datetime]
    objective: Mapped[float] = mapped_column(Float)
    sli: Mapped[float | None] = mapped_column(Float)
    budget_remaining: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertState(Base):
    """Current state of one alert (an SLO, a tier and a scope); drives fire/remind/resolve."""

    __tablename__ = "alert_states"

    slo_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    alert_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    severity: Mapped[str] = mapped_column(String(16))
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[datetime | None]
    last_notified_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertEvent(Base):
    """A notification sent (or attempted) for an alert: fire, remind or resolve."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_slo", "slo_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    slo_id: Mapped[str] = mapped_column(String(200))
    alert_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
