"""Load maintenance windows from YAML next to the checks, and refuse the ones that cannot be meant.

A document with a top-level ``maintenance:`` list holds windows (the checks loader leaves such
documents alone, so they may sit in the checks directory)::

    maintenance:
      - id: orders-db-upgrade
        service: shop-api            # or check: shop-health
        start: 2026-12-10T02:00      # wall-clock time in timezone
        end: 2026-12-10T04:00
        timezone: Europe/Berlin
        reason: PostgreSQL 17 upgrade

Beyond each window's own fields, the loader refuses windows of an unknown service or check,
duplicate ids, and windows whose occurrences overlap another window's of the same target (or
their own) within a year of the later start. Every problem names the file, the window and field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from tasks.errors import SpecError, SpecIssue
from tasks.probes.catalog import AnyCheck
from tasks.reloaded import Reloaded
from tasks.slo.maintenance import MaintenanceCalendar
from tasks.slo.maintenance_spec import MaintenanceWindow
from tasks.specs import iter_spec_files, load_documents, validation_issues

__all__ = ["MAINTENANCE_KEY", "OVERLAP_HORIZON", "MaintenanceFiles", "load_maintenance"]

MAINTENANCE_KEY = "maintenance"
OVERLAP_HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class _Found:
    file: str
    index: int
    window: MaintenanceWindow

    def issue(self, field: str, reason: str) -> SpecIssue:
        return SpecIssue(
            self.file, self.window.id, f"{MAINTENANCE_KEY}[{self.index}].{field}", reason
        )


def _read(paths: Iterable[Path | str]) -> tuple[list[_Found], list[SpecIssue]]:
    found: list[_Found] = []
    issues: list[SpecIssue] = []
    for file in iter_spec_files(paths):
        try:
            documents = load_documents(file)
        except SpecError as exc:
            issues.extend(exc.issues)
            continue
        for document in documents:
            if not isinstance(document, dict) or MAINTENANCE_KEY not in document:
                continue
            raws = document[MAINTENANCE_KEY]
            if not isinstance(raws, list):
                issues.append(SpecIssue(str(file), None, MAINTENANCE_KEY, "must be a list"))
                continue
            for index, raw in enumerate(raws):
                raw_id = raw.get("id") if isinstance(raw, dict) else None
                name = raw_id if isinstance(raw_id, str) else f"{MAINTENANCE_KEY}[{index}]"
                try:
                    window = MaintenanceWindow.model_validate(raw)
                except ValidationError as exc:
                    prefix = (MAINTENANCE_KEY, index)
                    issues.extend(validation_issues(file, name, exc, prefix, plain=True))
                    continue
                found.append(_Found(str(file), index, window))
    return found, issues


def _unknown_targets(found: Sequence[_Found], checks: Sequence[AnyCheck]) -> list[SpecIssue]:
    known = {"service": {c.service for c in checks}, "check": {c.id for c in checks}}
    issues = []
    for f in found:
        kind, name = f.window.target
        if name not in known[kind]:
            listed = ", ".join(sorted(known[kind])[:8]) or "none"
            issues.append(f.issue(kind, f"unknown {kind} {name!r} (known: {listed})"))
    return issues


def _duplicate_ids(found: Sequence[_Found]) -> list[SpecIssue]:
    first: dict[str, _Found] = {}
    issues = []
    for f in found:
        if (seen := first.setdefault(f.window.id, f)) is not f:
            issues.append(f.issue("id", f"duplicate window id (also in {seen.file})"))
    return issues


def _when(window: MaintenanceWindow, epoch: int) -> str:
    return f"{datetime.fromtimestamp(epoch, window.zone):%Y-%m-%d %H:%M} {window.timezone}"


def _overlaps(found: Sequence[_Found]) -> list[SpecIssue]:
    """Windows of one target whose occurrences meet, over a year from the latest start."""
    by_target: dict[tuple[str, str], list[_Found]] = defaultdict(list)
    for f in found:
        by_target[f.window.target].append(f)
    issues = []
    for (kind, name), group in by_target.items():
        starts = [int(_utc(f.window).timestamp()) for f in group]
        lo, hi = min(starts), max(starts) + int(OVERLAP_HORIZON.total_seconds())
        spans: list[tuple[int, int, int]] = []
        for owner, f in enumerate(group):
            begins, ends = f.window.occurrences(lo, hi)
            spans.extend(zip(begins.tolist(), ends.tolist(), [owner] * len(begins), strict=True))
        spans.sort()
        reported: set[tuple[int, int]] = set()
        current_end, current_owner = np.iinfo(np.int64).min, -1
        for begin, end, owner in spans:
            pair = (min(owner, current_owner), max(owner, current_owner))
            if begin < current_end and pair not in reported:
                reported.add(pair)
                later, other = group[owner], group[current_owner]
                if owner == current_owner:
                    reason = "its occurrences overlap each other (duration longer than the gap)"
                else:
                    reason = (
                        f"overlaps window {other.window.id!r} ({other.file}) of {kind} {name!r} "
                        f"at {_when(later.window, begin)}"
                    )
                issues.append(later.issue("start", reason))
            if end > current_end:
                current_end, current_owner = end, owner
    return issues


def _utc(window: MaintenanceWindow) -> datetime:
    start = window.start
    return (start if start.tzinfo else start.replace(tzinfo=window.zone)).astimezone(UTC)


def load_maintenance(
    paths: Iterable[Path | str], checks: Sequence[AnyCheck]
) -> list[MaintenanceWindow]:
    """Every maintenance window under ``paths``, checked against the loaded ``checks``.

    Files without a ``maintenance:`` document contribute nothing; no window at all is fine.

    Raises:
        SpecError: a window is invalid, names an unknown service or check, reuses an id, or
            overlaps another window of its target; every problem is listed.
    """
    found, issues = _read(list(paths))
    issues += _unknown_targets(found, checks) + _duplicate_ids(found) + _overlaps(found)
    if issues:
        raise SpecError(issues)
    return [f.window for f in found]


class MaintenanceFiles(Reloaded[MaintenanceCalendar]):
    """The windows (and checks) under ``paths`` as a calendar, reloaded at most every ``ttl`` s.

    For long-running readers such as ``traceo metrics serve``: a file that stops validating
    keeps the last good calendar (and logs why).
    """

    def __init__(self, paths: Iterable[Path | str], ttl: float = 60.0) -> None:
        self.paths = list(paths)
        super().__init__(self._read, MaintenanceCalendar((), {}), "maintenance windows", ttl)

    def _read(self) -> MaintenanceCalendar:
        from tasks.probes.loader import load_checks

        checks = load_checks(self.paths)
        services = {c.id: c.service for c in checks}
        return MaintenanceCalendar(load_maintenance(self.paths, checks), services)
