"""OpenSLO v1 documents as pydantic models: the subset Traceo evaluates, nothing silently dropped.

Every model forbids unknown fields. Fields that OpenSLO defines but Traceo cannot honour
(``RatioTimeslices``, ``metricSourceRef``, ``raw`` ratios, composite objectives ...) are declared
so that using them fails with "not supported" instead of a generic "unknown field".
Cross-field and cross-document rules (indicatorRef resolution, one timeWindow, Timeslices needs
timeSliceTarget ...) are checked by :mod:`tasks.slo.loader`, which can name the exact field.

Traceo's own settings live in ``metadata.annotations`` of an SLO under ``traceo.dev/``:

=========================================  =========  ==========================================
annotation                                 default    meaning
=========================================  =========  ==========================================
``traceo.dev/min-events``                  ``"10"``   a window with fewer events has
                                                      "insufficient data": its burn rate is not
                                                      computed and cannot fire an alert
``traceo.dev/global-min-failing-regions``  ``"1"``    a slot is globally bad only when at least
                                                      N regions are bad in it (N is capped at the
                                                      regions that reported in that slot)
``traceo.dev/no-data-after``               ``"15m"``  alert when no event arrived for this long;
                                                      ``"off"`` disables the alert
``traceo.dev/slot``                        ``"1m"``   Occurrences only: the slot in which the
                                                      region quorum is judged (Timeslices use
                                                      their timeSliceWindow)
=========================================  =========  ==========================================
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator

from tasks.slo.alert_spec import (
    AlertConditionSpec,
    AlertNotificationTargetSpec,
    AlertPolicyItem,
    AlertPolicySpec,
)
from tasks.slo.spec_common import (
    ANNOTATION_PREFIX,
    Metadata,
    Strict,
    not_supported,
    spec_error,
)
from tasks.slo.windows import parse_duration

__all__ = [
    "ANNOTATION_PREFIX",
    "DOCUMENT_MODELS",
    "KNOWN_ANNOTATIONS",
    "AlertConditionDocument",
    "AlertNotificationTargetDocument",
    "AlertPolicyDocument",
    "MetricSource",
    "Objective",
    "PrometheusQuery",
    "SliDocument",
    "SliSpec",
    "SloDocument",
    "SloMetadata",
    "SloSpec",
    "TimeWindowSpec",
    "TraceoSelector",
    "parse_annotation",
]

KNOWN_ANNOTATIONS = ("min-events", "global-min-failing-regions", "no-data-after", "slot")

Verdict = Literal["pass", "degraded", "fail", "error"]


def parse_annotation(key: str, value: str) -> int | str:
    """Parse one ``traceo.dev/`` annotation value (key without the prefix); ValueError if bad."""
    if key in ("min-events", "global-min-failing-regions"):
        if not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"{ANNOTATION_PREFIX}{key} must be a whole number >= 1, got {value!r}")
        return int(value)
    if key == "no-data-after" and value.strip() == "off":
        return "off"
    if key in ("no-data-after", "slot"):
        try:
            return parse_duration(value, fixed=True).seconds
        except ValueError as exc:
            raise ValueError(f"{ANNOTATION_PREFIX}{key}: {exc}") from None
    raise ValueError(
        f"unknown annotation {ANNOTATION_PREFIX}{key} (not supported; known: "
        + ", ".join(ANNOTATION_PREFIX + k for k in KNOWN_ANNOTATIONS)
        + ")"
    )


class SloMetadata(Metadata):
    # Same name as the parent's validator, so it replaces it: an SLO accepts traceo.dev/ keys.
    @field_validator("annotations")
    @classmethod
    def _no_traceo_annotations(cls, value: dict[str, str]) -> dict[str, str]:
        for key, raw in value.items():
            if key.startswith(ANNOTATION_PREFIX):
                try:
                    parse_annotation(key.removeprefix(ANNOTATION_PREFIX), raw)
                except ValueError as exc:
                    raise spec_error(str(exc)) from None
        return value


class TraceoSelector(Strict):
    """``metricSource.spec`` of ``type: traceo``: which checks, which verdicts, which metric."""

    checks: list[str] | None = Field(default=None, min_length=1)
    service: str | None = None
    verdicts: list[Verdict] | None = Field(default=None, min_length=1)
    metric: Literal["duration_ms"] | None = None


class PrometheusQuery(Strict):
    """``metricSource.spec`` of ``type: prometheus``: one PromQL query (tasks.slo.prometheus)."""

    query: str = Field(min_length=1)


class MetricSource(Strict):
    type: str
    spec: TraceoSelector | PrometheusQuery
    metricSourceRef: Any = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value.lower() not in ("traceo", "prometheus"):
            raise spec_error(
                f"metric source type {value!r} is not supported (use type: traceo or prometheus)"
            )
        return value

    @field_validator("spec", mode="plain")
    @classmethod
    def _spec(cls, value: Any, info: ValidationInfo) -> Any:
        # Another source's spec (a Datadog query...) is not ours to judge: its type is the issue.
        source = info.data.get("type")
        if source is None:
            return value
        # Each type has its own spec model, validated on its own so errors name its fields.
        model = PrometheusQuery if source.lower() == "prometheus" else TraceoSelector
        return model.model_validate(value)

    @property
    def prometheus(self) -> bool:
        return isinstance(self.spec, PrometheusQuery)

    @field_validator("metricSourceRef")
    @classmethod
    def _ref(cls, value: Any) -> Any:
        return not_supported(value, "metricSourceRef (DataSource)")


class MetricQuery(Strict):
    metricSource: MetricSource


class RatioMetric(Strict):
    good: MetricQuery | None = None
    bad: MetricQuery | None = None
    total: MetricQuery | None = None
    counter: bool | None = None
    raw: Any = None
    rawType: Any = None

    @field_validator("counter")
    @classmethod
    def _counter(cls, value: bool | None) -> bool | None:
        if value:
            raise spec_error("counter: true is not supported (Traceo counts check results)")
        return value

    @field_validator("raw", "rawType")
    @classmethod
    def _raw(cls, value: Any) -> Any:
        return not_supported(value, "a raw (precomputed) ratio")


class SliSpec(Strict):
    description: str | None = Field(default=None, max_length=1050)
    ratioMetric: RatioMetric | None = None
    thresholdMetric: MetricQuery | None = None


class InlineSli(Strict):
    metadata: Metadata
    spec: SliSpec


class Calendar(Strict):
    startTime: datetime | date
    timeZone: str

    @field_validator("startTime")
    @classmethod
    def _naive(cls, value: datetime | date) -> datetime:
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if value.tzinfo is not None:
            raise spec_error("startTime must have no time zone (set calendar.timeZone instead)")
        return value

    @field_validator("timeZone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise spec_error(
                f"unknown time zone {value!r} (use an IANA name like Europe/Paris)"
            ) from None
        return value


class TimeWindowSpec(Strict):
    duration: str
    isRolling: bool | None = None
    calendar: Calendar | None = None

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            parse_duration(value)
        except ValueError as exc:
            raise spec_error(str(exc)) from None
        return value


class Objective(Strict):
    displayName: str | None = None
    op: Literal["lt", "lte", "gt", "gte"] | None = None
    value: float | None = None
    target: float | None = None
    targetPercent: float | None = None
    timeSliceTarget: float | None = None
    timeSliceWindow: int | str | None = None
    indicator: Any = None
    indicatorRef: Any = None
    compositeWeight: Any = None

    @field_validator("target")
    @classmethod
    def _target(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value < 1:
            hint = " (for a percentage use targetPercent)" if 1 <= value < 100 else ""
            raise spec_error(f"target must be between 0 and 1, exclusive, got {value}{hint}")
        return value

    @field_validator("targetPercent")
    @classmethod
    def _percent(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value < 100:
            raise spec_error(f"targetPercent must be between 0 and 100, exclusive, got {value}")
        return value

    @field_validator("timeSliceTarget")
    @classmethod
    def _slice_target(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value <= 1:
            raise spec_error(f"timeSliceTarget must be in (0, 1], got {value}")
        return value

    @field_validator("timeSliceWindow")
    @classmethod
    def _slice_window(cls, value: int | str | None) -> int | str | None:
        if value is not None:
            try:
                parse_duration(value, fixed=True)
            except ValueError as exc:
                raise spec_error(str(exc)) from None
        return value

    @field_validator("indicator", "indicatorRef", "compositeWeight")
    @classmethod
    def _composite(cls, value: Any) -> Any:
        return not_supported(value, "a composite SLO (per-objective indicator)")


class SloSpec(Strict):
    description: str | None = Field(default=None, max_length=1050)
    service: str
    indicator: InlineSli | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindowSpec]
    budgetingMethod: str
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[AlertPolicyItem] = Field(default_factory=list)

    @field_validator("budgetingMethod")
    @classmethod
    def _method(cls, value: str) -> str:
        if value == "RatioTimeslices":
            raise spec_error("RatioTimeslices is not supported (use Occurrences or Timeslices)")
        if value not in ("Occurrences", "Timeslices"):
            raise spec_error(
                f"budgetingMethod {value!r} is not supported (use Occurrences or Timeslices)"
            )
        return value

    @field_validator("timeWindow")
    @classmethod
    def _one_window(cls, value: list[TimeWindowSpec]) -> list[TimeWindowSpec]:
        if len(value) != 1:
            raise spec_error(f"exactly one time window is required, got {len(value)}")
        return value


class _Document(Strict):
    apiVersion: Literal["openslo/v1"]
    metadata: Metadata


class SloDocument(_Document):
    kind: Literal["SLO"]
    metadata: SloMetadata
    spec: SloSpec


class SliDocument(_Document):
    kind: Literal["SLI"]
    spec: SliSpec


class AlertPolicyDocument(_Document):
    kind: Literal["AlertPolicy"]
    spec: AlertPolicySpec


class AlertConditionDocument(_Document):
    kind: Literal["AlertCondition"]
    spec: AlertConditionSpec


class AlertNotificationTargetDocument(_Document):
    kind: Literal["AlertNotificationTarget"]
    spec: AlertNotificationTargetSpec


class ServiceSpec(Strict):
    description: str | None = Field(default=None, max_length=1050)


class ServiceDocument(_Document):
    kind: Literal["Service"]
    spec: ServiceSpec = ServiceSpec()


DOCUMENT_MODELS: dict[str, type[_Document]] = {
    "SLO": SloDocument,
    "SLI": SliDocument,
    "AlertPolicy": AlertPolicyDocument,
    "AlertCondition": AlertConditionDocument,
    "AlertNotificationTarget": AlertNotificationTargetDocument,
    "Service": ServiceDocument,
}
