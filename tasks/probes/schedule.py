"""When checks run: a stable offset per check, the plan of one probe run, and running that plan.

A region's probe flow runs once per tick (:data:`RUN_SECONDS`, the deployments' cron). A check
runs every ``frequency`` seconds at ``n * frequency + offset`` (epoch-aligned), so checks do not
all start at ``:00``. The offset is a stable hash of the check id spread over the room the check
leaves in its interval: its worst-case duration (:func:`worst_case_seconds`) always ends before
its next slot, so a check never overlaps itself. For whole-minute frequencies the offset also
keeps the worst case inside the tick that starts it (with :data:`RUN_MARGIN_SECONDS` to spare for
recording), so one region's runs do not overlap either; the deployments back that up with
``concurrency_limit: {limit: 1, collision_strategy: CANCEL_NEW}``.

Each run executes the instants that fall in its tick (:func:`plan_run`). A result is keyed by its
slot start (``n * frequency``), so a rerun of a tick touches exactly the same
``(check, region, scheduled_at)`` keys. Live runs sleep until each instant (:func:`run_plan`);
reruns and backfills run everything at once. Offsets have one-second resolution, so checks due in
the same second share one engine batch (connection pools, TLS contexts).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tasks.probes.retries import backoff_delay

if TYPE_CHECKING:
    from tasks.probes.http import ProbeResult

__all__ = [
    "RUN_MARGIN_SECONDS",
    "RUN_SECONDS",
    "PlannedRun",
    "attempt_timeout_seconds",
    "check_offset",
    "due_checks",
    "plan_run",
    "run_deadline",
    "run_plan",
    "run_plan_sync",
    "schedule_problem",
    "slot_start",
    "stable_fraction",
    "worst_case_seconds",
]

RUN_SECONDS = 60  # one probe run per region per minute (deployments/prefect.yaml)
RUN_MARGIN_SECONDS = 5  # left free at the end of a tick for recording (at most 1/12 of it)


class _Scheduled(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def frequency(self) -> int: ...
    @property
    def regions(self) -> Sequence[str]: ...


C = TypeVar("C", bound=_Scheduled)


def slot_start(at: datetime, frequency_seconds: int) -> datetime:
    """The start of the ``frequency_seconds`` slot containing ``at`` (UTC, epoch-aligned)."""
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % max(1, frequency_seconds), tz=UTC)


def attempt_timeout_seconds(check: Any) -> float | None:
    """The longest one attempt of ``check`` may take, or None when its type does not say.

    A check type states it with an ``attempt_timeout_seconds`` attribute; HTTP and multi-step
    checks run all their steps under one deadline, the sum of the steps' request timeouts.
    """
    own = getattr(check, "attempt_timeout_seconds", None)
    if isinstance(own, int | float) and not isinstance(own, bool):
        return float(own)
    steps = getattr(check, "steps", None)
    if steps:
        timeouts = [getattr(getattr(s, "request", None), "timeout_seconds", None) for s in steps]
        if all(isinstance(t, int | float) for t in timeouts):
            return float(sum(timeouts))  # type: ignore[arg-type]
    own = getattr(check, "timeout_seconds", None)
    return float(own) if isinstance(own, int | float) and not isinstance(own, bool) else None


def _attempts_and_waits(check: Any) -> tuple[int, float]:
    retry = getattr(check, "retry", None)
    if retry is None:
        return 1, 0.0
    attempts = retry.max_attempts or 1
    return attempts, sum(backoff_delay(retry, n) for n in range(1, attempts))


def worst_case_seconds(check: Any) -> float | None:
    """Every attempt timing out plus every backoff wait in between (None: unknown)."""
    timeout = attempt_timeout_seconds(check)
    if timeout is None:
        return None
    attempts, waits = _attempts_and_waits(check)
    return timeout * attempts + waits


def schedule_problem(check: Any) -> str | None:
    """Why ``check`` could overlap its own next run (its worst case exceeds its frequency)."""
    worst = worst_case_seconds(check)
    if worst is None or worst <= check.frequency:
        return None
    timeout = attempt_timeout_seconds(check) or 0.0
    attempts, waits = _attempts_and_waits(check)
    return (
        f"worst case {worst:g}s ({attempts} attempt(s) x {timeout:g}s timeout + {waits:g}s of "
        f"backoff) does not fit in frequency {check.frequency}s: a check must finish before its "
        "next run; lower timeout_seconds or retry.max_attempts, or raise frequency"
    )


def stable_fraction(check_id: str) -> float:
    """A number in [0, 1) fixed by the check id alone (the same on every worker and release)."""
    digest = hashlib.sha256(check_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def check_offset(check: Any, tick_seconds: int = RUN_SECONDS) -> int:
    """Whole seconds after each slot start at which ``check`` runs (see the module docstring)."""
    frequency = int(check.frequency)
    worst = math.ceil(worst_case_seconds(check) or 0)
    fraction = stable_fraction(check.id)
    if frequency >= tick_seconds and frequency % tick_seconds == 0:
        ticks = frequency // tick_seconds
        margin = min(RUN_MARGIN_SECONDS, tick_seconds // 12)
        last_second = tick_seconds - margin - worst  # the latest start within a tick
        if last_second >= 0:
            position = math.floor(fraction * ticks * (last_second + 1))
            return (position // (last_second + 1)) * tick_seconds + position % (last_second + 1)
        # longer than a tick: start on a tick boundary that keeps the worst case in the slot
        usable = max(1, (frequency - worst) // tick_seconds + 1)
        return math.floor(fraction * usable) * tick_seconds
    span = max(0, frequency - worst)
    return math.floor(fraction * (span + 1))


@dataclass(frozen=True)
class PlannedRun:
    """One run of one check: the slot its result is keyed by and the instant it starts."""

    check: Any
    slot: datetime
    at: datetime

    @property
    def offset_seconds(self) -> float:
        return (self.at - self.slot).total_seconds()


def plan_run(
    checks: Iterable[C], region: str, tick_start: datetime, tick_seconds: int = RUN_SECONDS
) -> list[PlannedRun]:
    """Every run of ``region``'s checks starting in ``[tick_start, tick_start + tick_seconds)``.

    A check more frequent than the tick appears once per slot; a rarer one only in the tick
    holding its instant. Sorted by start time, then check id.
    """
    if tick_start.tzinfo is None:
        raise ValueError("tick_start must be timezone-aware (UTC)")
    start = math.ceil(tick_start.timestamp())
    end = start + tick_seconds
    plan: list[PlannedRun] = []
    for check in checks:
        if region not in check.regions:
            continue
        frequency = int(check.frequency)
        offset = check_offset(check, tick_seconds)
        n = math.ceil((start - offset) / frequency)
        while (instant := n * frequency + offset) < end:
            slot = datetime.fromtimestamp(n * frequency, tz=UTC)
            plan.append(PlannedRun(check, slot, datetime.fromtimestamp(instant, tz=UTC)))
            n += 1
    plan.sort(key=lambda p: (p.at, p.check.id))
    return plan


def due_checks(
    checks: Iterable[C], region: str, at: datetime, tick_seconds: int = RUN_SECONDS
) -> list[C]:
    """Checks of ``region`` with at least one run in the tick containing ``at``."""
    tick = slot_start(at, tick_seconds)
    seen: dict[str, C] = {}
    for planned in plan_run(checks, region, tick, tick_seconds):
        seen.setdefault(planned.check.id, planned.check)
    return list(seen.values())


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def run_plan(
    plan: Sequence[PlannedRun],
    region: str,
    *,
    wait: bool = True,
    until: datetime | None = None,
    clock: Callable[[], datetime] = _utcnow,
    **engine_kwargs: Any,
) -> list[ProbeResult]:
    """Run every planned check, each at its instant when ``wait``; results in plan order.

    Runs sharing an instant and slot form one engine batch. Batches run concurrently, so a check
    that hangs until its timeout holds up nothing else. Sleeps never last past ``until`` (the end
    of the run); with ``wait=False`` (a rerun or a backfill) everything starts at once.
    """
    from tasks.probes.runner import run_any_checks

    groups: dict[tuple[datetime, datetime], list[Any]] = {}
    for planned in plan:
        groups.setdefault((planned.at, planned.slot), []).append(planned.check)

    async def batch(at: datetime, slot: datetime, checks: list[Any]) -> list[ProbeResult]:
        if wait:
            target = at if until is None else min(at, until)
            delay = (target - clock()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
        return await run_any_checks(checks, region, slot, **engine_kwargs)

    async with contextlib.AsyncExitStack() as stack:
        if "browser" not in engine_kwargs and any(p.check.type == "browser" for p in plan):
            # One browser for the whole run, however many instants its browser checks start at.
            engine_kwargs["browser"] = await _shared_browser(stack)
        outputs = await asyncio.gather(*(batch(at, slot, c) for (at, slot), c in groups.items()))
    by_key = {(r.check_id, r.scheduled_at): r for out in outputs for r in out}
    return [by_key[(p.check.id, p.slot)] for p in plan]


async def _shared_browser(stack: contextlib.AsyncExitStack) -> Any:
    """Launch Chromium for the run, or None: each browser check then reports the problem.

    Raises:
        MissingExtraError: Playwright is not installed (the ``browser`` extra).
    """
    from tasks.errors import TraceoError
    from tasks.extras import require_extras

    require_extras("browser")
    from tasks.probes.browser_launch import open_browser

    try:
        return await stack.enter_async_context(open_browser())
    except TraceoError:
        return None


def run_plan_sync(plan: Sequence[PlannedRun], region: str, **kwargs: Any) -> list[ProbeResult]:
    """Blocking :func:`run_plan`; works with or without an event loop in this thread."""
    from concurrent.futures import ThreadPoolExecutor

    coro = run_plan(plan, region, **kwargs)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="traceo-plan") as pool:
        return pool.submit(asyncio.run, coro).result()


def run_deadline(tick_start: datetime, tick_seconds: int = RUN_SECONDS) -> datetime:
    """The end of the run that starts at ``tick_start``."""
    return tick_start + timedelta(seconds=tick_seconds)
