"""Store model of anomaly notices: which alert went to which target, and when.

:class:`~tasks.store.cost_models.CostAnomaly` keeps the anomaly itself and its latest alert
(``last_alerted_at``, ``alert_kind``); this table keeps every notice per target, so a daily
digest goes to each target once a day and a failed delivery to one target is retried without
repeating it to the others. Migration ``0003``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.models import Base, BigId

__all__ = ["AnomalyNotice"]


class AnomalyNotice(Base):
    """One anomaly in one notice to one target: ``immediate`` or part of a ``digest``."""

    __tablename__ = "cost_anomaly_notices"
    __table_args__ = (
        UniqueConstraint("anomaly_id", "target", "kind", name="uq_cost_anomaly_notices"),
        Index("ix_cost_anomaly_notices_digest", "target", "kind", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    anomaly_id: Mapped[int] = mapped_column(BigId, ForeignKey("cost_anomalies.id"))
    target: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # immediate | digest
    day: Mapped[date] = mapped_column(Date)  # the UTC day of the notice (one digest a day)
    sent_at: Mapped[datetime]
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
