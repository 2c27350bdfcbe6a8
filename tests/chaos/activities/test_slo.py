"""SLO-backed probes read the store plus the run's own tagged results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chaoslib.exceptions import ActivityFailed

from tasks.chaos.activities import slo as probes
from tasks.chaos.context import RUN_ID_KEY, RunContext, register, unregister
from tasks.chaos.records import create_run, record_check_results
from tasks.errors import NotFoundError
from tasks.probes.http import ProbeResult
from tasks.store import get_engine
from tasks.store.check_results import upsert_check_results
from tests.chaos.experiments import SLO, specs_fixture  # noqa: F401


def _result(check: str, seconds_ago: float, verdict: str = "pass", ms: float = 50.0) -> ProbeResult:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return ProbeResult(check, "chaos", at, at, verdict, ms, 200, None, None, 1, {}, None)  # type: ignore[arg-type]


@pytest.fixture
def config(specs):
    return {"checks_path": str(specs / "checks.yaml"), "slos_path": str(specs / "slos.yaml")}


@pytest.fixture
def run(config):
    """A registered run whose configuration the probes receive."""
    engine = get_engine()
    create_run(engine, "run-1", "t", "f.yaml", "shop-api")
    context = RunContext("run-1", engine, "shop-api", {})
    register(context)
    yield {**config, RUN_ID_KEY: "run-1"}
    unregister("run-1")


def test_burn_rate_counts_store_and_run_results_in_the_window(config, run):
    # Store: 4 fast results; run: 4 slow ones (over the 200 ms SLO); one old slow result.
    upsert_check_results(get_engine(), [_result("shop-products-list", s) for s in (1, 2, 3, 4)])
    record_check_results(
        get_engine(), "run-1", [_result("shop-products-list", s, ms=900) for s in (1, 2, 3, 4)]
    )
    upsert_check_results(get_engine(), [_result("shop-products-list", 100, ms=900)])

    # half the events bad, 5% budget: burn 10; outside the run only the store counts
    assert probes.slo_burn_rate(SLO, window_seconds=30, configuration=run) == 10.0
    assert probes.slo_burn_rate(SLO, window_seconds=30, configuration=config) == 0.0
    assert probes.slo_burn_rate(SLO, window_seconds=200, configuration=config) == 4.0


def test_burn_rate_without_events_is_zero(config):
    assert probes.slo_burn_rate(SLO, window_seconds=30, configuration=config) == 0.0


def test_budget_remaining_over_the_slo_window(config):
    results = [_result("shop-products-list", s) for s in range(1, 20)]
    results.append(_result("shop-products-list", 30, ms=900))
    upsert_check_results(get_engine(), results)
    # 20 events, 5% budget = 1 bad event allowed; one spent
    assert probes.slo_budget_remaining(SLO, configuration=config) == pytest.approx(0.0)


def test_budget_without_data_fails_the_probe(config):
    with pytest.raises(ActivityFailed, match="no data"):
        probes.slo_budget_remaining(SLO, configuration=config)


def test_unknown_slo_is_not_found(config):
    with pytest.raises(NotFoundError, match="SLO 'nope' not found"):
        probes.slo_burn_rate("nope", configuration=config)


def test_verdict_is_the_latest_result_of_the_check(config, run):
    upsert_check_results(get_engine(), [_result("shop-health", 5, "fail")])
    assert probes.check_verdict("shop-health", 30, configuration=run) == "fail"
    assert probes.check_passing("shop-health", 30, configuration=run) is False
    record_check_results(get_engine(), "run-1", [_result("shop-health", 1, "degraded")])
    assert probes.check_verdict("shop-health", 30, configuration=run) == "degraded"
    assert probes.check_passing("shop-health", 30, configuration=run) is True
    with pytest.raises(ActivityFailed, match="no result in the last 2 s"):
        probes.check_verdict("shop-health", 2, configuration=config)


def test_latency_percentile_over_the_last_seconds(config, run):
    durations = [10.0 * i for i in range(1, 11)]  # 10..100 ms
    record_check_results(
        get_engine(), "run-1", [_result("shop-products-list", 1, ms=d) for d in durations]
    )
    upsert_check_results(get_engine(), [_result("shop-products-list", 120, ms=5000)])

    p90 = probes.check_latency_percentile("shop-products-list", 90, 60, configuration=run)

    assert p90 == pytest.approx(91.0)
    with pytest.raises(ActivityFailed, match="no timed result"):
        probes.check_latency_percentile("shop-health", 95, 60, configuration=run)
