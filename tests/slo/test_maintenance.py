"""Maintenance windows: validated like other specs; failures inside spend no budget, pages wait."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tasks.errors import SpecError
from tasks.probes.loader import load_checks
from tasks.slo.definition import Indicator
from tasks.slo.evaluate import evaluate_results
from tasks.slo.events import CheckResults
from tasks.slo.gate import decide_gate
from tasks.slo.maintenance import MaintenanceCalendar
from tasks.slo.maintenance_loader import load_maintenance
from tasks.slo.maintenance_spec import MaintenanceWindow
from tasks.slo.tasks import routed_signals
from tests.slo.helpers import slo

CHECKS = """\
checks:
  - {id: shop-health, service: shop-api, request: {url: 'http://127.0.0.1:1/health'}}
  - {id: shop-home, service: shop-web, request: {url: 'http://127.0.0.1:1/'}}
"""


def _load(tmp_path: Path, windows: str) -> list[MaintenanceWindow]:
    (tmp_path / "checks.yaml").write_text(CHECKS, encoding="utf-8")
    (tmp_path / "maintenance.yaml").write_text("maintenance:\n" + windows, encoding="utf-8")
    return load_maintenance([tmp_path], load_checks([tmp_path]))


def _problems(tmp_path: Path, windows: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, windows)
    return [str(issue) for issue in caught.value.issues]


ONE_OFF = """\
  - id: db-upgrade
    service: shop-api
    start: 2026-12-10T02:00
    end: 2026-12-10T04:00
    timezone: Europe/Berlin
    reason: PostgreSQL upgrade
"""


def test_windows_load_from_the_checks_directory_and_checks_ignore_them(tmp_path: Path) -> None:
    windows = _load(tmp_path, ONE_OFF)
    assert [w.id for w in windows] == ["db-upgrade"]
    assert [c.id for c in load_checks([tmp_path])] == ["shop-health", "shop-home"]
    starts, ends = windows[0].occurrences(0, 2**40)
    expected = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 02:00 in Berlin (CET, UTC+1)
    assert starts.tolist() == [int(expected.timestamp())]
    assert (ends - starts).tolist() == [7200]


def test_a_window_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    bad = ONE_OFF.replace("end: 2026-12-10T04:00", "end: 2026-12-10T01:00")
    assert _problems(tmp_path, bad) == [
        f"{tmp_path / 'maintenance.yaml'}: db-upgrade: maintenance[0].end: "
        "ends before it starts (start 2026-12-10 02:00)"
    ]


def test_overlapping_windows_of_one_target_are_refused(tmp_path: Path) -> None:
    second = ONE_OFF.replace("db-upgrade", "db-reindex").replace("T02:00", "T03:30")
    second = second.replace("T04:00", "T05:00")
    assert _problems(tmp_path, ONE_OFF + second) == [
        f"{tmp_path / 'maintenance.yaml'}: db-reindex: maintenance[1].start: overlaps window "
        f"'db-upgrade' ({tmp_path / 'maintenance.yaml'}) of service 'shop-api' "
        "at 2026-12-10 03:30 Europe/Berlin"
    ]


def test_windows_of_different_targets_may_overlap(tmp_path: Path) -> None:
    other = ONE_OFF.replace("db-upgrade", "web-deploy").replace(
        "service: shop-api", "check: shop-home"
    )
    assert len(_load(tmp_path, ONE_OFF + other)) == 2


def test_a_weekly_window_meeting_a_one_off_window_is_refused(tmp_path: Path) -> None:
    weekly = """\
  - id: thursday-deploys
    service: shop-api
    start: 2026-12-01T00:00
    weekly: {day: thursday, at: "03:00"}
    duration: 30m
    timezone: Europe/Berlin
    reason: weekly deploy
