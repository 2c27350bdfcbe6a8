from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasks.slo.windows import (
    CalendarWindow,
    Duration,
    RollingWindow,
    format_seconds,
    parse_duration,
)


def epoch(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def test_parse_duration_units_and_bare_minutes():
    assert parse_duration("28d") == Duration(28, "d")
    assert parse_duration("5m").seconds == 300
    assert parse_duration("2w").seconds == 14 * 86400
    assert parse_duration(10) == Duration(10, "m")  # OpenSLO timeSliceWindow: bare number = minutes
    assert parse_duration("1M").label == "1M"


@pytest.mark.parametrize("text", ["", "0d", "5 m", "1.5h", "10s", "-1d", "d"])
def test_parse_duration_rejects_malformed(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_calendar_units_have_no_fixed_length():
    with pytest.raises(ValueError, match="fixed length"):
        parse_duration("1M", fixed=True)
    with pytest.raises(ValueError):
        _ = Duration(1, "Q").seconds


def test_format_seconds_is_compact():
    assert format_seconds(300) == "5m"
    assert format_seconds(3600) == "1h"
    assert format_seconds(3 * 86400) == "3d"
    assert format_seconds(2592) == "43.2m"


def test_rolling_window_looks_back_from_now():
    now = epoch(2025, 3, 10, 12)
    assert RollingWindow(Duration(28, "d")).period(now) == (now - 28 * 86400, now)


def test_calendar_month_in_paris_spans_local_midnights_and_the_dst_change():
    window = CalendarWindow(Duration(1, "M"), datetime(2024, 1, 1), "Europe/Paris")
    start, end = window.period(epoch(2024, 3, 15, 12))
    # 1 March 00:00 CET = 29 Feb 23:00 UTC; 1 April 00:00 CEST = 31 March 22:00 UTC.
    assert start == epoch(2024, 2, 29, 23)
    assert end == epoch(2024, 3, 31, 22)
    assert end - start == 31 * 86400 - 3600  # the spring-forward hour is missing


def test_calendar_period_boundary_belongs_to_the_new_period():
    window = CalendarWindow(Duration(1, "M"), datetime(2024, 1, 1), "Europe/Paris")
    boundary = epoch(2024, 2, 29, 23)
    assert window.period(boundary)[0] == boundary
    assert window.period(boundary - 1)[1] == boundary


def test_calendar_month_anchored_on_the_31st_clamps_to_short_months():
    window = CalendarWindow(Duration(1, "M"), datetime(2024, 1, 31), "UTC")
    assert window.period(epoch(2024, 3, 10)) == (epoch(2024, 2, 29), epoch(2024, 3, 31))


def test_calendar_day_on_dst_day_lasts_23_hours():
    window = CalendarWindow(Duration(1, "d"), datetime(2024, 1, 1), "Europe/Paris")
    start, end = window.period(epoch(2024, 3, 31, 12))
    assert end - start == 23 * 3600


def test_calendar_periods_extend_before_the_start_time():
    window = CalendarWindow(Duration(1, "w"), datetime(2024, 1, 1), "UTC")  # a Monday
    assert window.period(epoch(2023, 12, 27)) == (epoch(2023, 12, 25), epoch(2024, 1, 1))


def test_calendar_quarter_in_new_york():
    window = CalendarWindow(Duration(1, "Q"), datetime(2024, 1, 1), "America/New_York")
    start, end = window.period(epoch(2024, 5, 1))
    assert (start, end) == (epoch(2024, 4, 1, 4), epoch(2024, 7, 1, 4))
