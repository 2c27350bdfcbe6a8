from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import datetime

import httpx
import pytest

from tasks.probes.http import count_verdicts, run_checks, run_checks_sync
from tests.probes.helpers import SLOT, http_check, multistep_check, run, run_one
from tests.probes.server import PASSWORD

STATUS_200 = [{"source": "status_code", "operator": "equals", "target": 200}]


def dump(result: object) -> str:
    return json.dumps(asdict(result), default=str)  # type: ignore[call-overload]


def test_passing_check_records_status_timings_and_assertions(target: str) -> None:
    check = http_check(
        "${BASE}/json",
        [
            *STATUS_200,
            {
                "source": "json_body",
                "property": "$.items[1].name",
                "operator": "equals",
                "target": "beta",
            },
        ],
    )
    result = run_one(check, env={"BASE": target})
    assert result.verdict == "pass" and result.error is None and result.failing_step is None
    assert (result.check_id, result.region, result.scheduled_at) == ("check-1", "eu-west-1", SLOT)
    assert result.status_code == 200 and result.attempts == 1
    assert result.started_at.tzinfo is not None and result.duration_ms is not None
    (step,) = result.detail["steps"]
    assert step["url"] == "${BASE}/json"  # the template, never the expanded value
    timings = step["timings"]
    assert timings["connect"] is not None and timings["connect"] >= 0
    assert timings["dns"] == 0.0  # an IP literal: no resolution
    assert timings["tls"] is None  # plain HTTP
    assert timings["ttfb"] > 0 and timings["transfer"] is not None
    assert timings["total"] >= timings["ttfb"]
    assert result.detail["timings"]["total"] == pytest.approx(result.duration_ms, abs=0.01)
    assert [a["passed"] for a in step["assertions"]] == [True, True]
    assert step["assertions"][1]["actual"] == "beta"


def test_check_without_assertions_passes_on_success_and_fails_on_server_error(target: str) -> None:
    ok, broken = run(
        [http_check(f"{target}/json", id="ok"), http_check(f"{target}/status/500", id="broken")]
    )
    assert ok.verdict == "pass"
    assert broken.verdict == "fail" and "status_code less_than 400" in (broken.error or "")


def test_slow_response_is_degraded_not_failed(target: str) -> None:
    check = http_check(f"{target}/slow?ms=150", STATUS_200, degraded_ms=100, failed_ms=3000)
    result = run_one(check)
    assert result.verdict == "degraded" and result.error is None
    assert result.duration_ms is not None and result.duration_ms >= 100
    assert "degraded_ms 100" in result.detail["reason"]


def test_very_slow_response_fails(target: str) -> None:
    check = http_check(f"{target}/slow?ms=150", STATUS_200, degraded_ms=20, failed_ms=100)
    result = run_one(check)
    assert result.verdict == "fail" and "failed_ms 100" in (result.error or "")


def test_failed_assertion_wins_over_slowness(target: str) -> None:
    check = http_check(f"{target}/status/503", STATUS_200, degraded_ms=1, failed_ms=10_000)
    result = run_one(check)
    assert result.verdict == "fail" and result.status_code == 503


def test_connection_refused_is_a_network_failure(closed_port_url: str) -> None:
    result = run_one(http_check(f"{closed_port_url}/x", STATUS_200))
    assert result.verdict == "fail" and "ConnectError" in (result.error or "")
    assert result.status_code is None and result.duration_ms is not None


def test_a_slow_target_times_out_without_stalling_the_batch(target: str) -> None:
    # the target holds this answer until the test releases it: no clock decides the outcome
    slow = http_check(
        f"{target}/hold/batch", STATUS_200, id="slow", request={"timeout_seconds": 0.3}
    )
    fast = [http_check(f"{target}/json", STATUS_200, id=f"fast-{i}") for i in range(40)]
    results = run([slow, *fast], concurrency=4, per_client=2)
    waiting = httpx.post(f"{target}/hold/batch/release", timeout=5).json()["waiting"]
    assert results[0].verdict == "fail"
    assert "timed out" in (results[0].error or "") or "Timeout" in (results[0].error or "")
    assert all(r.verdict == "pass" for r in results[1:])
    assert waiting == 1  # the batch was done while the slow answer was still held back


