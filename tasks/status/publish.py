"""Publishing a status page: load its specs once, build it from the store, write its files.

The files are the same whether a web app serves them (``/status``, ``/status.json``, ...) or
``traceo status export`` writes them for object storage: :func:`page_files` names them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from tasks.probes.catalog import AnyCheck
from tasks.probes.loader import load_checks
from tasks.slo.loader import load_slos
from tasks.slo.maintenance import MaintenanceCalendar
from tasks.slo.maintenance_loader import load_maintenance
from tasks.status.assets import SCRIPT, STYLESHEET
from tasks.status.collect import collect_page
from tasks.status.model import StatusPage
from tasks.status.render import render_page
from tasks.status.spec import StatusPageSpec, load_status_page

__all__ = ["PageSources", "export_page", "load_sources", "page_files"]


@dataclass(frozen=True)
class PageSources:
    """A status page spec with the checks and maintenance windows it was checked against."""

    spec: StatusPageSpec
    checks: tuple[AnyCheck, ...]
    calendar: MaintenanceCalendar

    def build(self, engine: Engine, now: datetime) -> StatusPage:
        """The page at ``now`` (timezone-aware) from the store."""
        return collect_page(engine, self.spec, self.checks, self.calendar, now)


def load_sources(page: Path | str, checks_path: Path | str, slos_path: Path | str) -> PageSources:
    """Load the page spec and everything it refers to.

    Raises:
        SpecError: any of the specs is invalid, or the page would publish a private check.
    """
    checks = load_checks([checks_path])
    windows = load_maintenance([checks_path], checks)
    spec = load_status_page(page, checks, load_slos([slos_path]), windows)
    calendar = MaintenanceCalendar(windows, {c.id: c.service for c in checks})
    return PageSources(spec, tuple(checks), calendar)


def page_files(page: StatusPage) -> dict[str, tuple[bytes, str]]:
    """File name -> (content, media type) of the published page."""
    return {
        "index.html": (render_page(page).encode(), "text/html; charset=utf-8"),
        "status.json": (
            json.dumps(page.to_json(), separators=(",", ":")).encode(),
            "application/json",
        ),
        "status.css": (STYLESHEET.encode(), "text/css; charset=utf-8"),
        "status.js": (SCRIPT.encode(), "text/javascript; charset=utf-8"),
    }


def export_page(page: StatusPage, directory: Path) -> list[Path]:
    """Write the page's files into ``directory`` (created if missing); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (content, _) in page_files(page).items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written
