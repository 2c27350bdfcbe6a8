"""Store models: the model registry and drift-monitoring decisions.

- :class:`ModelVersion` one trained model: metrics, training window, features, artefact location.
- :class:`ModelAlias` the ``champion`` / ``challenger`` pointers of a model (one row per alias).
- :class:`ModelAliasEvent` every alias move, so a rollback knows the previous champion.
- :class:`ModelDecision` every monitoring / retrain / promotion decision with its reasons.
- :class:`RetrainLease` the store-level guard: at most one retrain of a model at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.models import Base, BigId

__all__ = ["ModelAlias", "ModelAliasEvent", "ModelDecision", "ModelVersion", "RetrainLease"]


class ModelVersion(Base):
    """One registered version of a model; ``(model, version)`` is the natural key."""

    __tablename__ = "ml_model_versions"
    __table_args__ = (UniqueConstraint("model", "version", name="uq_ml_model_versions"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    algorithm: Mapped[str] = mapped_column(String(200))
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    train_start: Mapped[datetime | None]
    train_end: Mapped[datetime | None]
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    artifact_uri: Mapped[str] = mapped_column(String(1000))
    rolled_back: Mapped[bool] = mapped_column(Boolean, default=False)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class ModelAlias(Base):
    """Where an alias (``champion``, ``challenger``) of a model points now."""

    __tablename__ = "ml_model_aliases"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    alias: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class ModelAliasEvent(Base):
    """One move of an alias: from ``previous_version`` to ``version``, and why."""

    __tablename__ = "ml_model_alias_events"
    __table_args__ = (Index("ix_ml_model_alias_events_model", "model", "alias", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200))
    alias: Mapped[str] = mapped_column(String(32))
    version: Mapped[int | None] = mapped_column(Integer)
    previous_version: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class ModelDecision(Base):
    """A monitoring, retrain, promotion or rollback decision and the reasons behind it.

    Monitoring decisions carry a natural key (model + window end) so a rerun of the same window
    replaces its decision instead of counting the window twice.
    """

    __tablename__ = "ml_decisions"
    __table_args__ = (
        UniqueConstraint("natural_key", name="uq_ml_decisions_key"),
        Index("ix_ml_decisions_model", "model", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    natural_key: Mapped[str | None] = mapped_column(String(300))
    model: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    rows: Mapped[int | None] = mapped_column(Integer)
    drifted: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    report_path: Mapped[str | None] = mapped_column(String(1000))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))


class RetrainLease(Base):
    """Held while a model retrains; a second retrain of the same model is refused until expiry."""

    __tablename__ = "ml_retrain_leases"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