"""  # 2026-12-10 is a Thursday: 03:00-03:30 falls inside db-upgrade
    (problem,) = _problems(tmp_path, ONE_OFF + weekly)
    assert "maintenance[1].start: overlaps window 'db-upgrade'" in problem
    assert problem.endswith("at 2026-12-10 03:00 Europe/Berlin")


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ("service: shop-api", "service: shop-apii", "service", "unknown service 'shop-apii'"),
        ("service: shop-api", "check: shop-helth", "check", "unknown check 'shop-helth'"),
        ("Europe/Berlin", "Europe/Berlinn", "timezone", "unknown time zone 'Europe/Berlinn'"),
    ],
)
def test_unknown_targets_and_zones_are_refused(
    tmp_path: Path, old: str, new: str, field: str, reason: str
) -> None:
    (problem,) = _problems(tmp_path, ONE_OFF.replace(old, new))
    prefix = f"{tmp_path / 'maintenance.yaml'}: db-upgrade: maintenance[0].{field}: {reason}"
    assert problem.startswith(prefix)


def test_a_recurrence_needs_a_duration_and_a_rule_at_most_daily(tmp_path: Path) -> None:
    hourly = """\
  - id: hourly
    check: shop-health
    start: 2026-12-01T00:00
    rrule: FREQ=HOURLY
    duration: 5m
    reason: too often
  - id: no-length
    check: shop-home
    start: 2026-12-01T00:00
    weekly: {day: monday, at: "01:00"}
    reason: how long?
"""
    file = tmp_path / "maintenance.yaml"
    assert _problems(tmp_path, hourly) == [
        f"{file}: hourly: maintenance[0].rrule: "
        "repeats more often than daily; use FREQ=DAILY or rarer",
        f"{file}: no-length: maintenance[1].duration: a recurring window needs a duration, e.g. 2h",
    ]


def test_an_unquoted_weekly_time_is_refused_not_read_as_minutes(tmp_path: Path) -> None:
    weekly = """\
  - id: deploys
    check: shop-home
    start: 2026-12-01T00:00
    weekly: {day: monday, at: 5:00}
    duration: 30m
    reason: weekly deploy
