"""Maintenance windows as code: one planned window of a service or a check, and its occurrences.

A window is one-off (``start`` and ``end``) or recurring (``start``, ``duration`` and either
``weekly: {day, at}`` or an RFC 5545 ``rrule``); times are wall-clock times in ``timezone``, so a
weekly 02:00 window stays at 02:00 across daylight-saving changes. Recurring windows repeat at most
daily, which bounds how many occurrences any read expands.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tasks.slo.windows import parse_duration

__all__ = ["MaintenanceWindow", "Weekly"]

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]
_TOO_FREQUENT = ("FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY")


class Weekly(BaseModel):
    """Every week on ``day`` at ``at`` (local time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: Weekday
    at: time

    @field_validator("at", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 5:00 as 300 (base 60)
            raise ValueError('write the time in quotes, e.g. "05:00"')
        return value


class MaintenanceWindow(BaseModel):
    """One maintenance window; validation covers the window alone (see the loader for the rest)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=128)
    service: str | None = None
    check: str | None = None
    # Field order matters: the validators of start, end, duration and until read the fields
    # above them (the zone, and whether the window recurs).
    timezone: str = "UTC"
    weekly: Weekly | None = None
    rrule: str | None = None
    start: datetime
    end: datetime | None = Field(default=None, validate_default=True)
    duration: str | None = Field(default=None, validate_default=True)
    until: datetime | None = None
    reason: str = Field(min_length=1, max_length=500)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name, e.g. Europe/Berlin)"
            ) from None
        return value

    @field_validator("rrule")
    @classmethod
    def _valid_rule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().removeprefix("RRULE:")
        upper = text.upper()
        if "DTSTART" in upper:
            raise ValueError("give the first occurrence as start, not DTSTART in the rule")
        if any(freq in upper for freq in _TOO_FREQUENT):
            raise ValueError("repeats more often than daily; use FREQ=DAILY or rarer")
        from dateutil.rrule import rrulestr

        try:
            rrulestr(text, dtstart=datetime(2000, 1, 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an RFC 5545 RRULE: {exc}") from None
        return text

    @field_validator("end", "duration", "until")
    @classmethod
    def _fits_the_kind(cls, value: Any, info: ValidationInfo) -> Any:
        data, name = info.data, info.field_name
        if "weekly" not in data or "rrule" not in data:
            return value  # the recurrence is invalid and reported on its own
        recurs = data["weekly"] is not None or data["rrule"] is not None
        if recurs and name == "end" and value is not None:
            raise ValueError("a recurring window takes duration, not end")
        if recurs and name == "duration" and value is None:
            raise ValueError("a recurring window needs a duration, e.g. 2h")
        if not recurs and name == "end" and value is None:
            raise ValueError("required for a one-off window (or give weekly or rrule)")
        if not recurs and name != "end" and value is not None:
            raise ValueError("only for recurring windows (weekly or rrule)")
        if name == "duration" and value is not None:
            parse_duration(value, fixed=True)
        if isinstance(value, datetime):
            _after_start(value, data, "ends" if name == "end" else "stops repeating")
        return value

    @model_validator(mode="after")
    def _one_of_each(self) -> MaintenanceWindow:
        if (self.service is None) == (self.check is None):
            raise ValueError("give exactly one of service or check")
        if self.weekly is not None and self.rrule is not None:
            raise ValueError("give one of weekly or rrule, not both")
        return self

    @property
    def target(self) -> tuple[str, str]:
        """``("service", name)`` or ``("check", id)``."""
        return ("service", self.service) if self.service else ("check", self.check or "")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def length(self) -> timedelta:
        if self.duration is None:
            assert self.end is not None
            return self._utc(self.end) - self._utc(self.start)
        return timedelta(seconds=parse_duration(self.duration, fixed=True).seconds)

    def _utc(self, moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    def _local(self, moment: datetime) -> datetime:
        """Wall-clock time in the window's zone, naive (what recurrence rules count in)."""
        return moment.astimezone(self.zone).replace(tzinfo=None) if moment.tzinfo else moment

    def _recurrence(self) -> Any:
        from dateutil.rrule import WEEKLY, rrule, rrulestr

        start = self._local(self.start)
        until = self._local(self.until) if self.until else None
        if self.weekly is not None:
            at = self.weekly.at
            day = _WEEKDAYS.index(self.weekly.day)
            return rrule(
                WEEKLY,
                dtstart=start,
                until=until,
                byweekday=day,
                byhour=at.hour,
                byminute=at.minute,
                bysecond=at.second,
            )
        rule = rrulestr(self.rrule or "", dtstart=start)
        return rule.replace(until=until) if until else rule

    def occurrences(self, lo: int, hi: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(starts, ends) in epoch seconds of the occurrences overlapping ``[lo, hi)``, sorted."""
        length = self.length
        if self.weekly is None and self.rrule is None:
            begins = [self._utc(self.start)]
        else:
            # local bounds, widened by the window's length and a day for DST shifts
            margin = length + timedelta(days=1)
            after = datetime.fromtimestamp(lo, self.zone).replace(tzinfo=None) - margin
            before = datetime.fromtimestamp(hi, self.zone).replace(tzinfo=None) + timedelta(days=1)
            begins = [
                b.replace(tzinfo=self.zone) for b in self._recurrence().between(after, before, True)
            ]
        starts = np.asarray([int(b.timestamp()) for b in begins], dtype=np.int64)
        ends = starts + int(length.total_seconds())
        keep = (starts < hi) & (ends > lo)
        return starts[keep], ends[keep]


def _after_start(value: datetime, data: dict[str, Any], verb: str) -> None:
    start, zone = data.get("start"), data.get("timezone")
    if start is None or zone is None:
        return  # start or the zone is invalid: reported on its own

    def utc(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))

    if utc(value) <= utc(start):
        raise ValueError(f"{verb} before it starts (start {start:%Y-%m-%d %H:%M})")
