"""Spreading checks over their interval, and the plan of one probe run (pure functions)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tasks.probes.catalog import parse_check
from tasks.probes.schedule import (
    RUN_MARGIN_SECONDS,
    check_offset,
    due_checks,
    plan_run,
    schedule_problem,
    stable_fraction,
    worst_case_seconds,
)

TICK = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def tcp(check_id: str, frequency: int = 60, timeout: float = 10, **fields: Any) -> Any:
    raw = {"id": check_id, "service": "svc", "type": "tcp", "host": "127.0.0.1", "port": 1}
    return parse_check({**raw, "frequency": frequency, "timeout_seconds": timeout, **fields})


def test_offsets_are_a_stable_hash_of_the_check_id() -> None:
    # sha256, not Python's salted hash(): every worker and every release agrees
    assert stable_fraction("shop-health") == pytest.approx(0.00743789, abs=1e-8)
    assert check_offset(tcp("shop-health")) == check_offset(tcp("shop-health"))
    assert [check_offset(tcp(f"c-{i}")) for i in range(5)] == [32, 30, 17, 19, 35]


def test_offsets_differ_and_spread_evenly_over_the_room_left_in_the_minute() -> None:
    checks = [tcp(f"check-{i}") for i in range(3000)]
    offsets = [check_offset(c) for c in checks]
    room = 60 - RUN_MARGIN_SECONDS - 10  # the worst case (10 s) must end inside the minute
    assert min(offsets) == 0 and max(offsets) == room
    counts = Counter(offsets)
    assert len(counts) == room + 1
    expected = len(checks) / (room + 1)
    assert all(0.6 * expected < n < 1.4 * expected for n in counts.values())
    assert counts[0] < 0.05 * len(checks)  # not everything at :00


def test_rare_checks_spread_over_every_minute_of_their_interval() -> None:
    offsets = [check_offset(tcp(f"five-{i}", frequency=300)) for i in range(2000)]
    per_minute = Counter(o // 60 for o in offsets)
    assert sorted(per_minute) == [0, 1, 2, 3, 4]
    assert all(300 < n < 500 for n in per_minute.values())
    assert all(o % 60 <= 60 - RUN_MARGIN_SECONDS - 10 for o in offsets)


@pytest.mark.parametrize(
    ("frequency", "timeout", "retry"),
    [
        (60, 10, None),
        (60, 25, {"strategy": "fixed", "max_attempts": 2, "backoff_seconds": 5}),
        (30, 5, {"strategy": "exponential", "max_attempts": 3, "backoff_seconds": 1}),
        (10, 3, None),
        (90, 20, {"strategy": "linear", "max_attempts": 2, "backoff_seconds": 10}),
        (300, 60, {"strategy": "fixed", "max_attempts": 2, "backoff_seconds": 30}),
        (3600, 300, None),
        (1, 1, None),
    ],
)
def test_a_check_never_overlaps_its_own_next_run(
    frequency: int, timeout: float, retry: dict | None
) -> None:
    fields = {"retry": retry} if retry else {}
    for i in range(200):
        check = tcp(f"c{i}", frequency, timeout, **fields)
        worst = worst_case_seconds(check)
        assert worst is not None and worst <= frequency
        offset = check_offset(check)
        assert offset >= 0 and offset + worst <= frequency  # ends inside its own slot
        if frequency % 60 == 0 and worst <= 60 - RUN_MARGIN_SECONDS:
            assert offset % 60 + worst <= 60 - RUN_MARGIN_SECONDS  # and inside its minute


def test_worst_case_counts_every_attempt_and_backoff() -> None:
    http = parse_check(
        {
            "id": "h",
            "service": "s",
            "request": {"url": "http://127.0.0.1/", "timeout_seconds": 4},
            "retry": {"strategy": "exponential", "max_attempts": 3, "backoff_seconds": 1},
        }
    )
    assert worst_case_seconds(http) == 4 * 3 + 1 + 2
    multistep = parse_check(
        {
            "id": "m",
            "service": "s",
            "type": "multistep",
            "steps": [
                {"name": "a", "request": {"url": "http://127.0.0.1/a", "timeout_seconds": 2}},
                {"name": "b", "request": {"url": "http://127.0.0.1/b"}},
            ],
        }
    )
    assert worst_case_seconds(multistep) == 12  # one attempt: 2 s + 10 s under one deadline
    assert worst_case_seconds(object()) is None and schedule_problem(tcp("ok")) is None


def test_a_check_that_could_overlap_itself_is_rejected_with_the_arithmetic() -> None:
    with pytest.raises(ValidationError) as info:
        parse_check(
            {
                "id": "h",
                "service": "s",
                "frequency": "10s",
                "request": {"url": "http://127.0.0.1/", "timeout_seconds": 4},
                "retry": {"strategy": "fixed", "max_attempts": 3, "backoff_seconds": 1},
            }
        )
    message = str(info.value)
    assert "frequency" in message
    expected = "worst case 14s (3 attempt(s) x 4s timeout + 2s of backoff) does not fit in"
    assert f"{expected} frequency 10s" in message


def test_a_run_plans_each_instant_of_its_minute_keyed_by_slot() -> None:
    half = tcp("half", frequency=30, timeout=5)
    five = tcp("five", frequency=300)
    ninety = tcp("ninety", frequency=90, timeout=5)
    elsewhere = tcp("elsewhere", regions=["us-east-1"])
    ticks = [TICK + timedelta(minutes=m) for m in range(15)]
    plans = [plan_run([half, five, ninety, elsewhere], "eu-west-1", t) for t in ticks]

    for tick, plan in zip(ticks, plans, strict=True):
        assert all(tick <= p.at < tick + timedelta(seconds=60) for p in plan)
        assert all(p.offset_seconds == check_offset(p.check) for p in plan)
        assert [p.at for p in plan] == sorted(p.at for p in plan)
        assert "elsewhere" not in {p.check.id for p in plan}
    runs = Counter(p.check.id for plan in plans for p in plan)
    assert runs == {"half": 30, "five": 3, "ninety": 10}  # 15 minutes of runs
    slots = [p.slot for plan in plans for p in plan if p.check.id == "half"]
    assert slots == [TICK + timedelta(seconds=30 * i) for i in range(30)]
    # rerunning a minute plans exactly the same (check, slot) keys
    again = plan_run([half, five, ninety, elsewhere], "eu-west-1", ticks[7])
    assert [(p.check.id, p.slot) for p in again] == [(p.check.id, p.slot) for p in plans[7]]


def test_due_checks_are_the_checks_with_a_run_in_the_minute() -> None:
    half, five = tcp("half", frequency=30, timeout=5), tcp("five", frequency=300)
    minute = TICK + timedelta(minutes=check_offset(five) // 60, seconds=17)
    assert {c.id for c in due_checks([half, five], "eu-west-1", minute)} == {"half", "five"}
    other_minute = minute + timedelta(minutes=1)
    assert [c.id for c in due_checks([half, five], "eu-west-1", other_minute)] == ["half"]


def test_plan_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_run([], "eu-west-1", datetime(2026, 1, 1))
