"""The example checks in deployments/checks against the sample shop they were written for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.sandbox.sample_service.server import SampleService
from tasks.probes.loader import load_checks
from tests.probes.helpers import run

EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "checks"


@pytest.fixture(scope="module")
def shop() -> Iterator[SampleService]:
    with SampleService() as service:
        yield service


def test_examples_pass_against_a_healthy_shop(shop: SampleService) -> None:
    shop.set_faults()
    results = run(load_checks([EXAMPLES]), env={"SAMPLE_URL": shop.url})
    failed = {r.check_id: r.error for r in results if r.verdict != "pass"}
    assert not failed


def test_examples_see_a_slow_shop_as_degraded(shop: SampleService) -> None:
    shop.set_faults(latency_ms=600)
    try:
        checks = [c for c in load_checks([EXAMPLES]) if c.id == "shop-health"]
        (result,) = run(checks, env={"SAMPLE_URL": shop.url})
    finally:
        shop.set_faults()
    assert result.verdict == "degraded"  # 600 ms >= degraded_ms 500, < failed_ms 2000


def test_examples_fail_when_the_shop_errors(shop: SampleService) -> None:
    shop.set_faults(error_rate=1.0)
    try:
        results = run(load_checks([EXAMPLES]), env={"SAMPLE_URL": shop.url})
    finally:
        shop.set_faults()
    assert {r.verdict for r in results} == {"fail"}
    journey = next(r for r in results if r.check_id == "shop-order-journey")
    assert journey.failing_step == "log in" and journey.status_code == 503
