"""What a test needs from outside Python: skip with one line naming it, or fail under CI.

Every test that needs a server or a program that ``uv sync`` does not install asks for it here.
On a newcomer's machine (Python and uv only) such a test is skipped with one line that names what
is missing and how to get it; with ``TRACEO_REQUIRE_SERVICES=1`` (``.ci/run`` sets it) the same
line fails the test instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

POSTGRES_URL = os.environ.get(
    "TRACEO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PROMETHEUS = os.environ.get("TRACEO_TEST_PROMETHEUS", "/usr/bin/prometheus")
PROMETHEUS_HINT = "apt-get install --no-install-recommends prometheus"
CHROMIUM_HINT = "apt-get install chromium, or uv run playwright install chromium"


def services_required() -> bool:
    return os.environ.get("TRACEO_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def missing(what: str, how: str) -> None:
    """Skip the calling test because ``what`` is missing, or fail if services are required."""
    reason = f"{what} ({how})"
    if services_required():
        pytest.fail(f"{reason}; TRACEO_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip the calling test when the server ``name`` is down, or fail if services are required."""
    if not port_open(host, port):
        missing(f"{name} is not reachable on {host}:{port}", f"start {name} on {host}:{port}")


def require_prometheus() -> str:
    """The Prometheus binary (``promtool`` sits beside it), or skip/fail naming the package."""
    binary = shutil.which(PROMETHEUS)
    if binary is None:
        missing(f"Prometheus is not installed at {PROMETHEUS}", PROMETHEUS_HINT)
    assert binary is not None
    return binary


def chromium_available() -> bool:
    """A Chromium Playwright can launch: Debian's, TRACEO_CHROMIUM_PATH, or Playwright's own."""
    from tasks.probes.browser_launch import browser_available

    configured = os.environ.get("TRACEO_CHROMIUM_PATH")
    return browser_available(configured or None)


def require_chromium() -> None:
    """Skip (or fail under CI) when no browser is installed for the browser checks."""
    if not chromium_available():
        missing("no Chromium for browser checks", CHROMIUM_HINT)


def require_spark() -> None:
    """Skip (or fail under CI) when Spark's local mode cannot run: no pyspark, or no Java."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        missing("pyspark is not installed", "uv sync, or pip install 'traceo-jobs[spark]'")
    if shutil.which("java") is None:
        missing("no Java for Spark's local mode", "apt-get install openjdk-17-jre-headless")


def require_bigquery() -> None:
    """Skip (or fail under CI) when google-cloud-bigquery (the ``bigquery`` extra) is missing."""
    import importlib.util

    if importlib.util.find_spec("google.cloud.bigquery") is None:
        missing(
            "google-cloud-bigquery is not installed",
            "uv sync, or pip install 'traceo-jobs[bigquery]'",
        )
