"""Calendar labels, holiday calendars, and the effects the scorer learns from them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from tasks.cost.anomaly.calendar import (
    FIRST_OF_MONTH,
    HOLIDAY,
    LAST_OF_MONTH,
    NONE,
    SECOND_LAST_OF_MONTH,
    SECOND_OF_MONTH,
    check_calendar,
    day_labels,
    holiday_dates,
)
from tasks.cost.anomaly.scoring import score_matrix
from tasks.errors import ConfigurationError

START = date(2025, 1, 1)  # a Wednesday
WEEK = np.array([104.0, 108.0, 104.0, 100.0, 60.0, 55.0, 100.0])  # from a Wednesday
DAYS = 181


def test_labels_mark_month_boundaries_and_holidays_first() -> None:
    labels = day_labels(date(2025, 1, 30), 5, holidays={date(2025, 2, 1)})
    # Jan 30 (second-last), Jan 31 (last), Feb 1 (a holiday here, not "1st"), Feb 2, Feb 3
    assert labels.tolist() == [SECOND_LAST_OF_MONTH, LAST_OF_MONTH, HOLIDAY, SECOND_OF_MONTH, NONE]
    leap = [SECOND_LAST_OF_MONTH, LAST_OF_MONTH, FIRST_OF_MONTH]  # Feb 28, Feb 29, Mar 1
    assert day_labels(date(2024, 2, 28), 3).tolist() == leap


def test_holiday_calendars_by_country_subdivision_or_dates() -> None:
    us = holiday_dates("US", date(2025, 1, 1), date(2025, 12, 31))
    assert date(2025, 7, 4) in us and date(2025, 11, 27) in us  # Thanksgiving
    california = holiday_dates("US-CA", date(2025, 3, 1), date(2025, 3, 31))
    assert date(2025, 3, 31) in california  # Cesar Chavez Day, California only
    assert date(2025, 3, 31) not in holiday_dates("US", date(2025, 3, 1), date(2025, 3, 31))
    listed = holiday_dates(
        (date(2025, 6, 2), date(2026, 1, 1)), date(2025, 1, 1), date(2025, 12, 31)
    )
    assert listed == {date(2025, 6, 2)}
    assert holiday_dates(None, date(2025, 1, 1), date(2025, 12, 31)) == frozenset()


def test_an_unknown_country_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="'XX': unknown country"):
        check_calendar("XX")


def _series(rng_seed: int = 3, noise: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(rng_seed)
    x = 1000.0 * WEEK[np.arange(DAYS) % 7]
    return x * (1 + noise * rng.standard_normal(DAYS))


def _score(x: np.ndarray, holidays: frozenset[date] = frozenset()) -> np.ndarray:
    labels = day_labels(START, DAYS, holidays)
    return score_matrix(x[None, :], min_impact=25, scored_from=64, labels=labels).anomalous[0]


def test_a_month_end_job_is_expected_after_it_was_seen_but_a_bigger_one_is_not() -> None:
    x = _series()
    last_days = np.flatnonzero(day_labels(START, DAYS) == LAST_OF_MONTH)
    x[last_days] *= 1.8  # a batch job on the last day of every month
    without_calendar = score_matrix(x[None, :], min_impact=25, scored_from=64).anomalous[0]
    assert without_calendar[last_days[last_days >= 64]].all()  # flagged every month
    assert not _score(x).any()  # learned from the earlier months: never flagged
    x[last_days[-1]] *= 1.5  # June's job costs 50% more than usual
    assert np.flatnonzero(_score(x)).tolist() == [last_days[-1]]


def test_a_holiday_is_judged_by_the_effect_of_earlier_holidays() -> None:
    us = holiday_dates("US", START, date(2025, 6, 30))
    columns = sorted((d - START).days for d in us)
    x = _series()
    x[columns] *= 1.7  # a consumer-facing service: every holiday is a peak
    flagged = np.flatnonzero(_score(x, us)).tolist()
    assert flagged == []
    x[columns[-1]] *= 1.6  # Juneteenth far above the usual holiday peak
    assert np.flatnonzero(_score(x, us)).tolist() == [columns[-1]]


def test_a_holiday_with_no_earlier_holiday_is_not_flagged() -> None:
    x = _series()
    x[100] *= 2.0
    flagged_as_ordinary = _score(x)
    assert flagged_as_ordinary[100]
    assert not _score(x, frozenset({date(2025, 4, 11)}))[100]  # the matrix's only holiday


def test_two_holiday_dips_on_one_weekday_do_not_drag_that_weekday_down() -> None:
    x = _series()
    # an office workload: two Wednesday holidays two weeks apart cost a third of a Wednesday
    dips = [98, 112]  # both Wednesdays (START is one)
    x[dips] *= 0.3
    holidays = frozenset(START + timedelta(days=d) for d in dips)
    after = [119, 126]  # the ordinary Wednesdays after them

    assert not _score(x, holidays)[after].any()
    assert score_matrix(x[None, :], min_impact=25, scored_from=64).anomalous[0][after].any()
