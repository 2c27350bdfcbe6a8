"""Run a mixed batch of checks: each check type goes to its own engine, imported only if needed.

Engines are ``async def run(checks, region, scheduled_at, **options) -> list[ProbeResult]`` that
never raise per check; each gets only the options its signature takes. They run concurrently so
a slow browser check does not hold up the HTTP ones.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from tasks.extras import require_extras
from tasks.probes.catalog import AnyCheck
from tasks.probes.http import ProbeResult

__all__ = ["ENGINES", "ENGINE_EXTRAS", "run_any_checks", "run_any_checks_sync"]

# check type -> "module:async function"; heavy engines (Playwright) load only when used
ENGINES: dict[str, str] = {
    "http": "tasks.probes.http:run_checks",
    "multistep": "tasks.probes.http:run_checks",
    "browser": "tasks.probes.browser:run_checks",
    "tcp": "tasks.probes.net:run_checks",
    "certificate": "tasks.probes.net:run_checks",
}

# check type -> the extra its engine needs beyond the probes role (tasks.extras)
ENGINE_EXTRAS: dict[str, str] = {"browser": "browser"}

Engine = Callable[..., Awaitable[list[ProbeResult]]]


def _engine(kind: str) -> Engine:
    if kind in ENGINE_EXTRAS:
        require_extras(ENGINE_EXTRAS[kind])
    module, name = ENGINES[kind].split(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _accepted(engine: Engine, options: dict[str, Any]) -> dict[str, Any]:
    """The options ``engine`` takes: one engine's option (a shared ``browser``) is not another's."""
    params = inspect.signature(engine).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return options
    names = {p.name for p in params}
    return {k: v for k, v in options.items() if k in names}


async def run_any_checks(
    checks: Iterable[AnyCheck], region: str, scheduled_at: datetime, **kwargs: Any
) -> list[ProbeResult]:
    """Run every check once, grouped by engine; results come back in the input order."""
    ordered = list(checks)
    groups: dict[str, list[AnyCheck]] = defaultdict(list)
    for check in ordered:
        groups[ENGINES[check.type]].append(check)
    outputs = await asyncio.gather(
        *(
            engine(batch, region, scheduled_at, **_accepted(engine, kwargs))
            for engine, batch in ((_engine(b[0].type), b) for b in groups.values())
        )
    )
    by_id = {r.check_id: r for out in outputs for r in out}
    return [by_id[c.id] for c in ordered]


def run_any_checks_sync(
    checks: Sequence[AnyCheck], region: str, scheduled_at: datetime, **kwargs: Any
) -> list[ProbeResult]:
    """Blocking :func:`run_any_checks`; works with or without an event loop in this thread."""
    coro = run_any_checks(checks, region, scheduled_at, **kwargs)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="traceo-probes") as pool:
        return pool.submit(asyncio.run, coro).result()
