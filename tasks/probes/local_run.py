"""Run checks once, now, from this machine: what ``traceo checks test`` does before a commit.

Checks are named by file (a path that exists, or one ending in ``.yaml``/``.yml``) or by id (looked
up in the checks directory). Each result keeps the slot its check's frequency puts ``at`` in, so
recording it is the same upsert as a scheduled run's: recording one slot twice replaces, never
adds.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tasks.errors import NotFoundError
from tasks.extras import MissingExtraError, missing_modules
from tasks.probes.assertions import AssertionResult
from tasks.probes.catalog import AnyCheck
from tasks.probes.http import ProbeResult
from tasks.probes.loader import load_checks
from tasks.probes.runner import run_any_checks_sync
from tasks.probes.schedule import slot_start
from tasks.specs import SPEC_SUFFIXES

__all__ = ["LocalRun", "describe_result", "resolve_checks", "run_locally"]

_TIMINGS = ("dns", "connect", "tls", "ttfb", "transfer")


def _is_path(target: str) -> bool:
    path = Path(target)
    return path.exists() or path.suffix in SPEC_SUFFIXES or "/" in target


def resolve_checks(targets: Sequence[str], library: Path) -> list[AnyCheck]:
    """The checks ``targets`` name (files, directories or check ids); all of ``library`` if none.

    Raises:
        SpecError: a named file is missing or invalid.
        NotFoundError: an id is not defined in ``library``.
    """
    paths = [t for t in targets if _is_path(t)]
    names = [t for t in targets if not _is_path(t)]
    chosen = list(load_checks(paths)) if paths else []
    if names or not targets:
        known = load_checks([library])
        if not targets:
            return known
        by_id = {c.id: c for c in known}
        for name in names:
            if name not in by_id:
                close = difflib.get_close_matches(name, by_id, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise NotFoundError(f"no check named {name!r} in {library}{hint}")
            chosen.append(by_id[name])
    unique = {c.id: c for c in chosen}  # a check named twice runs once
    return list(unique.values())


@dataclass(frozen=True)
class LocalRun:
    """What a local run did: one result per check run, and the checks it could not run."""

    results: list[ProbeResult]
    skipped: list[tuple[str, str]]  # (check id, why)

    @property
    def failed(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.good]


def run_locally(
    checks: Sequence[AnyCheck],
    region: str,
    at: datetime,
    *,
    browser_ready: bool,
    **options: Any,
) -> LocalRun:
    """Run ``checks`` once from here, labelled ``region``; browser checks only if ``browser_ready``.

    Each result's ``scheduled_at`` is the slot of its check's frequency that holds ``at``.
    """
    missing = missing_modules("browser")
    why = str(MissingExtraError("browser", missing)) if missing else "no Chromium here"
    skipped = [
        (c.id, f"browser check skipped: {why}")
        for c in checks
        if c.type == "browser" and not browser_ready
    ]
    runnable = [c for c in checks if browser_ready or c.type != "browser"]
    results = run_any_checks_sync(runnable, region, at, **options) if runnable else []
    slots = {c.id: slot_start(at, int(c.frequency)) for c in runnable}
    return LocalRun(
        [dataclasses.replace(r, scheduled_at=slots[r.check_id]) for r in results], skipped
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _failed_assertions(detail: dict[str, Any]) -> list[str]:
    lines = []
    for step in detail.get("steps") or ():
        where = f"step {step['name']!r}: " if step.get("name") and len(detail["steps"]) > 1 else ""
        for raw in step.get("assertions") or ():
            if not raw.get("passed", True):
                lines.append(f"{where}{AssertionResult(**raw).describe()}")
    return lines


def describe_result(result: ProbeResult) -> list[str]:
    """A verdict line with timings, then one indented line per failed assertion or problem."""
    timings = result.detail.get("timings") or {}
    phases = ", ".join(f"{k} {_ms(timings[k])}" for k in _TIMINGS if timings.get(k) is not None)
    head = f"{result.verdict.upper():<8} {result.check_id}  {_ms(result.duration_ms)}"
    if phases:
        head += f" ({phases})"
    if result.status_code is not None:
        head += f"  HTTP {result.status_code}"
    if result.attempts > 1:
        head += f"  {result.attempts} attempts"
    lines = [head]
    assertions = _failed_assertions(result.detail)
    lines.extend(f"    assertion failed: {a}" for a in assertions)
    if result.error and not assertions:
        lines.append(f"    {result.error}")
    if reason := result.detail.get("reason"):
        lines.append(f"    {reason}")
    return lines
