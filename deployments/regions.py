"""Probe regions as ``deployments/prefect.yaml`` declares them: work pools, deployments, schedules.

Listing reads the file only (PyYAML, no Prefect import), so ``traceo regions`` is instant.
:func:`fetch_live_status` asks a running server (``PREFECT_API_URL``) how each pool is doing.
A deployment is regional when its ``parameters`` name a ``region``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import ConfigurationError, ServiceUnavailableError, SpecError, SpecIssue

__all__ = [
    "PREFECT_FILE",
    "DeploymentEntry",
    "LiveStatus",
    "PoolStatus",
    "WorkerInfo",
    "describe_schedule",
    "fetch_live_status",
    "load_deployments",
    "probe_deployments",
    "render_table",
]

PREFECT_FILE = Path(__file__).with_name("prefect.yaml")


@dataclass(frozen=True)
class DeploymentEntry:
    """One deployment of the file; ``region`` is None for central jobs (SLO evaluation)."""

    name: str
    entrypoint: str
    work_pool: str
    region: str | None
    schedules: tuple[str, ...]
    concurrency: str | None
    work_queue: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    status: str
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class PoolStatus:
    """A work pool as the server sees it; ``found`` is False when it was never created."""

    pool: str
    found: bool
    type: str | None = None
    status: str | None = None
    workers: tuple[WorkerInfo, ...] = ()

    @property
    def online(self) -> int:
        return sum(w.status == "ONLINE" for w in self.workers)


@dataclass(frozen=True)
class LiveStatus:
    """Pools by name and the declared deployments found on the server (name -> active/paused)."""

    api_url: str
    pools: dict[str, PoolStatus]
    deployments: dict[str, str]


def describe_schedule(schedule: Mapping[str, Any]) -> str:
    """``cron * * * * * UTC`` / ``every 300s`` / ``rrule ...``, plus ``(inactive)`` if off."""
    tz = f" {schedule['timezone']}" if schedule.get("timezone") else ""
    if "cron" in schedule:
        text = f"cron {schedule['cron']}{tz}"
    elif "interval" in schedule:
        text = f"every {schedule['interval']}s"
    elif "rrule" in schedule:
        text = f"rrule {schedule['rrule']}{tz}"
    else:
        raise ValueError("a schedule needs one of cron, interval or rrule")
    return text if schedule.get("active", True) else f"{text} (inactive)"


def _concurrency(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        strategy = value.get("collision_strategy")
        return f"{value['limit']} ({strategy})" if strategy else str(value["limit"])
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected an integer or {{limit: N}}, got {value!r}")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _entry(raw: Any, file: str, index: int, issues: list[SpecIssue]) -> DeploymentEntry | None:
    item = f"deployments[{index}]"
    if not isinstance(raw, Mapping):
        issues.append(SpecIssue(file, item, None, "a deployment must be a mapping"))
        return None
    item = str(raw.get("name") or item)
    pool: Mapping[str, Any] = _mapping(raw.get("work_pool"))
    params: Mapping[str, Any] = _mapping(raw.get("parameters"))
    # Fields that are absent or invalid; any of them and the entry is not built.
    missing = [
        field
        for field, value in (
            ("name", raw.get("name")),
            ("entrypoint", raw.get("entrypoint")),
            ("work_pool.name", pool.get("name")),
        )
        if not value
    ]
    for field in missing:
        issues.append(SpecIssue(file, item, field, "is required"))
    schedules: tuple[str, ...] = ()
    concurrency: str | None = None
    try:
        schedules = tuple(describe_schedule(s) for s in raw.get("schedules") or ())
    except (ValueError, TypeError, KeyError) as exc:
        missing.append("schedules")
        issues.append(SpecIssue(file, item, "schedules", str(exc)))
    try:
        concurrency = _concurrency(raw.get("concurrency_limit"))
    except (ValueError, TypeError, KeyError) as exc:
        missing.append("concurrency_limit")
        issues.append(SpecIssue(file, item, "concurrency_limit", str(exc)))
    if missing:
        return None
    region = params.get("region")
    return DeploymentEntry(
        name=str(raw["name"]),
        entrypoint=str(raw["entrypoint"]),
        work_pool=str(pool["name"]),
        region=str(region) if region else None,
        schedules=schedules,
        concurrency=concurrency,
        work_queue=pool.get("work_queue_name"),
        tags=tuple(str(t) for t in raw.get("tags") or ()),
    )


def load_deployments(path: Path | str = PREFECT_FILE) -> list[DeploymentEntry]:
    """Every deployment declared in a ``prefect.yaml``, in file order.

    Raises:
        SpecError: the file is missing, not YAML, or a deployment lacks a required field.
    """
    file = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError([SpecIssue(file, None, None, f"cannot read: {exc}")]) from None
    raw = doc.get("deployments") if isinstance(doc, Mapping) else None
    if not isinstance(raw, list):
        raise SpecError([SpecIssue(file, None, "deployments", "must be a list")])
    issues: list[SpecIssue] = []
    entries = [e for i, d in enumerate(raw) if (e := _entry(d, file, i, issues)) is not None]
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            issues.append(SpecIssue(file, entry.name, "name", "is declared twice"))
        seen.add(entry.name)
    if issues:
        raise SpecError(issues)
    return entries


def probe_deployments(entries: Sequence[DeploymentEntry]) -> list[DeploymentEntry]:
    """The regional deployments (those with a ``region`` parameter)."""
    return [e for e in entries if e.region is not None]


def fetch_live_status(entries: Sequence[DeploymentEntry], api_url: str | None = None) -> LiveStatus:
    """Ask the Prefect server at ``api_url`` (default ``PREFECT_API_URL``) about each pool.

    Raises:
        ConfigurationError: no API URL (this never starts an ephemeral server).
        ServiceUnavailableError: the server cannot be reached.
    """
    import httpx
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import get_current_settings

    url = api_url or get_current_settings().api.url
    if not url:
        raise ConfigurationError("--live needs PREFECT_API_URL: the URL of a running server")
    pools: dict[str, PoolStatus] = {}
    try:
        with SyncPrefectClient(url) as client:
            for name in dict.fromkeys(e.work_pool for e in entries):
                try:
                    pool = client.read_work_pool(name)
                except ObjectNotFound:
                    pools[name] = PoolStatus(name, found=False)
                    continue
                workers = tuple(
                    WorkerInfo(w.name, str(w.status.value), w.last_heartbeat_time)
                    for w in client.read_workers_for_work_pool(name)
                )
                status = "PAUSED" if pool.is_paused else pool.status.value if pool.status else None
                pools[name] = PoolStatus(name, True, pool.type, status, workers)
            found = client.read_deployments(
                deployment_filter=DeploymentFilter(
                    name=DeploymentFilterName(any_=[e.name for e in entries])
                )
            )
    except httpx.HTTPError as exc:
        raise ServiceUnavailableError(f"Prefect API at {url}: {type(exc).__name__}") from None
    deployments = {d.name: "paused" if d.paused else "active" for d in found}
    return LiveStatus(url, pools, deployments)


def _pool_cell(status: PoolStatus | None) -> tuple[str, str]:
    if status is None or not status.found:
        return "missing", "-"
    return status.status or "?", f"{status.online}/{len(status.workers)} online"


def render_table(entries: Sequence[DeploymentEntry], live: LiveStatus | None = None) -> str:
    """A plain-text table, regional deployments first, then a one-line summary."""
    header = ["REGION", "WORK POOL", "DEPLOYMENT", "SCHEDULE", "CONCURRENCY"]
    if live:
        header += ["POOL", "WORKERS", "ON SERVER"]
    rows = []
    for e in sorted(entries, key=lambda e: (e.region is None, e.region or "", e.name)):
        row = [e.region or "-", e.work_pool, e.name, ", ".join(e.schedules) or "manual"]
        row.append(e.concurrency or "-")
        if live:
            row += [*_pool_cell(live.pools.get(e.work_pool)), live.deployments.get(e.name, "no")]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    regions = {e.region for e in entries if e.region}
    pools = {e.work_pool for e in entries}
    summary = f"{len(regions)} region(s), {len(pools)} work pool(s), {len(entries)} deployment(s)"
    if live:
        summary += f"; live from {live.api_url}"
    head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()
    return "\n".join([head, *lines, summary])
