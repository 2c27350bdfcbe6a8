"""The example checks in deployments/checks against the sample shop they were written for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.sandbox.sample_service.server import SampleService
from tasks.probes.http import ProbeResult
from tasks.probes.loader import load_checks
from tasks.probes.runner import run_any_checks
from tests.probes.helpers import SLOT
from tests.services import require_chromium

OK = ("pass", "degraded")  # a loaded machine can make a check slow enough to be degraded
EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "checks"


@pytest.fixture(scope="module")
def shop() -> Iterator[SampleService]:
    with SampleService() as service:
        yield service


@pytest.fixture(params=["api", "browser"])
def examples(request: pytest.FixtureRequest) -> list[Any]:
    """The example checks of one kind: API ones (HTTP, multi-step, TCP) or browser ones."""
    if request.param == "browser":
        require_chromium()
    checks = load_checks([EXAMPLES])
    chosen = [c for c in checks if (c.type == "browser") == (request.param == "browser")]
    assert chosen, f"no {request.param} example in {EXAMPLES}"
    return chosen


def run(checks: list[Any], shop: SampleService) -> list[ProbeResult]:
    """Every example type (HTTP, multi-step, TCP, browser) through the mixed-batch runner."""
    env = {"SAMPLE_URL": shop.url, "SAMPLE_HOST": shop.host, "SAMPLE_PORT": str(shop.port)}
    return asyncio.run(run_any_checks(checks, "eu-west-1", SLOT, env=env))


def test_examples_pass_against_a_healthy_shop(shop: SampleService, examples: list[Any]) -> None:
    shop.set_faults()
    results = run(examples, shop)
    # a loaded machine can make a check slow enough to be degraded; none may fail
    failed = {r.check_id: r.error for r in results if r.verdict not in OK}
    assert not failed


def test_examples_see_a_slow_shop_as_degraded(shop: SampleService) -> None:
    shop.set_faults(latency_ms=600)
    try:
        checks = [c for c in load_checks([EXAMPLES]) if c.id == "shop-health"]
        (result,) = run(checks, shop)
    finally:
        shop.set_faults()
    assert result.verdict == "degraded"  # 600 ms >= degraded_ms 500, < failed_ms 2000


def test_examples_fail_when_the_shop_errors(shop: SampleService, examples: list[Any]) -> None:
    shop.set_faults(error_rate=1.0)
    try:
        results = run(examples, shop)
    finally:
        shop.set_faults()
    # A TCP connect still succeeds while the shop answers 503 to every request.
    assert {r.verdict for r in results if r.check_id != "shop-port"} == {"fail"}
    if examples[0].type != "browser":
        # it connects (a busy test process may take over degraded_ms 100 to accept)
        assert next(r for r in results if r.check_id == "shop-port").verdict in OK
        journey = next(r for r in results if r.check_id == "shop-order-journey")
        assert journey.failing_step == "log in" and journey.status_code == 503
