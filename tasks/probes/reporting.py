"""The human view of a probe run: a markdown summary and a results table as Prefect artifacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.probes.http import VERDICTS, ProbeResult, count_verdicts

__all__ = ["evidence_lines", "probe_rows", "probe_run_problem", "publish_probe_summary"]


def probe_rows(results: Sequence[ProbeResult]) -> list[dict[str, Any]]:
    """One row per result, worst verdict first; errors are already redacted by the engine."""
    order = {v: i for i, v in enumerate(reversed(VERDICTS))}
    return [
        {
            "check": r.check_id,
            "verdict": r.verdict,
            "ms": None if r.duration_ms is None else round(r.duration_ms, 1),
            "status": r.status_code,
            "attempts": r.attempts,
            "failing step": r.failing_step or "",
            "error": (r.error or "")[:160],
        }
        for r in sorted(results, key=lambda r: (order[r.verdict], r.check_id))
    ]


def evidence_lines(results: Sequence[ProbeResult]) -> list[str]:
    """Markdown links to the screenshots and traces that failed browser checks left behind."""
    lines = []
    for r in sorted(results, key=lambda r: r.check_id):
        evidence = r.detail.get("evidence") or {}
        kinds = [kind for kind in ("screenshot", "trace") if kind in evidence]
        links = [f"[{kind}]({evidence[kind]})" for kind in kinds]
        if links:
            where = f" at step '{r.failing_step}'" if r.failing_step else ""
            lines.append(f"- `{r.check_id}` {r.verdict}{where}: " + ", ".join(links))
    return lines


def probe_run_problem(counts: dict[str, int]) -> str | None:
    """What went wrong with a probe run itself: every check errored (None: the run worked).

    Failing checks are the service's problem, which the run exists to measure; checks that
    could not run at all (``error``: a bad template, no route, no browser) are the run's own.
    """
    total = sum(counts.values())
    if total and counts["error"] == total:
        return f"every check errored ({total} of {total}): the checks could not run"
    return None


@task(name="publish-probe-summary")
def publish_probe_summary(
    results: Sequence[ProbeResult], region: str, at: datetime
) -> dict[str, int]:
    """Write the run's artifacts and return the verdict counts."""
    counts = count_verdicts(results)
    key = f"probes-{region}".lower()
    lines = [
        f"# Synthetic probes: {region}",
        f"Slot {at.isoformat()}: {len(results)} checks, "
        + ", ".join(f"{n} {v}" for v, n in counts.items()),
    ]
    if evidence := evidence_lines(results):
        lines.append("## Evidence of failed browser checks\n\n" + "\n".join(evidence))
    create_markdown_artifact("\n\n".join(lines), key=key, description="Probe run summary")
    if results:
        create_table_artifact(probe_rows(results), key=f"{key}-results", description="Results")
    return counts
