"""Fault actions: the allowlist at run time, the maximum duration, the abort switch."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from tasks.chaos.activities import faults
from tasks.chaos.context import RUN_ID_KEY, RunContext, register, unregister
from tasks.chaos.records import create_run, open_faults
from tasks.store import get_engine


@pytest.fixture
def context(fault_proxy):
    engine = get_engine()
    create_run(engine, "run-f", "t", "f.yaml", "shop-api")
    ctx = RunContext("run-f", engine, "shop-api", {"proxy_api_url": fault_proxy.url})
    register(ctx)
    yield ctx
    unregister("run-f")


def _config() -> dict[str, str]:
    return {RUN_ID_KEY: "run-f"}


def test_fault_actions_refuse_to_run_outside_a_traceo_run():
    with pytest.raises(ActivityFailed, match="only inside a Traceo chaos run"):
        faults.inject_fault("proxy", {"target": "shop"}, configuration={})


def test_runtime_allowlist_refuses_before_touching_anything(context):
    context.allowlists = [None, ["proxy:payments"]]
    with pytest.raises(ActivityFailed, match="proxy:shop is not on the allowlist"):
        faults.inject_fault("proxy", {"target": "shop", "type": "latency"}, _config())
    assert open_faults(context.engine, "run-f") == []


def test_no_injection_once_the_run_is_aborting(context):
    context.trip("safeguard")
    with pytest.raises(ActivityFailed, match="aborting"):
        faults.inject_fault("proxy", {"target": "shop", "type": "latency"}, _config())


def test_hold_stops_at_the_maximum_duration(context):
    context.max_duration_seconds = 0.3
    held = faults.hold(30, _config())

    assert held["aborted"] and held["reason"] == "max duration of 0.3 s reached"
    assert held["held_seconds"] < 30  # stopped at the run's limit, not at the hold's end


def test_hold_returns_early_when_the_safeguard_trips(context):
    import threading

    threading.Timer(0.2, context.trip, args=("check failed",)).start()
    held = faults.hold(30, _config())
    assert held["aborted"] and held["reason"] == "check failed" and held["held_seconds"] < 30


def test_remove_fault_with_nothing_injected_is_a_no_op(context):
    assert faults.remove_fault(configuration=_config()) == []
