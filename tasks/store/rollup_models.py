"""Tables of the check-result rollups and of the store's retention and rebuild marks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.models import Base

__all__ = ["CheckRollup", "StoreMark"]


class CheckRollup(Base):
    """Counts of one check in one region over one bucket (a minute, an hour or a day).

    ``bucket_start`` is epoch seconds (a multiple of ``resolution``): the SLO engine computes on
    epoch seconds, and integer keys keep range reads cheap on both backends. ``cells`` maps
    ``"verdict:latency-cell"`` to ``[count, latest started_at]`` (see
    :mod:`tasks.store.rollup_cells`); the count and ``last_*_at`` columns are the same figures
    by verdict, for SQL.
    """

    __tablename__ = "check_rollups"
    __table_args__ = (Index("ix_check_rollups_bucket", "resolution", "bucket_start"),)

    check_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    results: Mapped[int] = mapped_column(Integer)
    pass_count: Mapped[int] = mapped_column(Integer)
    degraded_count: Mapped[int] = mapped_column(Integer)
    fail_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    no_latency_count: Mapped[int] = mapped_column(Integer)
    latency_sum_ms: Mapped[float] = mapped_column(Float)
    # Latest start per verdict (epoch seconds): with the counts, what an availability SLI needs
    # summed in SQL, without reading cells.
    last_pass_at: Mapped[int | None] = mapped_column(BigInteger)
    last_degraded_at: Mapped[int | None] = mapped_column(BigInteger)
    last_fail_at: Mapped[int | None] = mapped_column(BigInteger)
    last_error_at: Mapped[int | None] = mapped_column(BigInteger)
    cells: Mapped[dict[str, Any]]


class StoreMark(Base):
    """A named instant the store keeps: how far retention removed, how far a rebuild got."""

    __tablename__ = "store_marks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime]
