"""Calendar days a bill treats differently: month boundaries and public holidays.

Every bill has them: fees and subscriptions on the 1st, batch jobs on the last days of a month,
peaks or dips on public holidays. :func:`day_labels` gives each column of a daily cost matrix its
label; the scorer learns each series' own effect of every label from the earlier days that carry
it (see :mod:`tasks.cost.anomaly.scoring`), so the same 1st-of-month fee or month-end job is
expected, not alerted, while a change in it still is.

Holidays come from the ``holidays`` package by country (``US``, ``DE``) and optional subdivision
(``US-CA``), or from an explicit list of dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from tasks.errors import ConfigurationError

__all__ = [
    "FIRST_OF_MONTH",
    "HOLIDAY",
    "LAST_OF_MONTH",
    "NONE",
    "SECOND_LAST_OF_MONTH",
    "SECOND_OF_MONTH",
    "check_calendar",
    "day_labels",
    "holiday_dates",
]

NONE, FIRST_OF_MONTH, SECOND_OF_MONTH, SECOND_LAST_OF_MONTH, LAST_OF_MONTH, HOLIDAY = range(6)
Calendar = str | tuple[date, ...] | None


@lru_cache(maxsize=64)
def _country(code: str, years: tuple[int, ...]) -> frozenset[date]:
    import holidays

    country, _, subdivision = code.partition("-")
    try:
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    except NotImplementedError:
        raise ConfigurationError(
            f"holiday calendar {code!r}: unknown country (use an ISO 3166 code such as US, DE)"
        ) from None
    except (KeyError, ValueError) as exc:
        raise ConfigurationError(f"holiday calendar {code!r}: {exc}") from None
    return frozenset(found)


def check_calendar(calendar: Calendar) -> None:
    """Raise :class:`ConfigurationError` when a country calendar is unknown."""
    if isinstance(calendar, str):
        _country(calendar, (date.today().year,))


def holiday_dates(calendar: Calendar, first: date, last: date) -> frozenset[date]:
    """The holidays of ``calendar`` from ``first`` to ``last`` (inclusive)."""
    if calendar is None:
        return frozenset()
    if isinstance(calendar, str):
        days = _country(calendar, tuple(range(first.year, last.year + 1)))
    else:
        days = frozenset(calendar)
    return frozenset(d for d in days if first <= d <= last)


def day_labels(start: date, days: int, holidays: Iterable[date] = ()) -> np.ndarray:
    """One label per consecutive day from ``start``: a holiday wins over a month position."""
    off = set(holidays)
    labels = np.zeros(days, dtype=np.int8)
    for column in range(days):
        day = start + timedelta(days=column)
        to_next_month = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - day).days
        if day in off:
            labels[column] = HOLIDAY
        elif day.day == 1:
            labels[column] = FIRST_OF_MONTH
        elif day.day == 2:
            labels[column] = SECOND_OF_MONTH
        elif to_next_month == 1:
            labels[column] = LAST_OF_MONTH
        elif to_next_month == 2:
            labels[column] = SECOND_LAST_OF_MONTH
    return labels