"""
    assert _problems(tmp_path, weekly) == [
        f"{tmp_path / 'maintenance.yaml'}: deploys: maintenance[0].weekly.at: "
        'write the time in quotes, e.g. "05:00"'
    ]


def test_an_rrule_keeps_wall_clock_time_across_daylight_saving() -> None:
    window = MaintenanceWindow.model_validate(
        {
            "id": "first-saturday",
            "service": "shop-api",
            "start": "2026-02-01T03:00",
            "rrule": "FREQ=MONTHLY;BYDAY=1SA",
            "duration": "1h",
            "timezone": "Europe/Berlin",
            "reason": "patching",
        }
    )
    lo = int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())
    hi = int(datetime(2026, 5, 1, tzinfo=UTC).timestamp())
    starts, _ = window.occurrences(lo, hi)
    utc = [datetime.fromtimestamp(s, UTC).strftime("%m-%d %H:%M") for s in starts]
    # 03:00 Berlin: 02:00 UTC in winter, 01:00 UTC once summer time starts (29 March)
    assert utc == ["02-07 02:00", "03-07 02:00", "04-04 01:00"]


# SLO effects: one result a minute for three hours, failing 10:00-11:00 UTC.
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
WINDOW = MaintenanceWindow.model_validate(
    {
        "id": "db-upgrade",
        "service": "shop-api",
        "start": "2026-12-10T09:30:00+00:00",
        "end": "2026-12-10T12:30:00+00:00",
        "reason": "PostgreSQL upgrade",
    }
)


def _results() -> CheckResults:
    end = int(NOW.timestamp())
    ts = np.arange(end - 3 * 3600, end, 60, dtype=np.int64)
    failing = (ts >= end - 2 * 3600) & (ts < end - 3600)
    n = len(ts)
    return CheckResults(
        np.asarray(["shop-health"] * n, dtype=object),
        np.asarray(["eu-west-1"] * n, dtype=object),
        ts,
        np.where(failing, "fail", "pass").astype(object),
        np.full(n, 50.0),
    )


def test_failures_inside_a_window_spend_no_budget_and_passes_still_count() -> None:
    services = {"shop-health": "shop-api"}
    (plain,) = evaluate_results([slo()], _results(), NOW, services)
    calendar = MaintenanceCalendar([WINDOW], services)
    (held,) = evaluate_results([slo()], _results(), NOW, services, calendar)
    assert (plain.bad, plain.good) == (60, 120)
    assert (held.bad, held.good) == (0, 120)  # 30 passes inside the window still count
    assert held.budget_remaining == 1.0
    assert held.maintenance == (
        "maintenance window 'db-upgrade' (service shop-api) active until 2026-12-10 12:30 UTC: "
        "PostgreSQL upgrade",
    )


def test_a_window_on_another_check_neither_hides_failures_nor_holds_the_slo() -> None:
    services = {"shop-health": "shop-api", "shop-home": "shop-web"}
    other = WINDOW.model_copy(update={"service": None, "check": "shop-home"})
    (report,) = evaluate_results(
        [slo()], _results(), NOW, services, MaintenanceCalendar([other], services)
    )
    assert report.bad == 60 and report.maintenance == ()


def test_a_window_on_every_check_of_an_slo_holds_it() -> None:
    services = {"shop-health": "shop-api"}
    on_check = WINDOW.model_copy(update={"service": None, "check": "shop-health"})
    (report,) = evaluate_results(
        [slo()], _results(), NOW, services, MaintenanceCalendar([on_check], services)
    )
    assert report.bad == 0 and len(report.maintenance) == 1


def test_pages_of_a_held_slo_are_not_routed_but_tickets_are() -> None:
    services = {"shop-health": "shop-api"}
    (report,) = evaluate_results([slo()], _results(), NOW, services)
    held = dataclasses.replace(report, maintenance=("maintenance window 'x' ...",))
    routed = {s.signal.severity for s in routed_signals([held])}
    assert {s.signal.severity for s in routed_signals([report])} == {"page", "ticket"}
    assert routed == {"ticket"}


def test_the_gate_says_a_window_is_active() -> None:
    services = {"shop-health": "shop-api"}
    calendar = MaintenanceCalendar([WINDOW], services)
    (report,) = evaluate_results([slo()], _results(), NOW, services, calendar)
    decision = decide_gate([report], "shop-api")
    assert decision.passed
    assert decision.reasons[-1].startswith("maintenance window 'db-upgrade' (service shop-api)")


def test_a_slo_selecting_checks_by_name_uses_the_same_windows() -> None:
    services = {"shop-health": "shop-api"}
    by_name = slo(indicator=Indicator("s", checks=("shop-health",)))
    (report,) = evaluate_results(
        [by_name], _results(), NOW, services, MaintenanceCalendar([WINDOW], services)
    )
    assert report.bad == 0


def test_the_store_path_drops_failures_inside_a_window_like_the_raw_path(store_engine) -> None:
    from tasks.slo.source import evaluate_from_raw, evaluate_from_store
    from tasks.store.check_results import upsert_check_results

    results = _results()
    upsert_check_results(
        store_engine,
        [
            {
                "check_id": c,
                "region": r,
                "scheduled_at": datetime.fromtimestamp(int(t), UTC),
                "started_at": datetime.fromtimestamp(int(t), UTC),
                "verdict": v,
                "duration_ms": d,
            }
            for c, r, t, v, d in zip(
                results.check_id,
                results.region,
                results.started_at,
                results.verdict,
                results.duration_ms,
                strict=True,
            )
        ],
    )
    services = {"shop-health": "shop-api"}
    calendar = MaintenanceCalendar([WINDOW], services)

    (plain,) = evaluate_from_store(store_engine, [slo()], services, NOW)
    (held,) = evaluate_from_store(store_engine, [slo()], services, NOW, calendar)
    (reference,) = evaluate_from_raw(store_engine, [slo()], services, NOW, calendar)

    assert (plain.bad, plain.good) == (60, 120)  # from the rollups: no window to honour
    assert (held.bad, held.good) == (0, 120) and held == reference
    assert len(held.maintenance) == 1


def test_files_reload_and_a_broken_file_keeps_the_last_good_windows(tmp_path) -> None:
    import shutil

    from tasks.slo.maintenance_loader import MaintenanceFiles

    checks = tmp_path / "checks"
    shutil.copytree(Path(__file__).resolve().parents[2] / "deployments" / "checks", checks)
    files = MaintenanceFiles([checks], ttl=0)
    first = files()
    assert [w.id for w in first.windows]  # the shipped example windows

    (checks / "maintenance.yaml").write_text("maintenance:\n  - id: broken\n")
    assert files().windows == first.windows  # refused: the last good calendar stays

    (checks / "maintenance.yaml").unlink()
    assert not files()  # no window any more
