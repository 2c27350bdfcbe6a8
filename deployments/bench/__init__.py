"""Benchmarks for ``traceo bench``: each workload measures ours next to a reference, in one run.

A workload module exposes ``run(quick: bool) -> list[Measurement]``; :data:`WORKLOADS` maps names
to those modules (imported lazily, so a selected workload imports only what it needs).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["WORKLOADS", "Measurement", "format_table", "run_workloads", "write_json"]

WORKLOADS: dict[str, str] = {
    "probe_throughput": "deployments.bench.probe_throughput",
    "slo_evaluation": "deployments.bench.slo_evaluation",
    "slo_cycle": "deployments.bench.slo_cycle",
    "store_growth": "deployments.bench.store_growth",
    "browser_checks": "deployments.bench.browser_checks",
    "anomaly_scoring": "deployments.bench.anomaly_scoring",
    "anomaly_quality": "deployments.bench.anomaly_quality",
    "cost_ingest": "deployments.bench.cost_ingest",
    "chargeback_allocation": "deployments.bench.chargeback_allocation",
    "chargeback_spark": "deployments.bench.chargeback_spark",
    "chargeback_at_scale": "deployments.bench.chargeback_at_scale",
    "anomaly_series_at_scale": "deployments.bench.anomaly_series_at_scale",
    "fault_proxy": "deployments.bench.fault_proxy",
    "intake_throughput": "deployments.bench.intake_throughput",
    "intake_memory": "deployments.bench.intake_memory",
    "drift_check": "deployments.bench.drift_check",
    "drift_parity": "deployments.bench.drift_parity",
    "dsr_erasure": "deployments.bench.dsr_erasure",
    "schedule_latency": "deployments.bench.schedule_latency",
    "worker_footprint": "deployments.bench.worker_footprint",
    "status_page": "deployments.bench.status_page",
    "prometheus_sli": "deployments.bench.prometheus_sli",
}


@dataclass(frozen=True)
class Measurement:
    """One workload's figures.

    ``ratio`` is ours relative to the reference in the direction where higher is better
    (throughput: ours / reference; durations: reference / ours). ``target`` is a human-readable
    statement; ``met`` says whether it was reached (with ``quick``, ratio targets only).
    """

    workload: str
    ours: float
    reference: float
    unit: str
    ratio: float
    target: str
    met: bool
    note: str = ""


def run_workloads(names: Iterable[str], quick: bool) -> list[Measurement]:
    results: list[Measurement] = []
    for name in names:
        module = importlib.import_module(WORKLOADS[name])
        runner: Callable[[bool], list[Measurement]] = module.run
        results.extend(runner(quick))
    return results


def format_table(results: list[Measurement]) -> str:
    header = ("workload", "ours", "reference", "unit", "ratio", "target", "met")
    rows = [
        (
            m.workload,
            f"{m.ours:,.3f}",
            f"{m.reference:,.3f}",
            m.unit,
            f"{m.ratio:,.1f}x",
            m.target,
            "yes" if m.met else "NO",
        )
        for m in results
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"- {m.workload}: {m.note}" for m in results if m.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def write_json(results: list[Measurement], path: Path) -> None:
    keys = ("workload", "ours", "reference", "unit", "ratio", "target", "met")
    payload = [{k: asdict(m)[k] for k in keys} for m in results]
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
