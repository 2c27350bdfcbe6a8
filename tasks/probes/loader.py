"""Load check files (``checks:`` plus optional ``defaults:``) into validated check models.

A file looks like::

    defaults:            # optional; merged into every check of this file
      service: shop-api
      retry: {strategy: fixed, max_attempts: 2, backoff_seconds: 1}
    checks:
      - id: shop-health
        request: {url: "${SAMPLE_URL}/health"}
        assertions: [{source: status_code, operator: equals, target: 200}]

A check's own value wins over a default; for ``retry`` the two are merged key by key. Every
problem in every file is reported at once as a :class:`~tasks.errors.SpecError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tasks.errors import SpecError, SpecIssue
from tasks.probes.catalog import AnyCheck, parse_check
from tasks.probes.spec import CheckDefaults
from tasks.specs import load_specs, validation_issues

__all__ = ["load_checks", "select_checks"]

# ``maintenance:`` documents hold maintenance windows (tasks.slo.maintenance_loader reads them)
_TOP_LEVEL = frozenset({"checks", "defaults", "maintenance"})
_UNKNOWN_TOP_LEVEL = "unknown field (expected checks, defaults, maintenance)"
_MERGED = frozenset({"retry"})


class _AnyCheck(BaseModel):
    """Adapter handing :func:`tasks.specs.load_specs` our type-dispatching validator."""

    @classmethod
    def model_validate(  # type: ignore[override]
        cls, obj: Any, *, context: dict[str, Any] | None = None, **_: Any
    ) -> AnyCheck:
        return parse_check(obj, context)


def _merge(defaults: dict[str, Any], check: dict[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **check}
    for key in _MERGED:
        if isinstance(defaults.get(key), dict) and isinstance(check.get(key), dict):
            merged[key] = {**defaults[key], **check[key]}
    return merged


def load_checks(paths: Iterable[Path | str]) -> list[AnyCheck]:
    """Load every check in ``paths`` (files, or directories searched for ``*.yaml``/``*.yml``).

    Raises:
        SpecError: any file is unreadable or invalid, or a check id is used twice; the issues
            name the file, the check id and the field.
    """
    seen: dict[str, str] = {}
    duplicates: list[SpecIssue] = []

    def split(file: Path, document: Any) -> Iterator[tuple[str | None, Any, tuple[int | str, ...]]]:
        if not isinstance(document, dict):
            raise SpecError([SpecIssue(str(file), None, None, "expected a mapping with checks:")])
        if "maintenance" in document and "checks" not in document:
            return  # windows only
        issues = [
            SpecIssue(str(file), None, str(key), _UNKNOWN_TOP_LEVEL)
            for key in document
            if key not in _TOP_LEVEL
        ]
        raw_defaults = document.get("defaults") or {}
        try:
            CheckDefaults.model_validate(raw_defaults, context={"file": str(file)})
        except ValidationError as exc:
            issues.extend(validation_issues(file, None, exc, ("defaults",)))
        checks = document.get("checks")
        if not isinstance(checks, list):
            issues.append(SpecIssue(str(file), None, "checks", "must be a list of checks"))
        if issues:
            raise SpecError(issues)
        assert isinstance(checks, list) and isinstance(raw_defaults, dict)
        for index, raw in enumerate(checks):
            check_id = raw.get("id") if isinstance(raw, dict) else None
            name = check_id if isinstance(check_id, str) else f"checks[{index}]"
            if isinstance(check_id, str):
                if check_id in seen:
                    where = "this file" if seen[check_id] == str(file) else seen[check_id]
                    reason = f"duplicate check id (also defined in {where})"
                    duplicates.append(SpecIssue(str(file), check_id, f"checks[{index}].id", reason))
                else:
                    seen[check_id] = str(file)
            merged = _merge(raw_defaults, raw) if isinstance(raw, dict) else raw
            yield name, merged, ("checks", index)

    try:
        checks = load_specs(paths, split, _AnyCheck)
    except SpecError as exc:
        raise SpecError(exc.issues + duplicates) from None
    if duplicates:
        raise SpecError(duplicates)
    return list(checks)  # type: ignore[arg-type]


def select_checks(
    checks: Iterable[AnyCheck],
    *,
    region: str | None = None,
    ids: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    service: str | None = None,
) -> list[AnyCheck]:
    """The checks that run in ``region`` and match every other filter given."""
    wanted_ids = set(ids) if ids is not None else None
    wanted_tags = set(tags or ())
    return [
        c
        for c in checks
        if (region is None or region in c.regions)
        and (wanted_ids is None or c.id in wanted_ids)
        and wanted_tags <= set(c.tags)
        and (service is None or c.service == service)
    ]
