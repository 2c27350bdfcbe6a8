"""The table of packed hours: one row per check, region and hour, raw results and minute rollups
compressed."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.models import Base

__all__ = ["CheckPackedHour"]


class CheckPackedHour(Base):
    """The raw results of one check in one region that started in one UTC hour, column-wise.

    ``hour_start`` is epoch seconds (a multiple of 3,600) of the hour the results *started* in,
    the instant every reader filters on. ``first_scheduled`` and ``last_scheduled`` (whole epoch
    seconds) bound the slots inside, so a writer replacing a slot finds the hour holding it.
    ``raw`` is the payload of :mod:`tasks.store.packed_codec` (a version byte, then zlib),
    NULL once raw retention passed; ``minutes`` the hour's minute rollups
    (:mod:`tasks.store.minute_codec`), NULL once minute retention passed. A row with neither
    is deleted. ``results`` and ``minute_buckets`` count what each holds (0 when NULL).
    """

    __tablename__ = "check_packed_hours"
    __table_args__ = (
        Index("ix_check_packed_hours_hour", "hour_start"),
        Index("ix_check_packed_hours_last_scheduled", "last_scheduled"),
    )

    check_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    results: Mapped[int] = mapped_column(Integer)
    first_scheduled: Mapped[int] = mapped_column(BigInteger)
    last_scheduled: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    minute_buckets: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[bytes | None] = mapped_column(LargeBinary)
