"""Cost anomaly monitors as code: which daily cost series to score and where to send alerts.

A monitors file looks like::

    defaults:                       # optional; merged into every monitor of this file
      thresholds: {score: 3, min_pct: 15, min_impact: 50}
      targets: [custom-webhook/finops]
      holidays: US                  # public holidays (ISO country, US-CA, or a list of dates)
    monitors:
      - name: total-spend
        dimension: total            # total | service | sub_account | tag
        immediate_impact: 1000      # impact (money) that alerts at once; below: daily digest
      - name: aws-services
        dimension: service
        filter: {provider: AWS, billing_account: "111122223333"}
        metric: BilledCost          # EffectiveCost (default, amortised) or BilledCost
      - name: teams
        dimension: tag
        tag: team

Thresholds: ``score`` robust standard deviations (default 3), ``min_pct`` percent above the
expectation (default 15; ``"15%"`` works too) and ``min_impact``, the absolute floor in the
series' billing currency (default 10). A day is anomalous only when all three hold.
``holidays`` names the public holidays whose effect each series learns from earlier holidays
(see :mod:`tasks.cost.anomaly.calendar`); month boundaries are always learned. Every
problem in every file is reported at once as a :class:`~tasks.errors.SpecError` naming the file,
the monitor and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from tasks.cost.anomaly.calendar import check_calendar
from tasks.cost.focus import CHARGE_CATEGORIES
from tasks.errors import ConfigurationError, SpecError, SpecIssue
from tasks.specs import load_specs, validation_issues

__all__ = [
    "DIMENSIONS",
    "METRICS",
    "Dimension",
    "Holidays",
    "Metric",
    "Monitor",
    "MonitorFilter",
    "Thresholds",
    "load_monitors",
]

Dimension = Literal["total", "service", "sub_account", "tag"]
Metric = Literal["EffectiveCost", "BilledCost"]
DIMENSIONS: tuple[str, ...] = Dimension.__args__  # type: ignore[attr-defined]
METRICS: tuple[str, ...] = Metric.__args__  # type: ignore[attr-defined]

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?$")
_BLOCK_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$")
_TOP_LEVEL = frozenset({"monitors", "defaults"})
_MERGED = frozenset({"thresholds", "filter"})


def _bad(message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("monitor_spec", message, ctx or None)


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise _bad(
            "'{value}' is not a valid name: use lowercase letters, digits, - and _", value=value
        )
    return value


def _target(value: str) -> str:
    if not _BLOCK_SLUG.match(value):
        raise _bad(
            "target '{value}' must name a Prefect notification block as "
            "<block-type>/<block-name>, e.g. custom-webhook/finops",
            value=value,
        )
    return value


def _percent(value: Any) -> Any:
    if isinstance(value, str) and value.strip().endswith("%"):
        return value.strip()[:-1].strip()
    return value


def _one_or_many(value: Any) -> Any:
    if isinstance(value, str | int):
        return [str(value)]
    if isinstance(value, list):
        # YAML reads an unquoted account id as a number; ids are text
        return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


Name = Annotated[str, AfterValidator(_name)]
Target = Annotated[str, AfterValidator(_target)]
Values = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]
Money = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MonitorFilter(_Spec):
    """Which cost lines a monitor looks at (each field: one value or a list; empty: all).

    ``charge_category`` defaults to ``Usage``: purchases, taxes, credits and adjustments are
    bookkeeping events (a monthly tax line would look like a spike every first of the month),
    which is also what AWS Cost Anomaly Detection leaves out.
    """

    provider: Values = ()
    billing_account: Values = ()
    charge_category: Values = ("Usage",)

    @field_validator("charge_category")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in CHARGE_CATEGORIES]
        if unknown:
            raise _bad(
                "unknown charge category {value} (use {allowed})",
                value=", ".join(unknown),
                allowed=", ".join(CHARGE_CATEGORIES),
            )
        return value


class Thresholds(_Spec):
    """The three conditions a day must meet to be anomalous."""

    score: float = Field(default=3.0, gt=0, le=100)
    min_pct: Annotated[float, BeforeValidator(_percent), Field(ge=0, le=10_000)] = 15.0
    min_impact: Money = Decimal("10")


def _calendar(value: Any) -> str | tuple[date, ...] | None:
    """A country code (``US``, ``US-CA``), a list of dates, or none."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            check_calendar(value)
        except ConfigurationError as exc:
            raise _bad("{reason}", reason=str(exc)) from None
        return value
    if not isinstance(value, list | tuple):
        raise _bad("holidays must be a country code such as US or a list of dates")
    days = []
    for item in value:
        if isinstance(item, date):
            days.append(item)
            continue
        try:
            days.append(date.fromisoformat(str(item)))
        except ValueError:
            raise _bad("{item} is not a date (YYYY-MM-DD)", item=repr(item)) from None
    return tuple(days)


