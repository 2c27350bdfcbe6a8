"""Running a plan on the clock: each check at its instant, and a hung target stalls nothing."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tasks.probes.catalog import parse_check
from tasks.probes.http import ProbeResult
from tasks.probes.schedule import PlannedRun, check_offset, plan_run, run_plan
from tests.probes.net.servers import TcpServer

TICK_SECONDS = 4


def tcp(check_id: str, port: int, **fields: Any) -> Any:
    raw = {"id": check_id, "service": "svc", "type": "tcp", "host": "127.0.0.1", "port": port}
    return parse_check({"frequency": TICK_SECONDS, "timeout_seconds": 1, **raw, **fields})


def ids_with_offsets(wanted: list[int], prefix: str = "probe", **fields: Any) -> list[str]:
    """Check ids whose offset (for these fields) is each of ``wanted``, found by search."""
    found: dict[int, str] = {}
    for i in range(1000):
        offset = check_offset(tcp(f"{prefix}-{i}", 1, **fields), TICK_SECONDS)
        found.setdefault(offset, f"{prefix}-{i}")
    return [found[o] for o in wanted]


def finished_at(result: ProbeResult) -> datetime:
    return result.started_at + timedelta(milliseconds=result.duration_ms or 0)


@pytest.fixture
def banner_server() -> Iterator[TcpServer]:
    with TcpServer(b"READY\r\n") as server:
        yield server


def _next_tick() -> datetime:
    """The next tick start (epoch-aligned, like the probe flow's minutes), at least 0.3 s away."""
    return datetime.fromtimestamp(
        math.ceil((time.time() + 0.3) / TICK_SECONDS) * TICK_SECONDS, tz=UTC
    )


def _run(plan: list[PlannedRun], **kwargs: Any) -> list[ProbeResult]:
    return asyncio.run(run_plan(plan, "eu-west-1", env={}, **kwargs))


@pytest.mark.slow  # waits for real offsets in the minute
def test_live_run_starts_each_check_at_its_own_offset(banner_server: TcpServer) -> None:
    ids = ids_with_offsets([0, 1, 2, 3])
    checks = [tcp(i, banner_server.port, expect_banner="READY") for i in reversed(ids)]
    tick = _next_tick()
    plan = plan_run(checks, "eu-west-1", tick, TICK_SECONDS)
    assert [p.check.id for p in plan] == ids

    results = _run(plan, wait=True)
    assert [r.check_id for r in results] == ids and {r.verdict for r in results} == {"pass"}
    # Each check waits for its own offset and starts before the next one's: order, not speed.
    nexts = [p.at for p in plan[1:]] + [tick + timedelta(seconds=TICK_SECONDS)]
    for planned, result, next_at in zip(plan, results, nexts, strict=True):
        assert planned.at <= result.started_at < next_at, planned.check.id
        assert result.scheduled_at == planned.slot == tick


@pytest.mark.slow  # waits for real offsets in the minute
def test_a_hanging_target_does_not_stall_the_others(banner_server: TcpServer) -> None:
    with TcpServer(hang=True) as hung:
        (first,) = ids_with_offsets([0], prefix="hung", timeout_seconds=3)
        second, third = ids_with_offsets([1, 2])
        checks = [
            tcp(first, hung.port, expect_banner="READY", timeout_seconds=3),  # hangs 3 s
            tcp(f"{first}-peer", banner_server.port, expect_banner="READY"),
            tcp(second, banner_server.port, expect_banner="READY"),
            tcp(third, banner_server.port, expect_banner="READY"),
        ]
        tick = _next_tick()
        plan = plan_run(checks, "eu-west-1", tick, TICK_SECONDS)
        results = {r.check_id: r for r in _run(plan, wait=True)}
    slow = results[first]
    assert slow.verdict == "fail" and slow.error == "timed out after 3s (banner)"
    for planned in plan:
        result = results[planned.check.id]
        if result.check_id == first:
            continue
        assert result.verdict == "pass", result.error
        # started at its own time, not after the hung check, and done before it gives up
        assert planned.at <= result.started_at < finished_at(slow)
        assert finished_at(result) < finished_at(slow)


def test_a_rerun_starts_everything_at_once(banner_server: TcpServer) -> None:
    far = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    ids = ids_with_offsets([0, 3])
    plan = plan_run([tcp(i, banner_server.port) for i in ids], "eu-west-1", far, TICK_SECONDS)
    results = _run(plan, wait=False)
    assert [r.scheduled_at for r in results] == [p.slot for p in plan]
    # the second did not wait out the 3 s between the two offsets
    assert results[1].started_at < results[0].started_at + (plan[1].at - plan[0].at)
    assert all(
        r.started_at < p.at - timedelta(minutes=59) for r, p in zip(results, plan, strict=True)
    )


def test_sleeps_never_last_past_the_end_of_the_run(banner_server: TcpServer) -> None:
    ids = ids_with_offsets([3])
    tick = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
    plan = plan_run([tcp(ids[0], banner_server.port)], "eu-west-1", tick, TICK_SECONDS)
    until = datetime.now(UTC) + timedelta(seconds=0.5)
    (result,) = _run(plan, wait=True, until=until)
    assert result.verdict == "pass"
    # it waited until the run's end, not for its planned time 30 s away
    assert until <= result.started_at < plan[0].at


def test_the_prefect_task_runs_its_share_of_the_plan(banner_server: TcpServer) -> None:
    from tasks.probes.tasks import run_planned_checks

    tick = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    checks = [tcp(f"task-{i}", banner_server.port, frequency=2) for i in range(2)]
    plan = plan_run(checks, "eu-west-1", tick, TICK_SECONDS)
    assert len(plan) == 4  # two runs of each 2-second check in a 4-second tick
    results = run_planned_checks.fn(plan, "eu-west-1")  # a rerun: no waiting
    assert [(r.check_id, r.scheduled_at) for r in results] == [(p.check.id, p.slot) for p in plan]
    assert {r.verdict for r in results} == {"pass"}