def test_one_bad_check_never_fails_the_batch(target: str, closed_port_url: str) -> None:
    checks = [
        http_check(f"{target}/json", STATUS_200, id="good"),
        http_check(f"{target}/status/404", STATUS_200, id="wrong-status"),
        http_check("${NOT_SET}/json", STATUS_200, id="no-env"),
        http_check(f"{closed_port_url}/", STATUS_200, id="refused"),
    ]
    results = run(checks)
    assert [r.check_id for r in results] == ["good", "wrong-status", "no-env", "refused"]
    assert [r.verdict for r in results] == ["pass", "fail", "error", "fail"]
    assert count_verdicts(results) == {"pass": 1, "degraded": 0, "fail": 2, "error": 1}
    assert "environment variable NOT_SET is not set" in (results[2].error or "")
    assert results[2].duration_ms is None  # no request was sent


def test_requests_carry_method_headers_query_and_bodies(target: str) -> None:
    json_check = http_check(
        f"{target}/echo",
        id="json",
        request={
            "method": "post",
            "json": {"n": 1, "who": "${WHO:-x}"},
            "query": {"page": 2},
            "headers": {"X-Team": "${TEAM}"},
        },
    )
    text_check = http_check(
        f"{target}/echo", id="text", request={"method": "PUT", "body": "plain ${WHO:-x}"}
    )
    results = run([json_check, text_check], env={"TEAM": "sre", "WHO": "probe"})
    assert [r.verdict for r in results] == ["pass", "pass"]
    # the echo is checked through assertions, so the engine's view of the body is tested too
    echoed = run_one(
        http_check(
            f"{target}/echo",
            [
                {
                    "source": "json_body",
                    "property": "$.headers.x-team",
                    "operator": "equals",
                    "target": "sre",
                },
                {
                    "source": "json_body",
                    "property": "$.query.page",
                    "operator": "equals",
                    "target": "2",
                },
                {
                    "source": "json_body",
                    "property": "$.body",
                    "operator": "equals",
                    "target": '{"n":1,"who":"probe"}',
                },
                {
                    "source": "json_body",
                    "property": "$.headers.content-type",
                    "operator": "equals",
                    "target": "application/json",
                },
                {
                    "source": "json_body",
                    "property": "$.method",
                    "operator": "equals",
                    "target": "POST",
                },
            ],
            request={
                "method": "POST",
                "json": {"n": 1, "who": "${WHO:-x}"},
                "query": {"page": 2},
                "headers": {"X-Team": "${TEAM}"},
            },
        ),
        env={"TEAM": "sre", "WHO": "probe"},
    )
    assert echoed.verdict == "pass", echoed.error


def test_redirects_are_followed_unless_disabled(target: str) -> None:
    followed, kept = run(
        [
            http_check(f"{target}/redirect", STATUS_200, id="follow"),
            http_check(
                f"{target}/redirect",
                [{"source": "status_code", "operator": "equals", "target": 302}],
                id="no-follow",
                request={"follow_redirects": False},
            ),
        ]
    )
    assert followed.verdict == "pass" and followed.detail["steps"][0]["redirects"] == 1
    assert kept.verdict == "pass" and kept.status_code == 302


def test_env_secrets_never_appear_in_results(target: str) -> None:
    secret = "sk-live-0123456789abcdef"
    check = http_check(
        f"{target}/echo",
        [{"source": "text_body", "operator": "contains", "target": "no-such-text"}],
        request={"headers": {"X-Api-Key": "${API_KEY}"}},
    )
    result = run_one(check, env={"API_KEY": secret})
    assert result.verdict == "fail"
    assert secret not in dump(result)
    assert "[REDACTED]" in (result.error or "")


