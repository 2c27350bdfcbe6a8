"""Benchmark ``prometheus_sli``: 100 Prometheus-backed SLOs over 30 days, read and evaluated.

Ours: every SLO's good and total PromQL queries read with ``query_range`` from a local Prometheus
(loaded beforehand with 30 days of request counters through ``promtool``), turned into events and
evaluated (:class:`~tasks.slo.prometheus.PrometheusReader`, then the engine). Reference: the same
SLOs with the same events already in memory, evaluated by the engine alone: what Traceo costs
without the reads. The verdicts (SLI, budget, burn rates, firing alerts) must be equal. The SLOs
use 5-minute slots (``traceo.dev/slot: 5m``), so a 30-day query is one request of 8,640 steps.
Loading Prometheus is not timed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

from deployments.bench import Measurement
from deployments.bench.local_prometheus import LocalPrometheus, Series, write_openmetrics
from tasks.slo.definition import Indicator, PrometheusSli, PromQuery, SloDefinition
from tasks.slo.evaluate import evaluate_slos
from tasks.slo.events import Events
from tasks.slo.prometheus import REGION, PrometheusReader
from tasks.slo.source import lookback_start

__all__ = ["run"]

NOW = datetime(2026, 11, 2, tzinfo=UTC)
SLOT = 300
PROMETHEUS = os.environ.get("TRACEO_TEST_PROMETHEUS", "/usr/bin/prometheus")
TARGET_SECONDS = 10.0


def _slos(n: int) -> list[SloDefinition]:
    def query(i: int, part: str, selector: str) -> PromQuery:
        promql = f"sum(increase(requests_total{{slo='{i}'{selector}}}[5m]))"
        return PromQuery(promql, "bench.yaml", f"SLO s{i}", f"ratioMetric.{part}")

    return [
        SloDefinition(
            id=f"s{i}",
            service="bench",
            indicator=Indicator(
                name=f"s{i}",
                prometheus=PrometheusSli(
                    total=query(i, "total", ""), good=query(i, "good", ",code='200'")
                ),
            ),
            target=0.999,
            slot_seconds=SLOT,
        )
        for i in range(n)
    ]


def _traffic(n: int, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """Requests and errors per SLO and slot; every fifth SLO has an outage in its last hour."""
    rng = np.random.default_rng(20261102)
    total = rng.integers(50, 150, (n, slots))
    bad = rng.binomial(total, 0.0005)
    bad[::5, -12:] = total[::5, -12:] // 4
    return total, bad


def _series(total: np.ndarray, bad: np.ndarray, first: int) -> list[Series]:
    at = first + SLOT * np.arange(total.shape[1] + 1, dtype=np.int64)

    def counter(per_slot: np.ndarray) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(per_slot)]).astype(np.float64)

    series: list[Series] = []
    for i in range(total.shape[0]):
        series.append(
            ("requests_total", {"slo": str(i), "code": "200"}, at, counter(total[i] - bad[i]))
        )
        series.append(("requests_total", {"slo": str(i), "code": "500"}, at, counter(bad[i])))
    return series


def _events(total: np.ndarray, bad: np.ndarray, first: int) -> list[Events]:
    starts = first + SLOT * np.arange(total.shape[1], dtype=np.int64)
    out = []
    for t, b in zip(total, bad, strict=True):
        weight = np.concatenate([t - b, b])
        keep = weight > 0
        out.append(
            Events(
                np.concatenate([starts, starts])[keep],
                np.zeros(int(keep.sum()), np.intp),
                np.repeat([True, False], len(starts))[keep],
                (REGION,),
                weight[keep].astype(np.int64),
            )
        )
    return out


def run(quick: bool) -> list[Measurement]:
    binary = shutil.which(PROMETHEUS)
    if binary is None:
        raise RuntimeError(f"{PROMETHEUS} is missing: apt-get install prometheus")
    n = 20 if quick else 100
    slos = _slos(n)
    now = int(NOW.timestamp())
    start = lookback_start(slos, now)
    first = (start // SLOT + 1) * SLOT - SLOT  # the first slot the reader asks for
    total, bad = _traffic(n, (now - first) // SLOT)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_openmetrics(directory / "series.om", _series(total, bad, first))
        with (
            LocalPrometheus(binary, directory / "series.om", directory) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            reader = PrometheusReader(client)
            began = time.perf_counter()
            ours = evaluate_slos(slos, [reader.events(s, start, now) for s in slos], NOW)
            ours_seconds = time.perf_counter() - began
    events = _events(total, bad, first)
    began = time.perf_counter()
    reference = evaluate_slos(slos, events, NOW)
    reference_seconds = time.perf_counter() - began
    same = ours == reference
    firing = sum(1 for r in ours for a in r.firing)
    return [
        Measurement(
            workload="prometheus_sli",
            ours=ours_seconds,
            reference=reference_seconds,
            unit="s",
            ratio=reference_seconds / ours_seconds,
            target=f"{n} SLOs x 30 days < {TARGET_SECONDS:.0f} s, same verdicts",
            met=same and ours_seconds < TARGET_SECONDS,
            note=f"reference: engine on in-memory events; verdicts equal: {same}; "
            f"{firing} alerts firing",
        )
    ]
