"""tasks/retry.py: transient errors retry with bounded back-off, anything else fails at once."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from prefect import flow, task
from prefect.states import Failed

from tasks.errors import ConfigurationError, NotFoundError, ServiceUnavailableError, ThrottledError
from tasks.retry import RETRY_DELAYS, retry_policy, retry_transient

ROOT = Path(__file__).resolve().parents[1]
_RETRY_OPTIONS = {"retries", "retry_delay_seconds", "retry_condition_fn", "retry_jitter_factor"}


class _Task:
    name = "ingest-cost-period"


@pytest.mark.parametrize("exc", [ServiceUnavailableError("down"), ThrottledError("slow down")])
def test_transient_errors_are_retried(exc: Exception) -> None:
    assert retry_transient(_Task(), None, Failed(data=exc))


@pytest.mark.parametrize(
    "exc",
    [
        ConfigurationError("notification target 'slack/ops' is not a saved Prefect block"),
        NotFoundError("no check 'shop-api'"),
        ValueError("a bug"),
    ],
)
def test_permanent_and_unexpected_errors_fail_at_once_saying_why(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="traceo.retry"):
        assert not retry_transient(_Task(), None, Failed(data=exc))
    assert "not retried (fix it, then retry the run)" in caplog.text
    assert str(exc) in caplog.text


def test_the_back_off_is_bounded() -> None:
    options = retry_policy()
    assert options["retry_delay_seconds"] == list(RETRY_DELAYS)
    # the whole ladder, jitter included, is a few minutes at most, not a long outage slept through
    assert sum(RETRY_DELAYS) * (1 + options["retry_jitter_factor"]) <= 120
    assert retry_policy(0)["retries"] == 0
    with pytest.raises(ValueError):
        retry_policy(len(RETRY_DELAYS) + 1)


def _own_retry_options(path: Path) -> list[str]:
    """``file:line`` of every ``task(...)`` / ``flow(...)`` call that sets retry options itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        own = {k.arg for k in node.keywords} & _RETRY_OPTIONS
        if name in {"task", "flow"} and own:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(own)}")
    return found


def test_every_task_and_flow_takes_its_retries_from_the_one_policy() -> None:
    paths = [*(ROOT / "tasks").rglob("*.py"), *(ROOT / "flows").rglob("*.py")]
    assert [hit for path in sorted(paths) for hit in _own_retry_options(path)] == []


def test_a_permanent_error_runs_once_and_a_transient_one_until_it_succeeds(prefect_server) -> None:
    calls = {"config": 0, "flaky": 0}
    quick = {**retry_policy(), "retry_delay_seconds": 0}

    @task(name="load-block", **quick)
    def load_block() -> None:
        calls["config"] += 1
        raise ConfigurationError("block 'aws-credentials/prod' is not saved")

    @task(name="fetch-costs", **quick)
    def fetch_costs() -> int:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise ServiceUnavailableError("Cost Explorer is unavailable")
        return 7

    @flow(name="traceo-retry-policy-test")
    def both() -> tuple[str, int]:
        config = load_block(return_state=True)
        return config.type.value, fetch_costs()

    assert both() == ("FAILED", 7)
    assert calls == {"config": 1, "flaky": 3}
