"""OpenSLO alerting models: AlertPolicy, AlertCondition (burn rate), AlertNotificationTarget.

Mapping: a burn-rate condition is ``{kind: burnrate, op: gte|gt, threshold, lookbackWindow,
alertAfter}`` where ``lookbackWindow`` is the long window and ``alertAfter`` the short one; it fires
when both windows burn at or above ``threshold``. ``severity`` is page or ticket. A notification
target's ``spec.target`` names a Prefect notification block as ``<block-type>/<block-name>``.
As in OpenSLO v1, a policy holds exactly one condition.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tasks.slo.spec_common import Metadata, Strict, spec_error
from tasks.slo.windows import parse_duration

__all__ = [
    "AlertConditionSpec",
    "AlertNotificationTargetSpec",
    "AlertPolicyItem",
    "AlertPolicySpec",
    "BurnRateCondition",
    "ConditionItem",
    "TargetItem",
]

# A Prefect block document slug: ``<block-type-slug>/<block-name>``.
_BLOCK_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$")


class BurnRateCondition(Strict):
    kind: str = "burnrate"
    op: str
    threshold: float = Field(gt=0)
    lookbackWindow: str
    alertAfter: str

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value != "burnrate":
            raise spec_error(f"condition kind {value!r} is not supported (use burnrate)")
        return value

    @field_validator("op")
    @classmethod
    def _op(cls, value: str) -> str:
        if value not in ("gte", "gt"):
            raise spec_error(f"op {value!r} is not supported: burn-rate alerts use gte or gt")
        return value

    @field_validator("lookbackWindow", "alertAfter")
    @classmethod
    def _window(cls, value: str) -> str:
        try:
            parse_duration(value, fixed=True)
        except ValueError as exc:
            raise spec_error(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _short_inside_long(self) -> BurnRateCondition:
        long = parse_duration(self.lookbackWindow, fixed=True).seconds
        if parse_duration(self.alertAfter, fixed=True).seconds >= long:
            raise spec_error(
                "alertAfter (the short window) must be shorter than lookbackWindow (the long one)"
            )
        return self


class AlertConditionSpec(Strict):
    description: str | None = Field(default=None, max_length=1050)
    severity: str
    condition: BurnRateCondition

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        if value not in ("page", "ticket"):
            raise spec_error(f"severity {value!r} is not supported (use page or ticket)")
        return value


class AlertNotificationTargetSpec(Strict):
    description: str | None = Field(default=None, max_length=1050)
    target: str

    @field_validator("target")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _BLOCK_SLUG.match(value):
            raise spec_error(
                f"target {value!r} must name a Prefect notification block as "
                "<block-type>/<block-name>, e.g. slack-webhook/sre-alerts"
            )
        return value


class ConditionItem(Strict):
    """A condition by reference (``conditionRef``) or inline (``kind``, ``metadata``, ``spec``)."""

    conditionRef: str | None = None
    kind: Literal["AlertCondition"] | None = None
    metadata: Metadata | None = None
    spec: AlertConditionSpec | None = None


class TargetItem(Strict):
    targetRef: str | None = None
    kind: Literal["AlertNotificationTarget"] | None = None
    metadata: Metadata | None = None
    spec: AlertNotificationTargetSpec | None = None


class AlertPolicySpec(Strict):
    description: str | None = Field(default=None, max_length=1050)
    # OpenSLO gives no defaults; these are the ones that make an omitted flag unsurprising.
    alertWhenNoData: bool = False
    alertWhenResolved: bool = True
    alertWhenBreaching: bool = True
    conditions: list[ConditionItem] = Field(min_length=1, max_length=1)
    notificationTargets: list[TargetItem] = Field(default_factory=list)


class AlertPolicyItem(Strict):
    alertPolicyRef: str | None = None
    kind: Literal["AlertPolicy"] | None = None
    metadata: Metadata | None = None
    spec: AlertPolicySpec | None = None
