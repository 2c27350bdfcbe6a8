"""The demo as a newcomer runs it: a separate process on embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deployments.status.demo import plan_outage
from tasks.slo.loader import load_slos
from tests.services import chromium_available, require_chromium, services_required

pytestmark = [pytest.mark.slow, pytest.mark.engine, pytest.mark.timeout(450)]


def test_demo_runs_end_to_end_and_stops_what_it_started(tmp_path):
    if services_required():
        require_chromium()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TRACEO_"))}
    env["TRACEO_HOME"] = str(tmp_path / "home")
    if "TRACEO_CHROMIUM_PATH" in os.environ:  # the browser the test decided on, below
        env["TRACEO_CHROMIUM_PATH"] = os.environ["TRACEO_CHROMIUM_PATH"]
    planned = plan_outage(
        load_slos([Path(__file__).parents[1] / "deployments" / "slos"]), datetime.now(UTC)
    )
    done = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "SIMULATED history" in out
    if chromium_available():
        assert "Live run of browser, http, multistep, tcp checks" in out
    else:  # a newcomer's machine: the documented path, and CI never takes it
        assert "Browser checks skipped: no Chromium here" in out
        assert "Live run of http, multistep, tcp checks" in out
    for region in ("us-east-1", "eu-west-1", "ap-northeast-1"):
        assert region in out
    assert "shop-api-availability" in out
    assert "[PAGE] [FIRING] shop-api-availability" in out
    assert "Status page: " in out and "status/index.html" in out
    if planned is not None:  # none fits in the order SLO's month's first four hours
        assert "Maintenance window demo-checkout-upgrade" in out
        assert "was kept off the budget" in out
    assert "Release gate for shop-api: BLOCKED" in out
    assert "Prometheus rules (" in out
    assert (tmp_path / "home" / "demo" / "prometheus" / "slo-rules.yml").exists()
    assert "focus-sample: 2024-09-01..2024-10-01 (end exclusive): 1,000 rows" in out
    assert "Injected spike (Amazon Elastic Compute Cloud - Compute" in out
    assert "found as #" in out
    assert "[COST ANOMALY]" in out
    assert "Chargeback 2024-09 (9 teams, USD, EffectiveCost (amortised))" in out
    assert "= source total 14.98 USD: OK" in out
    assert "forged signature  -> 401 (nothing stored)" in out
    assert "verification: 2 rows queried again, 0 not erased" in out
    assert "Audit chain: intact" in out
    assert "shop-latency-100ms.yaml: PASSED" in out
    assert "shop-latency-2s.yaml: ABORTED" in out
    assert out.count("rolled back, verified clean") == 2
    assert "drift in 1 of 2 required consecutive windows" in out
    assert "Retrained: challenger v2" in out
    assert "Evidently report of the last window" in out
    assert (tmp_path / "home" / "demo" / "traceo-demo.db").exists()
    assert "demo-password" not in out + done.stderr
    assert "@example.com" not in out + done.stderr  # the privacy part prints no personal data
