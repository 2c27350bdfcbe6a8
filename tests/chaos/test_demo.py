"""The chaos part of ``traceo demo``: 100 ms passes, 2 s is aborted and rolled back clean."""

from __future__ import annotations

import time

import pytest

from infra.sandbox.chaos_demo import run_chaos_demo
from tasks.chaos.records import open_faults
from tasks.store import get_engine

pytestmark = pytest.mark.slow


def test_demo_runs_both_experiments_quickly_and_leaves_nothing_behind():
    lines: list[str] = []
    started = time.perf_counter()

    summary = run_chaos_demo(lines.append, get_engine())

    assert time.perf_counter() - started < 40
    assert summary["verdicts"] == {
        "shop-latency-100ms.yaml": "passed",
        "shop-latency-2s.yaml": "aborted",
    }
    assert summary["resilience_score"] is not None
    assert open_faults(get_engine()) == []
    assert sum("verified clean" in line for line in lines) == 2
