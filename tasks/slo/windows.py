"""Durations and SLO time windows: rolling (look back from now) and calendar-aligned periods.

OpenSLO's duration shorthand is a positive integer and one of ``m h d w M Q Y``. Minutes to weeks
are fixed lengths; months, quarters and years only make sense on a calendar, so they are accepted
for calendar windows and rejected wherever a fixed length is needed (rolling windows, alert
windows, time slices).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "CalendarWindow",
    "Duration",
    "RollingWindow",
    "TimeWindow",
    "format_seconds",
    "parse_duration",
]

_DURATION = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")
_FIXED_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_MONTHS = {"M": 1, "Q": 3, "Y": 12}


@dataclass(frozen=True)
class Duration:
    """An OpenSLO duration shorthand such as ``5m``, ``28d`` or ``1M``."""

    count: int
    unit: str

    @property
    def label(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def is_fixed(self) -> bool:
        """True for minutes, hours, days and weeks (a fixed number of seconds)."""
        return self.unit in _FIXED_SECONDS

    @property
    def seconds(self) -> int:
        """Length in seconds; raises ``ValueError`` for calendar units (M, Q, Y)."""
        if not self.is_fixed:
            raise ValueError(f"{self.label} has no fixed length (use m, h, d or w)")
        return self.count * _FIXED_SECONDS[self.unit]

    def __str__(self) -> str:
        return self.label


def parse_duration(value: str | int, *, fixed: bool = False) -> Duration:
    """Parse a duration shorthand; a bare integer means minutes (as OpenSLO's timeSliceWindow).

    Args:
        value: ``"5m"``, ``"28d"``, ``"1M"`` ... or an integer number of minutes.
        fixed: reject calendar units (M, Q, Y).

    Raises:
        ValueError: with a message fit for a spec error.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"duration must be positive, got {value}")
        return Duration(value, "m")
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(
            f"invalid duration {value!r}: use a positive integer and one of m h d w M Q Y, e.g. 28d"
        )
    duration = Duration(int(match.group(1)), match.group(2))
    if fixed and not duration.is_fixed:
        raise ValueError(f"{duration.label} has no fixed length here; use m, h, d or w")
    return duration


def format_seconds(seconds: float) -> str:
    """Render a length compactly: ``43.2m``, ``6h``, ``3d``, ``45s``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            value = seconds / size
            return f"{value:g}{unit}" if value == int(value) else f"{value:.3g}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class RollingWindow:
    """The last ``duration`` up to now; the budget is that duration's."""

    duration: Duration

    @property
    def label(self) -> str:
        return f"{self.duration.label} rolling"

    def period(self, now: int) -> tuple[int, int]:
        """Return ``(start, end)`` epoch seconds of the window that ends at ``now``."""
        return now - self.duration.seconds, now


@dataclass(frozen=True)
class CalendarWindow:
    """Calendar-aligned periods (``1M`` from a start time, in an IANA time zone).

    Periods repeat from ``start`` every ``duration`` in wall-clock time of ``time_zone``, so a
    monthly period starts at local midnight on the same day every month and a DST change makes a
    day 23 or 25 hours long, as people expect of "this month" or "today".
    """

    duration: Duration
    start: datetime  # naive wall-clock time in ``time_zone``
    time_zone: str

    @property
    def label(self) -> str:
        return f"{self.duration.label} calendar ({self.time_zone})"

    def period(self, now: int) -> tuple[int, int]:
        """Return ``(start, end)`` epoch seconds of the period holding ``now`` (end exclusive)."""
        tz = ZoneInfo(self.time_zone)
        local_now = datetime.fromtimestamp(now, tz).replace(tzinfo=None)
        k = self._periods_between(self.start, local_now)
        # Wall-clock arithmetic can be off by one around DST folds; settle on epoch seconds.
        while self._epoch(k, tz) > now:
            k -= 1
        while self._epoch(k + 1, tz) <= now:
            k += 1
        return self._epoch(k, tz), self._epoch(k + 1, tz)

    def _periods_between(self, start: datetime, local_now: datetime) -> int:
        unit, count = self.duration.unit, self.duration.count
        if unit in _MONTHS:
            step = _MONTHS[unit] * count
            months = (local_now.year - start.year) * 12 + (local_now.month - start.month)
            return months // step
        step_td = timedelta(seconds=self.duration.seconds)
        return (local_now - start) // step_td

    def _boundary(self, k: int) -> datetime:
        unit, count = self.duration.unit, self.duration.count
        if unit in _MONTHS:
            return _add_months(self.start, k * _MONTHS[unit] * count)
        return self.start + k * timedelta(seconds=self.duration.seconds)

    def _epoch(self, k: int, tz: ZoneInfo) -> int:
        return int(self._boundary(k).replace(tzinfo=tz).astimezone(UTC).timestamp())


TimeWindow = RollingWindow | CalendarWindow


def _add_months(moment: datetime, months: int) -> datetime:
    """Add whole months, clamping the day (a period anchored on the 31st starts on Feb 28/29)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))
