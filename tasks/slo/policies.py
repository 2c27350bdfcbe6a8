"""Resolve an SLO's ``alertPolicies`` (inline or by reference) into alert tiers and a no-data rule.

With no policy an SLO gets :data:`~tasks.slo.burn.DEFAULT_TIERS` and a ticket-severity no-data
alert. With policies, each policy whose ``alertWhenBreaching`` is true contributes its condition
as a tier (severity, windows, threshold, notification targets, ``alertWhenResolved``); the no-data
alert exists only if some policy sets ``alertWhenNoData`` (it takes the most severe of their
severities and all their targets), as OpenSLO says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import BaseModel

from tasks.slo.alert_spec import AlertPolicySpec
from tasks.slo.burn import DEFAULT_TIERS, AlertTier, NoDataRule, Severity
from tasks.slo.windows import parse_duration

__all__ = ["PolicyResolver"]


class _Entry(Protocol):
    file: str
    document: Any


class PolicyResolver:
    """Looks up AlertPolicy / AlertCondition / AlertNotificationTarget documents by name."""

    def __init__(
        self,
        registry: Mapping[str, Mapping[str, _Entry]],
        issue: Callable[[str, str | None, str | None, str], None],
    ) -> None:
        self.registry = registry
        self.issue = issue

    def resolve(
        self, file: str, item: str, policies: list[Any], annotations: dict[str, Any]
    ) -> tuple[tuple[AlertTier, ...] | None, NoDataRule | None]:
        """Return (tiers, no-data rule); tiers is None when a problem was reported."""
        after = annotations.get("no-data-after", 15 * 60)
        if not policies:
            return DEFAULT_TIERS, None if after == "off" else NoDataRule(int(after))
        tiers: list[AlertTier] = []
        no_data: list[tuple[str, tuple[str, ...], bool]] = []
        for j, raw in enumerate(policies):
            where = f"spec.alertPolicies[{j}]"
            resolved = self._resolve(file, item, where, raw, "alertPolicyRef", "AlertPolicy")
            if resolved is None:
                return None, None
            policy_name, policy = resolved
            policy_spec: AlertPolicySpec = policy
            condition = self._resolve(
                file,
                item,
                f"{where}.spec.conditions[0]",
                policy_spec.conditions[0],
                "conditionRef",
                "AlertCondition",
            )
            targets = []
            for t, target in enumerate(policy_spec.notificationTargets):
                found = self._resolve(
                    file,
                    item,
                    f"{where}.spec.notificationTargets[{t}]",
                    target,
                    "targetRef",
                    "AlertNotificationTarget",
                )
                if found is None:
                    return None, None
                targets.append(found[1].target)
            if condition is None:
                return None, None
            condition_name, condition_spec = condition
            rule = condition_spec.condition
            if policy_spec.alertWhenBreaching:
                tiers.append(
                    AlertTier(
                        severity=condition_spec.severity,
                        long_seconds=parse_duration(rule.lookbackWindow, fixed=True).seconds,
                        short_seconds=parse_duration(rule.alertAfter, fixed=True).seconds,
                        threshold=rule.threshold,
                        op=rule.op,
                        targets=tuple(targets),
                        notify_resolved=policy_spec.alertWhenResolved,
                        policy=policy_name,
                        condition=condition_name,
                    )
                )
            if policy_spec.alertWhenNoData:
                no_data.append(
                    (condition_spec.severity, tuple(targets), policy_spec.alertWhenResolved)
                )
        keys = [t.key for t in tiers]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            self.issue(file, item, "spec.alertPolicies", f"two conditions share the key {key}")
        if len(set(keys)) != len(keys):
            return None, None
        rule_out = None
        if no_data and after != "off":
            severity: Severity = "page" if any(s == "page" for s, _, _ in no_data) else "ticket"
            targets_all = tuple(dict.fromkeys(t for _, ts, _ in no_data for t in ts))
            resolved_any = any(r for _, _, r in no_data)
            rule_out = NoDataRule(int(after), severity, targets_all, resolved_any)
        return tuple(tiers), rule_out

    def _resolve(
        self, file: str, item: str, where: str, raw: BaseModel, ref_field: str, kind: str
    ) -> tuple[str, Any] | None:
        """Return (name, spec) of an inline or referenced object, or record why it cannot."""
        ref = getattr(raw, ref_field)
        inline = [getattr(raw, f) for f in ("kind", "metadata", "spec")]
        if ref is not None and any(v is not None for v in inline):
            self.issue(file, item, f"{where}.{ref_field}", f"give {ref_field} or an inline {kind}")
            return None
        if ref is not None:
            entry = self.registry[kind].get(ref)
            if entry is None:
                self.issue(
                    file,
                    item,
                    f"{where}.{ref_field}",
                    f"no {kind} named {ref!r} in the loaded files",
                )
                return None
            return ref, entry.document.spec
        if any(v is None for v in inline):
            self.issue(
                file,
                item,
                where,
                f"give {ref_field}, or an inline {kind} with kind, metadata, spec",
            )
            return None
        return raw.metadata.name, raw.spec  # type: ignore[attr-defined]