Holidays = Annotated[str | tuple[date, ...] | None, PlainValidator(_calendar)]


class Monitor(_Spec):
    """One monitor: a dimension to split cost by, thresholds, a holiday calendar, routing."""

    name: Name
    description: str | None = Field(default=None, max_length=500)
    dimension: Dimension
    tag: str | None = Field(default=None, min_length=1, max_length=200, validate_default=True)
    filter: MonitorFilter = MonitorFilter()
    metric: Metric = "EffectiveCost"
    thresholds: Thresholds = Thresholds()
    targets: tuple[Target, ...] = ()
    immediate_impact: Money | None = None
    holidays: Holidays = None

    @field_validator("tag")
    @classmethod
    def _tag_only_for_tag_dimension(cls, value: str | None, info: ValidationInfo) -> str | None:
        dimension = info.data.get("dimension")
        if dimension == "tag" and value is None:
            raise _bad("dimension tag needs tag: the tag key to split by (e.g. team)")
        if dimension not in (None, "tag") and value is not None:
            raise _bad("tag is only allowed with dimension: tag")
        if value is not None and ('"' in value or "\\" in value):
            raise _bad("a tag key may not contain a quote or a backslash")
        return value


class MonitorDefaults(_Spec):
    """Fields a file's ``defaults:`` may set for all its monitors."""

    filter: MonitorFilter | None = None
    metric: Metric | None = None
    thresholds: Thresholds | None = None
    targets: tuple[Target, ...] | None = None
    immediate_impact: Money | None = None
    holidays: Holidays = None


def _merge(defaults: dict[str, Any], monitor: dict[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **monitor}
    for key in _MERGED:
        if isinstance(defaults.get(key), dict) and isinstance(monitor.get(key), dict):
            merged[key] = {**defaults[key], **monitor[key]}
    return merged


def load_monitors(paths: Iterable[Path | str]) -> list[Monitor]:
    """Load every monitor in ``paths`` (files, or directories searched for YAML files).

    Raises:
        SpecError: a file is unreadable or invalid, or a monitor name is used twice; each issue
            names the file, the monitor and the field.
    """
    seen: dict[str, str] = {}
    duplicates: list[SpecIssue] = []

    def split(file: Path, document: Any) -> Iterator[tuple[str | None, Any, tuple[int | str, ...]]]:
        if not isinstance(document, dict):
            raise SpecError([SpecIssue(str(file), None, None, "expected a mapping with monitors:")])
        issues = [
            SpecIssue(str(file), None, str(key), "unknown field (expected monitors, defaults)")
            for key in document
            if key not in _TOP_LEVEL
        ]
        raw_defaults = document.get("defaults") or {}
        try:
            MonitorDefaults.model_validate(raw_defaults)
        except ValidationError as exc:
            issues.extend(validation_issues(file, None, exc, ("defaults",)))
        monitors = document.get("monitors")
        if not isinstance(monitors, list) or not monitors:
            issues.append(SpecIssue(str(file), None, "monitors", "must be a non-empty list"))
        if issues:
            raise SpecError(issues)
        assert isinstance(monitors, list) and isinstance(raw_defaults, dict)
        for index, raw in enumerate(monitors):
            name = raw.get("name") if isinstance(raw, dict) else None
            label = name if isinstance(name, str) else f"monitors[{index}]"
            if isinstance(name, str):
                if name in seen:
                    where = "this file" if seen[name] == str(file) else seen[name]
                    reason = f"duplicate monitor name (also defined in {where})"
                    duplicates.append(SpecIssue(str(file), name, f"monitors[{index}].name", reason))
                else:
                    seen[name] = str(file)
            yield (
                label,
                _merge(raw_defaults, raw) if isinstance(raw, dict) else raw,
                (
                    "monitors",
                    index,
                ),
            )

    try:
        monitors = load_specs(paths, split, Monitor)
    except SpecError as exc:
        raise SpecError(exc.issues + duplicates) from None
    if duplicates:
        raise SpecError(duplicates)
    return monitors
