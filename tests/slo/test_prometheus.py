"""SLIs read from a real Prometheus give Traceo's own verdicts for the same events.

The series are loaded with ``promtool tsdb create-blocks-from openmetrics``; the same events are
fed as check results through Traceo's own path (select_events, then the engine), and the reports
must be equal: SLI, budget, burn rates, firing alerts, absent data.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner

from deployments.bench.local_prometheus import LocalPrometheus, Series, write_openmetrics
from deployments.cli import main
from tasks.errors import (
    ConfigurationError,
    ServiceUnavailableError,
    SpecError,
    ThrottledError,
)
from tasks.settings import get_settings
from tasks.slo.definition import Indicator, SloDefinition
from tasks.slo.evaluate import evaluate_results, evaluate_slos
from tasks.slo.events import CheckResults
from tasks.slo.loader import load_slos_from_text
from tasks.slo.prometheus import REGION, PrometheusReader
from tasks.slo.source import evaluate_specs, lookback_start
from tasks.store import get_engine
from tests.services import require_prometheus

NOW = datetime(2026, 11, 2, tzinfo=UTC)
T = int(NOW.timestamp())
MINUTES = 2 * 24 * 60
# Slot starts of the last two days, oldest first; the slot of ``now`` itself stays empty.
SLOTS = T - 60 * np.arange(MINUTES, 0, -1, dtype=np.int64)
RNG = np.random.default_rng(20)
TOTAL = RNG.integers(5, 15, MINUTES)
BAD = np.where(RNG.random(MINUTES) < 0.02, 1, 0)
BAD[-50:] = TOTAL[-50:] // 2  # the last 50 minutes: an outage that pages
LATENCY = RNG.gamma(4.0, 50.0, MINUTES).round(1)


def _counter(per_slot: np.ndarray) -> np.ndarray:
    """Counter values at each slot's end, then at the first slot's start (0)."""
    return np.concatenate([[0], np.cumsum(per_slot)]).astype(np.float64)


def _series() -> list[Series]:
    at = np.concatenate([SLOTS[:1], SLOTS + 60])  # sampled at every slot boundary
    return [
        ("requests_total", {"code": "200"}, at, _counter(TOTAL - BAD)),
        ("requests_total", {"code": "500"}, at, _counter(BAD)),
        ("latency_ms", {}, SLOTS + 60, LATENCY.astype(np.float64)),
    ]


def _prom(source: str) -> str:
    return "{metricSource: {type: prometheus, spec: {query: '" + source + "'}}}"


def _slo(name: str, indicator: str, objective: str = "target: 0.99") -> str:
    return textwrap.dedent(f"""\
        apiVersion: openslo/v1
        kind: SLO
        metadata: {{name: {name}}}
        spec:
          service: shop-api
          timeWindow: [{{duration: 7d, isRolling: true}}]
          budgetingMethod: Occurrences
          objectives: [{{{objective}}}]
          indicator:
            metadata: {{name: {name}-sli}}
            spec:
        """) + textwrap.indent(textwrap.dedent(indicator), "      ")


GOOD = 'sum(increase(requests_total{code!~"5.."}[1m]))'
ALL = "sum(increase(requests_total[1m]))"
ERRORS = 'sum(increase(requests_total{code=~"5.."}[1m]))'
SLOS = "---\n".join(
    [
        _slo("avail-good", f"ratioMetric:\n  good: {_prom(GOOD)}\n  total: {_prom(ALL)}\n"),
        _slo("avail-bad", f"ratioMetric:\n  bad: {_prom(ERRORS)}\n  total: {_prom(ALL)}\n"),
        _slo(
            "latency",
            f"thresholdMetric: {_prom('latency_ms')}\n",
            "target: 0.9, op: lte, value: 300",
        ),
        _slo("silent", f"ratioMetric:\n  good: {_prom('nothing')}\n  total: {_prom('nothing')}\n"),
    ]
)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPrometheus]:
    binary = require_prometheus()
    directory = tmp_path_factory.mktemp("prometheus")
    write_openmetrics(directory / "series.om", _series())
    with LocalPrometheus(binary, directory / "series.om", directory) as server:
        yield server


def _check_results() -> CheckResults:
    """The same events as check results of one check, one row per event."""
    counts = np.concatenate([TOTAL - BAD, BAD, np.ones(MINUTES, np.int64)])
    starts = np.tile(SLOTS, 3)
    kinds = np.repeat(np.array(["ok", "bad", "latency"], dtype=object), MINUTES)
    kind = np.repeat(kinds, counts)
    return CheckResults(
        np.where(kind == "latency", "shop-latency", "shop-health").astype(object),
        np.full(len(kind), REGION, dtype=object),
        np.repeat(starts, counts),
        np.where(kind == "bad", "fail", "pass").astype(object),
        np.where(kind == "latency", np.repeat(np.tile(LATENCY, 3), counts), np.nan),
    )


def _as_traceo(slo: SloDefinition) -> SloDefinition:
    checks = {"latency": "shop-latency", "silent": "shop-silent"}
    check = checks.get(slo.id, "shop-health")
    own = Indicator(
        name=slo.indicator.name,
        checks=(check,),
        latency_op=slo.indicator.latency_op,
        latency_ms=slo.indicator.latency_ms,
    )
    return dataclasses.replace(slo, indicator=own)


def test_prometheus_slis_give_the_verdicts_of_the_same_events_in_traceo(prometheus) -> None:  # type: ignore[no-untyped-def]
    slos = load_slos_from_text(SLOS, "prometheus.yaml")
    with httpx.Client(base_url=prometheus.url) as client:
        reader = PrometheusReader(client)
        start = lookback_start(slos, T)
        from_prometheus = evaluate_slos(slos, [reader.events(s, start, T) for s in slos], NOW)
    own = evaluate_results([_as_traceo(s) for s in slos], _check_results(), NOW)

    assert from_prometheus == own
    reports = {r.slo_id: r for r in from_prometheus}
    assert reports["avail-good"].events == int(TOTAL.sum())
    assert [a.key for a in reports["avail-good"].firing] == [
        a.key for a in reports["avail-bad"].firing
    ]
    assert "page:1h/5m" in [a.key for a in reports["avail-good"].firing]
    assert reports["latency"].events == MINUTES
    assert [a.key for a in reports["silent"].firing] == ["no-data"]


def test_the_slo_job_reads_prometheus_at_the_url_in_the_settings(  # type: ignore[no-untyped-def]
    prometheus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "slos.yaml").write_text(SLOS, encoding="utf-8")
    checks = Path(__file__).resolve().parents[2] / "deployments" / "checks"
    with pytest.raises(ConfigurationError, match="set TRACEO_PROMETHEUS_BLOCK or TRACEO_PROM"):
        evaluate_specs(get_engine(), tmp_path / "slos", checks, NOW)
    monkeypatch.setenv("TRACEO_PROMETHEUS_URL", prometheus.url)
    get_settings.cache_clear()

    reports = evaluate_specs(get_engine(), tmp_path / "slos", checks, NOW)

    slos = load_slos_from_text(SLOS, str(tmp_path / "slos" / "slos.yaml"))
    own = evaluate_results([_as_traceo(s) for s in slos], _check_results(), NOW)
    assert reports == own


def test_a_query_prometheus_rejects_names_file_slo_field_and_message(prometheus) -> None:  # type: ignore[no-untyped-def]
    broken = _slo("broken", f"ratioMetric:\n  good: {_prom('sum(')}\n  total: {_prom(ALL)}\n")
    (slo,) = load_slos_from_text(broken, "broken.yaml")
    with httpx.Client(base_url=prometheus.url) as client, pytest.raises(SpecError) as info:
        PrometheusReader(client).events(slo, T - 3600, T)

    (issue,) = info.value.issues
    assert issue.file == "broken.yaml" and issue.item == "SLO broken"
    assert issue.field == "spec.indicator.spec.ratioMetric.good.metricSource.spec.query"
    assert issue.reason.startswith("Prometheus rejected the query of SLO broken: ")
    assert "parse error" in issue.reason


def test_a_prometheus_that_is_down_is_unavailable_and_named_without_secrets() -> None:
    (slo,) = load_slos_from_text(SLOS.split("---\n")[0], "prometheus.yaml")
    client = httpx.Client(base_url="http://scraper:hunter2@127.0.0.1:9/prom?token=hunter2")
    with client, pytest.raises(ServiceUnavailableError) as info:
        PrometheusReader(client).events(slo, T - 3600, T)

    assert str(info.value) == "Prometheus at http://127.0.0.1:9/prom is unreachable (ConnectError)"


def test_slo_validate_accepts_prometheus_slis(tmp_path: Path) -> None:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "slos.yaml").write_text(SLOS, encoding="utf-8")

    result = CliRunner().invoke(main, ["slo", "validate", str(tmp_path / "slos")])

    assert result.exit_code == 0, result.output
    assert "OK: 4 SLO objective(s) in 1 file(s)" in result.output


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (503, "", ServiceUnavailableError, "Prometheus at http://127.0.0.1:9090 answered HTTP 503"),
        (429, "", ThrottledError, "Prometheus at http://127.0.0.1:9090 asked to slow down"),
        (401, "", ConfigurationError, "refused the credentials (HTTP 401); check its block"),
        (200, "<html>", ConfigurationError, "did not answer as a Prometheus query API"),
    ],
)
def test_failing_answers_are_classified_for_retries(status, body, error, message) -> None:  # type: ignore[no-untyped-def]
    (slo,) = load_slos_from_text(SLOS.split("---\n")[0], "prometheus.yaml")
    transport = httpx.MockTransport(lambda request: httpx.Response(status, text=body))
    client = httpx.Client(base_url="http://127.0.0.1:9090", transport=transport)
    with client, pytest.raises(error, match=re.escape(message)):
        PrometheusReader(client).events(slo, T - 3600, T)


def test_prometheus_metric_sources_must_not_mix_with_traceo_ones() -> None:
    mixed = _slo(
        "mixed",
        f"ratioMetric:\n  good: {_prom(GOOD)}\n"
        "  total: {metricSource: {type: traceo, spec: {checks: [shop-health]}}}\n",
    )
    with pytest.raises(SpecError) as info:
        load_slos_from_text(mixed, "mixed.yaml")

    assert [str(i) for i in info.value.issues] == [
        "mixed.yaml: SLO mixed: spec.indicator.spec.ratioMetric.good.metricSource.spec: "
        "must use the same metric source type as total"
    ]


def test_a_prometheus_source_needs_a_query(tmp_path: Path) -> None:
    empty = _slo(
        "empty",
        "ratioMetric:\n  good: {metricSource: {type: prometheus, spec: {}}}\n"
        f"  total: {_prom(ALL)}\n",
    )
    with pytest.raises(SpecError) as info:
        load_slos_from_text(empty, "empty.yaml")

    assert [i.field for i in info.value.issues] == [
        "spec.indicator.spec.ratioMetric.good.metricSource.spec.query"
    ]