def login_flow(password: str = "${APP_PASSWORD:-" + PASSWORD + "}") -> list[dict]:
    return [
        {
            "name": "log in",
            "request": {
                "method": "POST",
                "url": "${BASE}/login",
                "json": {"username": "probe", "password": password},
            },
            "assertions": STATUS_200,
            "extract": {"token": {"source": "json_body", "property": "$.token"}},
        },
        {
            "name": "create item",
            "request": {
                "method": "POST",
                "url": "${BASE}/items",
                "headers": {"Authorization": "Bearer {{ token }}"},
                "json": {"name": "widget", "qty": 3},
            },
            "assertions": [{"source": "status_code", "operator": "equals", "target": 201}],
            "extract": {
                "item_id": {"source": "json_body", "property": "$.id"},
                "location": {"source": "headers", "property": "location"},
            },
        },
        {
            "name": "read it back",
            "request": {
                "url": "${BASE}{{ location }}",
                "headers": {"Authorization": "Bearer {{ token }}"},
            },
            "assertions": [
                *STATUS_200,
                {"source": "json_body", "property": "$.qty", "operator": "equals", "target": 3},
            ],
        },
    ]


def test_multistep_passes_variables_between_steps(target: str) -> None:
    result = run_one(multistep_check(login_flow()), env={"BASE": target})
    assert result.verdict == "pass", result.error
    assert [s["name"] for s in result.detail["steps"]] == ["log in", "create item", "read it back"]
    assert result.detail["steps"][1]["extracted"] == ["item_id", "location"]
    assert result.status_code == 200 and result.failing_step is None
    # later steps reuse the first step's connection
    assert result.detail["steps"][2]["timings"]["reused_connection"] is True
    text = dump(result)
    assert "tok_" not in text and PASSWORD not in text  # the token and password are scrubbed


def test_multistep_stops_at_the_first_failing_step_and_names_it(target: str) -> None:
    result = run_one(multistep_check(login_flow()), env={"BASE": target, "APP_PASSWORD": "wrong"})
    assert result.verdict == "fail" and result.failing_step == "log in"
    assert result.error is not None and result.error.startswith("step 'log in': ")
    assert len(result.detail["steps"]) == 1 and result.status_code == 401
    assert "wrong" not in dump(result)


def test_multistep_fails_when_a_variable_cannot_be_extracted(target: str) -> None:
    steps = login_flow()
    steps[1]["extract"]["item_id"]["property"] = "$.nope"
    result = run_one(multistep_check(steps), env={"BASE": target})
    assert result.verdict == "fail" and result.failing_step == "create item"
    assert "could not extract item_id from json_body $.nope" in (result.error or "")


def test_multistep_missing_env_is_an_error_naming_the_step(target: str) -> None:
    result = run_one(multistep_check(login_flow()), env={})
    assert result.verdict == "error" and result.failing_step == "log in"
    assert "BASE" in (result.error or "")


def test_results_keep_input_order_under_concurrency(target: str) -> None:
    checks = [http_check(f"{target}/json", STATUS_200, id=f"c-{i:03d}") for i in range(150)]
    results = run(checks, concurrency=16, per_client=2)
    assert [r.check_id for r in results] == [c.id for c in checks]
    assert {r.verdict for r in results} == {"pass"}


def test_sync_wrapper_works_inside_a_running_event_loop(target: str) -> None:
    async def caller() -> str:
        (result,) = run_checks_sync([http_check(f"{target}/json")], "us-east-1", SLOT)
        return result.verdict

    assert asyncio.run(caller()) == "pass"


def test_naive_slot_is_refused_and_empty_batches_are_fine() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(run_checks([http_check("http://x.test/")], "eu-west-1", datetime(2026, 1, 1)))
    assert asyncio.run(run_checks([], "eu-west-1", SLOT)) == []
