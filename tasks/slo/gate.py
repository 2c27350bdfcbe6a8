"""The release gate: may a service ship now, judged by its SLOs' budgets and page alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tasks.slo.report import SloReport

__all__ = ["GateDecision", "decide_gate"]


@dataclass(frozen=True)
class GateDecision:
    service: str
    passed: bool
    reasons: list[str] = field(default_factory=list)


def decide_gate(
    reports: Sequence[SloReport], service: str, min_budget: float = 0.10
) -> GateDecision:
    """Pass when every SLO of ``service`` keeps more than ``min_budget`` of its error budget and no
    page-tier alert fires. An SLO without data blocks the release: nothing shows it is healthy.
    """
    mine = [r for r in reports if r.service == service]
    if not mine:
        return GateDecision(service, False, [f"no SLOs found for service {service!r}"])
    reasons: list[str] = []
    for report in mine:
        if report.budget_remaining is None:
            reasons.append(f"{report.slo_id}: no data in its window")
        elif report.budget_remaining <= min_budget:
            reasons.append(
                f"{report.slo_id}: {report.budget_remaining:.1%} of the error budget left "
                f"(needs more than {min_budget:.0%})"
            )
        reasons.extend(
            f"{report.slo_id}: page alert {a.key} firing ({a.summary})"
            for a in report.firing
            if a.severity == "page"
        )
    if reasons:
        return GateDecision(service, False, reasons)
    ok = [f"{r.slo_id}: {r.budget_remaining:.1%} of the error budget left" for r in mine]
    return GateDecision(service, True, ok)
