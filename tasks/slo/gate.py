"""The release gate: may a service ship now, judged by its SLOs' budgets and page alerts.

Optionally (``require_experiment``) the last chaos experiment run for the service must have
passed too: the SLOs held while a fault was injected, so the release is known to degrade well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tasks.slo.report import SloReport

__all__ = ["ExperimentResult", "GateDecision", "decide_gate"]


@dataclass(frozen=True)
class GateDecision:
    service: str
    passed: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExperimentResult:
    """The latest chaos experiment run of a service (see ``tasks.chaos.records``)."""

    title: str
    verdict: str  # passed | failed | aborted
    ended_at: datetime | None = None
    reason: str | None = None


def _experiment_reason(service: str, last: ExperimentResult | None) -> tuple[bool, str]:
    if last is None:
        return False, f"no chaos experiment has run for service {service!r}"
    when = f" at {last.ended_at:%Y-%m-%d %H:%M} UTC" if last.ended_at else ""
    if last.verdict != "passed":
        why = f": {last.reason}" if last.reason else ""
        return False, f"last chaos experiment {last.title!r}{when} {last.verdict}{why}"
    return True, f"last chaos experiment {last.title!r}{when} passed"


def decide_gate(
    reports: Sequence[SloReport],
    service: str,
    min_budget: float = 0.10,
    *,
    require_experiment: bool = False,
    last_experiment: ExperimentResult | None = None,
) -> GateDecision:
    """Pass when every SLO of ``service`` keeps more than ``min_budget`` of its error budget and no
    page-tier alert fires. An SLO without data blocks the release: nothing shows it is healthy.
    Maintenance windows under way are listed after the reasons; they change no verdict.
    With ``require_experiment``, ``last_experiment`` must also exist and have passed.
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
    # Planned maintenance neither blocks nor passes a release; the gate says it is under way.
    notes = sorted({line for report in mine for line in report.maintenance})
    experiment_ok, experiment_reason = _experiment_reason(service, last_experiment)
    if require_experiment and not experiment_ok:
        reasons.append(experiment_reason)
    if reasons:
        return GateDecision(service, False, reasons + notes)
    ok = [f"{r.slo_id}: {r.budget_remaining:.1%} of the error budget left" for r in mine]
    if require_experiment:
        ok.append(experiment_reason)
    return GateDecision(service, True, ok + notes)
