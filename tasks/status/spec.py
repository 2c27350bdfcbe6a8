"""The status page spec: what is public, and under which names; refuses private checks.

One YAML file is one page::

    statusPage:
      title: Example Shop status
      maintenance:                      # optional: public wording of maintenance windows by id
        shop-db-upgrade-2027: Database upgrade
      groups:
        - name: Shop
          services:
            - name: Storefront API      # the public name; internal ids never reach the page
              slos: [shop-api-availability, shop-api-latency]
              checks: [shop-health]     # optional; default: the availability SLO's checks

A public service shows its current state from the latest verdicts of ``checks``, 90 daily bars
from the SLI of its one availability SLO, the page alerts of ``slos`` as incidents, and the
maintenance windows that cover its checks. A check marked ``private: true`` in its own spec (or
an SLO counting one) is refused here: every problem names the file, the service and the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasks.errors import SpecError, SpecIssue
from tasks.probes.catalog import AnyCheck
from tasks.slo.definition import SloDefinition
from tasks.slo.events import indicator_checks
from tasks.slo.maintenance_spec import MaintenanceWindow
from tasks.specs import load_documents, validation_issues

__all__ = ["PAGE_KEY", "PublicService", "StatusPageSpec", "load_status_page"]

PAGE_KEY = "statusPage"
_TEXT = Field(min_length=1, max_length=200)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceEntry(_Spec):
    name: str = _TEXT
    description: str | None = Field(default=None, max_length=500)
    slos: list[str] = Field(min_length=1)
    checks: list[str] | None = None


class GroupEntry(_Spec):
    name: str = _TEXT
    services: list[ServiceEntry] = Field(min_length=1)


class PageEntry(_Spec):
    title: str = _TEXT
    maintenance: dict[str, str] = Field(default_factory=dict)
    groups: list[GroupEntry] = Field(min_length=1)


@dataclass(frozen=True)
class PublicService:
    """A service as the page shows it, resolved against the check and SLO specs."""

    group: str
    name: str
    description: str | None
    availability: SloDefinition  # its SLI gives the daily bars
    alerting: dict[str, str]  # SLO id -> SLI kind: their page alerts are its incidents
    checks: tuple[str, ...]  # latest verdicts of these give the current state
    bar_checks: tuple[str, ...]  # the checks the availability SLI counts


@dataclass(frozen=True)
class StatusPageSpec:
    file: str
    title: str
    services: tuple[PublicService, ...]
    maintenance_notes: dict[str, str]

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(s.group for s in self.services))


class _Resolver:
    """Resolves page entries against the loaded specs, collecting every problem."""

    def __init__(self, file: str, checks: Sequence[AnyCheck], slos: Sequence[SloDefinition]):
        self.file = file
        self.by_check = {c.id: c for c in checks}
        self.by_slo = {s.id: s for s in slos}
        self.check_services = {c.id: c.service for c in checks}
        self.issues: list[SpecIssue] = []

    def issue(self, item: str | None, field: str, reason: str) -> None:
        self.issues.append(SpecIssue(self.file, item, field, reason))

    def _private(self, check_ids: Sequence[str]) -> list[str]:
        return [c for c in check_ids if c in self.by_check and self.by_check[c].private]

    def service(self, group: str, entry: ServiceEntry, where: str) -> PublicService | None:
        found = []
        for i, slo_id in enumerate(entry.slos):
            slo = self.by_slo.get(slo_id)
            if slo is None:
                self.issue(entry.name, f"{where}.slos[{i}]", f"unknown SLO {slo_id!r}")
                continue
            if private := self._private(indicator_checks(slo.indicator, self.check_services)):
                reason = (
                    f"SLO {slo_id!r} counts private check(s) {', '.join(private)}: "
                    "its figures would publish them"
                )
                self.issue(entry.name, f"{where}.slos[{i}]", reason)
            found.append(slo)
        availability = [slo for slo in found if slo.indicator.kind == "availability"]
        if found and len(availability) != 1:
            reason = (
                f"needs exactly one availability SLO for its daily bars (found {len(availability)})"
            )
            self.issue(entry.name, f"{where}.slos", reason)
        for i, check_id in enumerate(entry.checks or ()):
            field = f"{where}.checks[{i}]"
            if check_id not in self.by_check:
                self.issue(entry.name, field, f"unknown check {check_id!r}")
            elif self._private([check_id]):
                source = self.by_check[check_id].source_file or "its spec"
                reason = f"check {check_id!r} is private ({source}); it is never published"
                self.issue(entry.name, field, reason)
        if len(availability) != 1:
            return None
        bars = tuple(indicator_checks(availability[0].indicator, self.check_services))
        return PublicService(
            group,
            entry.name,
            entry.description,
            availability[0],
            {slo.id: slo.indicator.kind for slo in found},
            tuple(entry.checks) if entry.checks else bars,
            bars,
        )

    def page(self, page: PageEntry, windows: Sequence[MaintenanceWindow]) -> list[PublicService]:
        services: list[PublicService] = []
        for g, group in enumerate(page.groups):
            for s, entry in enumerate(group.services):
                where = f"{PAGE_KEY}.groups[{g}].services[{s}]"
                if any(entry.name == known.name for known in services):
                    self.issue(entry.name, f"{where}.name", "another public service has this name")
                if (resolved := self.service(group.name, entry, where)) is not None:
                    services.append(resolved)
        known = {w.id for w in windows}
        for window_id in page.maintenance:
            if window_id not in known:
                field = f"{PAGE_KEY}.maintenance.{window_id}"
                self.issue(None, field, f"unknown maintenance window {window_id!r}")
        return services


def load_status_page(
    path: Path | str,
    checks: Sequence[AnyCheck],
    slos: Sequence[SloDefinition],
    windows: Sequence[MaintenanceWindow] = (),
) -> StatusPageSpec:
    """The status page of ``path``, checked against the loaded checks, SLOs and windows.

    Raises:
        SpecError: the file is invalid, names an unknown SLO, check or window, or would publish
            a private check; every problem is listed.
    """
    file = str(path)
    documents = load_documents(Path(path))
    pages = [d for d in documents if isinstance(d, dict) and PAGE_KEY in d]
    if len(pages) != 1:
        raise SpecError([SpecIssue(file, None, PAGE_KEY, "expected one statusPage document")])
    try:
        page = PageEntry.model_validate(pages[0][PAGE_KEY])
    except ValidationError as exc:
        raise SpecError(validation_issues(file, None, exc, (PAGE_KEY,), plain=True)) from None
    resolver = _Resolver(file, checks, slos)
    services = resolver.page(page, windows)
    if resolver.issues:
        raise SpecError(resolver.issues)
    return StatusPageSpec(file, page.title, tuple(services), dict(page.maintenance))
