"""Browser checks in YAML: what validates, and errors naming the file, the check and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import SpecError
from tasks.probes.browser_spec import ATTEMPT_OVERHEAD_SECONDS, BrowserCheck
from tasks.probes.catalog import CHECK_TYPES
from tasks.probes.loader import load_checks
from tasks.probes.runner import ENGINES

EXAMPLE = Path(__file__).resolve().parents[3] / "deployments" / "checks" / "shop-web.yaml"

GOOD = """
defaults:
  service: shop
  retry: {strategy: fixed, max_attempts: 2}
checks:
  - id: web
    type: browser
    degraded_ms: 2000
    failed_ms: 6000
    viewport: {width: 800, height: 600}
    steps:
      - goto: ${BASE}/login
      - {fill: {selector: "#user", value: 42}}
      - {select: {selector: "#lang", label: English}}
      - {press: {key: Enter}}
      - {wait_for: {text: Ready, state: visible}}
      - {name: sign in, click: "#go", timeout_seconds: 3}
      - {click: "#go"}
      - {assert_text: {selector: "#m", matches: "^Hi"}}
      - {assert_visible: "#m"}
      - {assert_url: {equals: "${BASE}/home"}}
      - {assert_title: {contains: Home}}
"""


def test_browser_checks_are_registered_with_an_engine() -> None:
    assert CHECK_TYPES["browser"] is BrowserCheck
    assert ENGINES["browser"] == "tasks.probes.browser:run_checks"


def test_a_browser_check_loads_with_defaults_shorthands_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(GOOD, encoding="utf-8")
    (check,) = load_checks([path])
    assert isinstance(check, BrowserCheck)
    assert check.service == "shop" and check.retry.max_attempts == 2
    assert check.steps[0].goto is not None and check.steps[0].goto.url == "${BASE}/login"
    assert check.steps[1].fill is not None and check.steps[1].fill.value == "42"
    assert check.steps[5].timeout_seconds == 3 and check.steps[0].timeout_seconds == 10
    assert check.step_labels == [
        "goto ${BASE}/login",
        "fill #user",  # never the value
        "select #lang",
        "press Enter",
        "wait_for text 'Ready'",
        "sign in",
        "click #go",
        "assert_text #m matches '^Hi'",
        "assert_visible #m",
        "assert_url equals '${BASE}/home'",
        "assert_title contains 'Home'",
    ]


def test_repeated_unnamed_steps_get_unique_labels() -> None:
    check = BrowserCheck.model_validate(
        {"id": "a", "service": "s", "type": "browser", "steps": [{"click": "#x"}] * 3}
    )
    assert check.step_labels == ["click #x", "click #x #2", "click #x #3"]


@pytest.mark.parametrize(
    ("step", "field", "reason"),
    [
        ('{clik: "#go"}', "steps[0].clik", "unknown field"),
        ('{click: {selector: "#go", button: left}}', "steps[0].click.button", "unknown field"),
        ('{click: "#go", fill: {selector: "#a", value: b}}', "steps[0]", "exactly one action"),
        ("{name: nothing}", "steps[0]", "exactly one action"),
        ('{fill: {selector: "#a"}}', "steps[0].fill.value", "Field required"),
        ('{fill: {selector: "#a", value: "{{ token }}"}}', "steps[0].fill.value", "${ENV_VAR}"),
        ("{goto: ftp://example}", "steps[0].goto.url", "must start with http://"),
        ('{goto: {url: "http://x", wait_until: idle}}', "steps[0].goto.wait_until", "Input should"),
        ('{select: {selector: "#s"}}', "steps[0].select", "exactly one of value or label"),
        ("{wait_for: {state: hidden}}", "steps[0].wait_for", "exactly one of selector or text"),
        ('{wait_for: {selector: "#a", state: gone}}', "steps[0].wait_for.state", "Input should"),
        ('{assert_text: {selector: "#a"}}', "steps[0].assert_text", "exactly one of equals"),
        ("{assert_url: {equals: a, contains: b}}", "steps[0].assert_url", "exactly one of equals"),
        ('{assert_title: {matches: "("}}', "steps[0].assert_title.matches", "invalid regular"),
        ("{press: {key: ''}}", "steps[0].press.key", "at least 1 character"),
        ('{click: "#a", timeout_seconds: 0}', "steps[0].timeout_seconds", "greater than 0"),
        ('{click: "#a", timeout_seconds: 500}', "steps[0].timeout_seconds", "less than or equal"),
    ],
)
def test_malformed_steps_are_rejected_with_file_check_and_field(
    tmp_path: Path, step: str, field: str, reason: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"checks:\n  - {{id: web, service: s, type: browser, steps: [{step}]}}\n", encoding="utf-8"
    )
    with pytest.raises(SpecError) as caught:
        load_checks([path])
    (issue,) = caught.value.issues
    assert (issue.file, issue.item, issue.field) == (str(path), "web", f"checks[0].{field}")
    assert reason in issue.reason


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ("degraded_ms: 5000, failed_ms: 5000", "failed_ms", "must be lower than failed_ms"),
        ("ca_bundle: ca.pem", "ca_bundle", "cannot use ca_bundle"),
        ("viewport: {width: 10}", "viewport.width", "greater than or equal"),
        ("retry: {max_attempts: 3}", "retry.max_attempts", "needs a retry strategy"),
    ],
)
def test_malformed_browser_checks_are_rejected(
    tmp_path: Path, extra: str, field: str, reason: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "checks:\n"
        f"  - {{id: web, service: s, type: browser, {extra}, steps: [{{goto: 'http://x'}}]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        load_checks([path])
    assert [(i.field, reason in i.reason) for i in caught.value.issues] == [
        (f"checks[0].{field}", True)
    ]


def test_duplicate_step_names_and_empty_steps_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "checks:\n"
        "  - {id: a, service: s, type: browser, steps: [{name: x, goto: 'http://x'},"
        " {name: x, click: '#b'}]}\n"
        "  - {id: b, service: s, type: browser, steps: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        load_checks([path])
    issues = {(i.item, i.field): i.reason for i in caught.value.issues}
    assert issues[("a", "checks[0].steps")] == "step names must be unique"
    assert "at least 1 item" in issues[("b", "checks[1].steps")]


def test_the_shop_web_example_validates() -> None:
    (check,) = load_checks([EXAMPLE])
    assert isinstance(check, BrowserCheck) and check.id == "shop-web-login"
    assert [s.action for s in check.steps][:1] == ["goto"]
    assert check.degraded_ms < check.failed_ms


def test_an_attempt_is_bounded_by_its_step_timeouts_and_by_failed_ms() -> None:
    steps = [{"goto": "http://x", "timeout_seconds": 4}, {"click": "#a", "timeout_seconds": 2}]
    base = {"id": "a", "service": "s", "type": "browser", "steps": steps}
    quick = BrowserCheck.model_validate({**base, "degraded_ms": 1000, "failed_ms": 3000})
    assert quick.steps_deadline_seconds == 3  # failed by then anyway
    roomy = BrowserCheck.model_validate(base)  # failed_ms 20 s by default
    assert roomy.steps_deadline_seconds == 6
    assert roomy.attempt_timeout_seconds == 6 + ATTEMPT_OVERHEAD_SECONDS
