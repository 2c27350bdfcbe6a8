"""Every step type and assertion, passing and failing, against the local test site.

All cases run as one batch in the shared browser (a module fixture), then each case is asserted
on its own, so a regression names the step type that broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tasks.probes.browser import _step_error
from tasks.probes.evidence import LocalEvidenceStore
from tasks.probes.http import ProbeResult
from tasks.redaction import redact
from tests.probes.browser.conftest import SharedBrowser, Site, browser_check
from tests.probes.server import free_port


@dataclass(frozen=True)
class Case:
    steps: list[dict[str, Any]]
    verdict: str = "pass"
    failing_step: str | None = None
    error: str | None = None  # a substring of the result's error


GOTO = {"goto": "${SITE}/form"}
QUICK = 1  # seconds: failing steps wait their whole timeout

CASES: dict[str, Case] = {
    # navigation
    "goto": Case([GOTO]),
    "goto-expected-status": Case([{"goto": {"url": "${SITE}/status/404", "expect_status": 404}}]),
    "goto-error-status": Case(
        [{"name": "open", "goto": "${SITE}/status/503"}], "fail", "open", "HTTP status 503"
    ),
    "goto-unexpected-status": Case(
        [{"goto": {"url": "${SITE}/form", "expect_status": 201}}],
        "fail",
        "goto ${SITE}/form",
        "HTTP status 200, expected 201",
    ),
    # actions
    "click": Case([GOTO, {"click": "#go"}, {"assert_url": {"contains": "/done?from=form"}}]),
    "click-missing": Case(
        [GOTO, {"click": "#nope", "timeout_seconds": QUICK}],
        "fail",
        "click #nope",
        "timed out after 1s waiting for #nope",
    ),
    "fill-and-press-in-field": Case(
        [
            GOTO,
            {"fill": {"selector": "#q", "value": "boots"}},
            {"press": {"selector": "#q", "key": "Enter"}},
            {"assert_text": {"selector": "#typed", "equals": "Searched: boots"}},
        ]
    ),
    "press-on-page": Case(
        [
            GOTO,
            {"click": "#q"},
            {"fill": {"selector": "#q", "value": "tent"}},
            {"press": {"key": "Enter"}},
            {"assert_text": {"selector": "#typed", "contains": "tent"}},
        ]
    ),
    "fill-missing": Case(
        [
            GOTO,
            {
                "name": "type it",
                "fill": {"selector": "#nope", "value": "x"},
                "timeout_seconds": QUICK,
            },
        ],
        "fail",
        "type it",
        "timed out",
    ),
    "press-missing": Case(
        [GOTO, {"press": {"selector": "#nope", "key": "Enter"}, "timeout_seconds": QUICK}],
        "fail",
        "press Enter in #nope",
        "timed out",
    ),
    "select-by-label": Case(
        [
            GOTO,
            {"select": {"selector": "#size", "label": "Medium"}},
            {"assert_text": {"selector": "#chosen", "equals": "Size: m"}},
        ]
    ),
    "select-by-value": Case(
        [
            GOTO,
            {"select": {"selector": "#size", "value": "m"}},
            {"assert_text": {"selector": "#chosen", "matches": "^Size: [m]$"}},
        ]
    ),
    "select-missing-option": Case(
        [GOTO, {"select": {"selector": "#size", "label": "Huge"}, "timeout_seconds": QUICK}],
        "fail",
        "select #size",
        "timed out after 1s waiting for option 'Huge' in #size",
    ),
    "wait-for-selector": Case([GOTO, {"click": "#reveal"}, {"wait_for": "#late"}]),
    "wait-for-text": Case([GOTO, {"click": "#reveal"}, {"wait_for": {"text": "Now you see me"}}]),
    "wait-for-detached": Case([GOTO, {"wait_for": {"selector": "#gone", "state": "detached"}}]),
    "wait-for-never": Case(
        [GOTO, {"wait_for": "#late", "timeout_seconds": QUICK}],
        "fail",
        "wait_for #late",
        "timed out after 1s waiting for #late",
    ),
    # assertions
    "assert-text-fails": Case(
        [GOTO, {"assert_text": {"selector": "#done", "equals": "x"}, "timeout_seconds": QUICK}],
        "fail",
        "assert_text #done equals 'x'",
        "no element matches #done",
    ),
    "assert-text-wrong": Case(
        [
            GOTO,
            {"select": {"selector": "#size", "value": "s"}},
            {
                "assert_text": {"selector": "#chosen", "contains": "Size: m"},
                "timeout_seconds": QUICK,
            },
        ],
        "fail",
        "assert_text #chosen contains 'Size: m'",
        "text of #chosen does not contain 'Size: m' (got 'Size: s')",
    ),
    "assert-visible": Case([GOTO, {"assert_visible": "#q"}]),
    "assert-visible-hidden": Case(
        [GOTO, {"assert_visible": "#hidden", "timeout_seconds": QUICK}],
        "fail",
        "assert_visible #hidden",
        "#hidden is not visible after 1s (1 matching, none visible)",
    ),
    "assert-visible-missing": Case(
        [GOTO, {"assert_visible": "#nope", "timeout_seconds": QUICK}],
        "fail",
        "assert_visible #nope",
        "(no element matches)",
    ),
    "assert-url": Case(
        [
            GOTO,
            {"assert_url": {"equals": "${SITE}/form"}},
            {"assert_url": {"matches": r"/form$"}},
        ]
    ),
    "assert-url-fails": Case(
        [GOTO, {"assert_url": {"contains": "/done"}, "timeout_seconds": QUICK}],
        "fail",
        "assert_url contains '/done'",
        "URL does not contain '/done'",
    ),
    "assert-title": Case(
        [
            GOTO,
            {"assert_title": {"equals": "Test form"}},
            {"assert_title": {"contains": "form"}},
            {"assert_title": {"matches": "^Test"}},
        ]
    ),
    "assert-title-fails": Case(
        [GOTO, {"assert_title": {"equals": "Checkout"}, "timeout_seconds": QUICK}],
        "fail",
        "assert_title equals 'Checkout'",
        "title does not equal 'Checkout' (got 'Test form')",
    ),
    "unset-variable": Case(
        [{"goto": "${NOT_SET_ANYWHERE}/form"}],
        "error",
        "goto ${NOT_SET_ANYWHERE}/form",
        "NOT_SET_ANYWHERE is not set",
    ),
}


@pytest.fixture(scope="module")
def outcomes(
    chromium: SharedBrowser, pages: Site, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[ProbeResult, Path]]:
    root = tmp_path_factory.mktemp("evidence")
    checks = [browser_check(case.steps, id=name) for name, case in CASES.items()]
    results = chromium.run(
        checks, env={"SITE": pages.url}, evidence=LocalEvidenceStore(root), contexts=4
    )
    return {r.check_id: (r, root) for r in results}


@pytest.mark.parametrize("name", list(CASES))
def test_step(name: str, outcomes: dict[str, tuple[ProbeResult, Path]]) -> None:
    case = CASES[name]
    result, _ = outcomes[name]
    assert result.verdict == case.verdict, result.error
    assert result.failing_step == case.failing_step
    if case.error is not None:
        assert result.error is not None and case.error in result.error
    if case.verdict == "pass":
        assert result.error is None
        assert [s["name"] for s in result.detail["steps"]] == [s.label for s in _check(name).steps]
        assert all(s["duration_ms"] >= 0 for s in result.detail["steps"])


def _check(name: str) -> Any:
    return browser_check(CASES[name].steps, id=name)


def test_a_check_that_cannot_render_a_step_is_an_error_without_duration(
    outcomes: dict[str, tuple[ProbeResult, Path]],
) -> None:
    result, _ = outcomes["unset-variable"]
    assert result.duration_ms is None and result.status_code is None
    assert result.detail.get("evidence") is None


def test_a_failing_step_stops_the_run_and_is_the_last_recorded(
    outcomes: dict[str, tuple[ProbeResult, Path]],
) -> None:
    result, _ = outcomes["click-missing"]
    steps = result.detail["steps"]
    assert [s["name"] for s in steps] == ["goto ${SITE}/form", "click #nope"]
    assert "error" in steps[-1] and "error" not in steps[0]


def test_navigation_timings_are_recorded_per_goto(
    outcomes: dict[str, tuple[ProbeResult, Path]],
) -> None:
    result, _ = outcomes["goto"]
    (nav,) = result.detail["navigation"]
    assert nav["status"] == 200 and nav["path"] == "/form"
    assert 0 < nav["ttfb_ms"] <= nav["dom_content_loaded_ms"] <= nav["load_ms"]
    assert result.detail["timings"]["ttfb"] == nav["ttfb_ms"]
    assert result.detail["timings"]["total"] == result.duration_ms
    assert result.status_code == 200


def test_failures_leave_a_screenshot_and_a_trace_and_passes_leave_none(
    outcomes: dict[str, tuple[ProbeResult, Path]],
) -> None:
    for name, case in CASES.items():
        result, root = outcomes[name]
        evidence = result.detail.get("evidence")
        if case.verdict != "fail":
            assert evidence is None, name
            assert not (root / name).exists(), name
            continue
        assert set(evidence) == {"screenshot", "trace"}, (name, evidence)
        shot = Path(evidence["screenshot"].removeprefix("file://"))
        trace = Path(evidence["trace"].removeprefix("file://"))
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert trace.read_bytes().startswith(b"PK\x03\x04")
        assert root / name in shot.parents


def test_an_unreachable_page_is_a_network_failure_and_is_retried(
    chromium: SharedBrowser, evidence: LocalEvidenceStore
) -> None:
    check = browser_check(
        [{"goto": f"http://127.0.0.1:{free_port()}/"}],
        retry={"strategy": "fixed", "max_attempts": 2, "backoff_seconds": 0},
    )
    (result,) = chromium.run([check], evidence=evidence)
    assert result.verdict == "fail" and result.attempts == 2
    assert "net::ERR_CONNECTION_REFUSED" in (result.error or "")
    assert [a["verdict"] for a in result.detail["attempts"]] == ["fail", "fail"]
    assert all("evidence" in a for a in result.detail["attempts"])


def test_a_failed_assertion_is_not_retried_by_default(
    chromium: SharedBrowser, pages: Site, evidence: LocalEvidenceStore
) -> None:
    check = browser_check(
        [GOTO, {"assert_title": {"equals": "Nope"}, "timeout_seconds": 0.3}],
        retry={"strategy": "fixed", "max_attempts": 3, "backoff_seconds": 0},
    )
    (result,) = chromium.run([check], env={"SITE": pages.url}, evidence=evidence)
    assert result.verdict == "fail" and result.attempts == 1


def test_a_failing_password_step_keeps_its_reason_through_redaction() -> None:
    # "step 'fill #password': still running" read as "password: <secret>" and lost "still"
    error = redact(_step_error("fill #password", "still running when the journey reached"))
    assert error == "step 'fill #password' failed: still running when the journey reached"
