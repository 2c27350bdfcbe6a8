from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from tasks.probes.retries import MAX_DELAY_SECONDS, backoff_delay, should_retry
from tasks.probes.spec import RetrySpec
from tests.probes.helpers import http_check, run_one


def retry(**fields: object) -> RetrySpec:
    return RetrySpec.model_validate(fields)


@pytest.mark.parametrize(
    ("strategy", "delays"),
    [
        ("none", [0.0, 0.0, 0.0]),
        ("fixed", [2.0, 2.0, 2.0]),
        ("linear", [2.0, 4.0, 6.0]),
        ("exponential", [2.0, 4.0, 8.0]),
    ],
)
def test_backoff_delays(strategy: str, delays: list[float]) -> None:
    spec = retry(strategy=strategy, backoff_seconds=2)
    assert [backoff_delay(spec, n) for n in (1, 2, 3)] == delays


def test_backoff_is_capped() -> None:
    spec = retry(strategy="exponential", backoff_seconds=30, max_attempts=10)
    assert backoff_delay(spec, 9) == MAX_DELAY_SECONDS


class _Outcome:
    def __init__(self, verdict: str, network_error: bool = False) -> None:
        self.verdict, self.network_error = verdict, network_error


@pytest.mark.parametrize(
    ("spec", "outcome", "number", "expected"),
    [
        ({"strategy": "fixed", "max_attempts": 3}, _Outcome("fail", True), 1, True),
        ({"strategy": "fixed", "max_attempts": 3}, _Outcome("fail", True), 3, False),
        ({"strategy": "fixed", "max_attempts": 3}, _Outcome("fail", False), 1, False),
        ({"strategy": "fixed", "on": "any_failure"}, _Outcome("fail", False), 1, True),
        ({"strategy": "fixed", "on": "any_failure"}, _Outcome("error"), 1, False),
        ({"strategy": "fixed", "on": "any_failure"}, _Outcome("degraded"), 1, False),
        ({"strategy": "none"}, _Outcome("fail", True), 1, False),
    ],
)
def test_should_retry(spec: dict, outcome: _Outcome, number: int, expected: bool) -> None:
    assert should_retry(retry(**spec), outcome, number) is expected


def scripted(*steps: str) -> tuple[httpx.MockTransport, list[str]]:
    """A transport that plays ``steps`` in order: "net" raises ConnectError, else a status."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        step = steps[min(len(calls), len(steps) - 1)]
        calls.append(step)
        if step == "net":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(int(step), json={"status": "UP" if step == "200" else "DOWN"})

    return httpx.MockTransport(handler), calls


STATUS_200 = [{"source": "status_code", "operator": "equals", "target": 200}]


def _gaps(result_detail: dict) -> list[float]:
    starts = [datetime.fromisoformat(a["started_at"]) for a in result_detail["attempts"]]
    return [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]


@pytest.mark.parametrize(
    ("strategy", "min_gaps"),
    [("fixed", [0.05, 0.05]), ("linear", [0.05, 0.1]), ("exponential", [0.05, 0.1])],
)
def test_network_errors_are_retried_with_backoff_and_every_attempt_recorded(
    strategy: str, min_gaps: list[float]
) -> None:
    transport, calls = scripted("net", "net", "200")
    check = http_check(
        "http://svc.test/health",
        STATUS_200,
        retry={"strategy": strategy, "max_attempts": 3, "backoff_seconds": 0.05},
    )
    result = run_one(check, transport=transport)
    assert calls == ["net", "net", "200"]
    assert result.verdict == "pass" and result.attempts == 3 and result.error is None
    attempts = result.detail["attempts"]
    assert [a["number"] for a in attempts] == [1, 2, 3]
    assert [a["verdict"] for a in attempts] == ["fail", "fail", "pass"]
    assert "ConnectError" in attempts[0]["error"]
    assert all(a["duration_ms"] is not None for a in attempts)
    # each wait is at least its backoff (a floor: a loaded machine only adds to it); the
    # schedule itself is tested without a clock in test_backoff_delays
    gaps = _gaps(result.detail)
    assert all(gap >= want * 0.95 for gap, want in zip(gaps, min_gaps, strict=True)), gaps


def test_exhausted_retries_end_with_an_explicit_fail() -> None:
    transport, calls = scripted("net")
    check = http_check(
        "http://svc.test/",
        STATUS_200,
        retry={"strategy": "fixed", "max_attempts": 4, "backoff_seconds": 0.001},
    )
    result = run_one(check, transport=transport)
    assert len(calls) == 4 and result.attempts == 4
    assert result.verdict == "fail" and "ConnectError" in (result.error or "")
    assert [a["verdict"] for a in result.detail["attempts"]] == ["fail"] * 4


def test_failed_assertions_are_not_retried_by_default() -> None:
    transport, calls = scripted("503", "200")
    check = http_check(
        "http://svc.test/", STATUS_200, retry={"strategy": "fixed", "backoff_seconds": 0}
    )
    result = run_one(check, transport=transport)
    assert calls == ["503"]
    assert result.verdict == "fail" and result.attempts == 1 and result.status_code == 503
    assert "status_code equals 200" in (result.error or "")


def test_any_failure_retries_failed_assertions() -> None:
    transport, calls = scripted("503", "200")
    check = http_check(
        "http://svc.test/",
        STATUS_200,
        retry={"strategy": "linear", "backoff_seconds": 0, "on": "any_failure"},
    )
    result = run_one(check, transport=transport)
    assert calls == ["503", "200"]
    assert result.verdict == "pass" and result.attempts == 2
    assert result.detail["attempts"][0]["status_code"] == 503


def test_no_strategy_means_one_attempt_even_on_network_errors() -> None:
    transport, calls = scripted("net", "200")
    result = run_one(http_check("http://svc.test/", STATUS_200), transport=transport)
    assert calls == ["net"] and result.verdict == "fail" and result.attempts == 1


def test_probe_errors_are_not_retried() -> None:
    transport, calls = scripted("200")
    check = http_check(
        "${MISSING_BASE}/x",
        STATUS_200,
        retry={"strategy": "fixed", "on": "any_failure", "backoff_seconds": 0},
    )
    result = run_one(check, transport=transport, env={})
    assert calls == [] and result.verdict == "error" and result.attempts == 1
    assert "MISSING_BASE" in (result.error or "")


def test_retry_spec_attempt_defaults() -> None:
    assert retry().max_attempts == 1
    assert retry(strategy="fixed").max_attempts == 2
    make: Callable[..., RetrySpec] = retry
    assert make(strategy="exponential", max_attempts=5).max_attempts == 5
