"""Verdicts of runs and the resilience score of a service (LitmusChaos's weighted formula).

- ``passed``: the steady state held before, during and after the fault;
- ``failed``: it did not (not met before the method, deviated after it, or a probe broke);
- ``aborted``: the run stopped early: the safeguard tripped, the method raised, or the run was
  interrupted (cancelled, crashed).

Probe success of a run is the share of hypothesis probe evaluations (before, during, after) that
were within tolerance; a safeguard trip counts as one more failed evaluation. The resilience
score is ``sum(weight x probe success %) / sum(weights)`` over the latest run of each of the
service's experiments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["probe_success", "resilience_score", "run_problem", "verdict"]


def _states(journal: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    states = journal.get("steady_states") or {}
    found = [states.get("before"), *(states.get("during") or []), states.get("after")]
    return [s for s in found if s]


def verdict(journal: Mapping[str, Any], abort_reason: str | None = None) -> tuple[str, str]:
    """``(verdict, reason)`` of a finished Chaos Toolkit journal."""
    status = journal.get("status")
    if abort_reason or status in ("aborted", "interrupted"):
        return "aborted", abort_reason or f"the run was {status}"
    before = (journal.get("steady_states") or {}).get("before")
    if before is not None and not before.get("steady_state_met"):
        return "failed", "the steady state was not met before the method (nothing injected)"
    if journal.get("deviated"):
        return "failed", "the steady state deviated after the fault"
    if status == "failed":
        return "failed", "a steady-state probe failed to run or deviated during the method"
    return "passed", "the steady state held before, during and after the fault"


def run_problem(summary: Mapping[str, Any]) -> str | None:
    """What the flow run's state says went wrong (None: the experiment passed, faults clean)."""
    problems = []
    if summary["verdict"] != "passed":
        problems.append(f"experiment {summary['verdict'].upper()}: {summary['reason']}")
    if not summary["clean"]:
        problems.append("a fault was NOT verified removed: check the target now")
    return "; ".join(problems) or None


def probe_success(journal: Mapping[str, Any], tripped: bool = False) -> float | None:
    """Share of hypothesis probe evaluations within tolerance (None when none ran)."""
    outcomes = [
        bool(p.get("tolerance_met")) for s in _states(journal) for p in s.get("probes") or []
    ]
    if tripped:
        outcomes.append(False)
    return sum(outcomes) / len(outcomes) if outcomes else None


def resilience_score(runs: Iterable[tuple[int, float | None]]) -> float | None:
    """``sum(weight x probe success %) / sum(weights)`` over ``(weight, success)`` pairs.

    Runs without probe results are left out; None when nothing is left.
    """
    pairs = [(w, s) for w, s in runs if s is not None]
    total = sum(w for w, _ in pairs)
    if not total:
        return None
    return round(sum(w * s * 100 for w, s in pairs) / total, 2)
