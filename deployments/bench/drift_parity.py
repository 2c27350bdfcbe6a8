"""Benchmark ``drift_parity``: the differential corpus, ours against Evidently with the same kinds.

Every case of :mod:`infra.sandbox.drift_corpus` runs through :func:`tasks.ml.drift.detect_drift`
and through Evidently 0.7's ``DataDriftPreset`` given the same column kinds as its data
definition (and the same judged columns: a feature the fast engine reports as a problem is left
out of both). Agreement means the same method, the same flag on every column and the same
dataset decision. The same cases also run through Evidently with its own type inference (no
data definition), to count where the two engines would disagree without a schema.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

from deployments.bench import Measurement
from infra.sandbox.drift_corpus import DriftCase, drift_cases
from tasks.ml.drift import DriftResult, detect_drift

__all__ = ["Parity", "compare_case", "run"]


@dataclass(frozen=True)
class Parity:
    """One case's outcome: the two results and where they differ."""

    case: DriftCase
    ours: DriftResult
    theirs: DriftResult
    differences: list[str]

    @property
    def agree(self) -> bool:
        return not self.differences


def compare_case(case: DriftCase) -> Parity:
    """Run one case through both engines with the case's kinds and list every difference."""
    from tasks.ml.evidently_report import run_report

    ours = detect_drift(case.reference, case.current, kinds=case.kinds)
    unjudgeable = {p.column for p in ours.problems}
    columns = [c for c in case.reference.columns if c not in unjudgeable]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = run_report(case.reference, case.current, columns, case.kinds).decisions()
    return Parity(case, ours, theirs, _differences(ours, theirs))


def _differences(ours: DriftResult, theirs: DriftResult) -> list[str]:
    found: list[str] = []
    mine = {c.column: c for c in ours.columns}
    other = {c.column: c for c in theirs.columns}
    for name in sorted(set(mine) | set(other)):
        a, b = mine.get(name), other.get(name)
        if a is None or b is None:
            found.append(f"{name}: judged by {'Evidently' if a is None else 'us'} only")
        elif (a.method, a.drifted) != (b.method, b.drifted):
            found.append(
                f"{name}: ours {a.method} {a.score:.4g} drifted={a.drifted}, "
                f"Evidently {b.method} {b.score:.4g} drifted={b.drifted}"
            )
    if ours.dataset_drift != theirs.dataset_drift:
        found.append(f"dataset: ours {ours.dataset_drift}, Evidently {theirs.dataset_drift}")
    return found


def _default_inference(case: DriftCase) -> str:
    """How Evidently's own type inference (no data definition) differs on a case, or ''."""
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    from tasks.ml.evidently_report import EvidentlyReport

    report = Report([DataDriftPreset()], include_tests=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            snapshot = report.run(
                current_data=Dataset.from_pandas(case.current),
                reference_data=Dataset.from_pandas(case.reference),
            )
            kinds = {c: case.kinds.get(c, "ignored") for c in case.reference.columns}
            theirs = EvidentlyReport(snapshot, kinds, len(case.reference), len(case.current), 0.5)
            decided = {c.column: c.drifted for c in theirs.decisions().columns}
    except Exception as exc:  # its own inference may leave nothing to judge, or crash
        return f"Evidently failed ({type(exc).__name__})"
    ours = detect_drift(case.reference, case.current, kinds=case.kinds)
    found = [f"{c.column} not judged" for c in ours.columns if c.column not in decided]
    found += [f"{c} judged" for c in decided if c in ours.not_judged]
    found += [
        f"{c.column} flagged {decided[c.column]}"
        for c in ours.columns
        if c.column in decided and decided[c.column] != c.drifted
    ]
    return ", ".join(found)


def run(quick: bool) -> list[Measurement]:
    cases = drift_cases()
    compare_case(cases[0])  # untimed: Evidently's imports
    began = time.perf_counter()
    results = [compare_case(case) for case in cases]
    elapsed = time.perf_counter() - began
    ours_s = 0.0
    for case in cases:
        start = time.perf_counter()
        detect_drift(case.reference, case.current, kinds=case.kinds)
        ours_s += time.perf_counter() - start
    agreeing = sum(r.agree for r in results)
    lines = [f"{r.case.name}: {'; '.join(r.differences)}" for r in results if not r.agree]
    inference = {case.name: _default_inference(case) for case in cases}
    differing = [f"{name}: {text}" for name, text in inference.items() if text]
    note = (
        f"{agreeing} of {len(results)} data sets agree with Evidently given the same kinds "
        f"(methods, every column's flag, dataset decision)"
        + (f"; differences: {' | '.join(lines)}" if lines else "")
        + f". Evidently with its own type inference differs on {len(differing)} of "
        f"{len(cases)}: {' | '.join(differing)}"
    )
    return [
        Measurement(
            workload="drift_parity",
            ours=ours_s,
            reference=max(elapsed - ours_s, 0.0),
            unit="s",
            ratio=(elapsed - ours_s) / ours_s if ours_s > 0 else float("inf"),
            target=f"decisions equal in N of N ({len(results)} data sets)",
            met=agreeing == len(results),
            note=note,
        )
    ]
