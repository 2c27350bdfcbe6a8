"""A real Prometheus server scrapes the exporter and answers queries with the store's values."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.probes.metrics import MetricsServer, StoreCollector, build_registry
from tasks.store import get_engine
from tasks.store.check_results import upsert_check_results
from tests.probes.metrics.helpers import EXPIRY, row, seed
from tests.probes.server import free_port
from tests.services import require_prometheus

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: traceo
    static_configs:
      - targets: ["{target}"]
"""


class Prometheus:
    """``prometheus`` on 127.0.0.1 scraping ``target`` every second, data in ``directory``."""

    def __init__(self, binary: str, target: str, directory: Path) -> None:
        self.port = free_port()
        config = directory / "prometheus.yml"
        config.write_text(CONFIG.format(target=target), encoding="utf-8")
        self.log = directory / "prometheus.log"
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": promql}
        )
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def wait_for(self, promql: str, predicate, timeout: float = 30.0) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            try:
                last = self.query(promql)
                if predicate(last):
                    return last
            except OSError as exc:  # not listening yet
                last = exc
            time.sleep(0.25)
        raise AssertionError(f"{promql!r} never satisfied; last answer: {last!r}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._log_file.close()


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    binary = require_prometheus()
    started: list[Prometheus] = []

    def start(target: str) -> Prometheus:
        server = Prometheus(binary, target, tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _values(result: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    return {(r["metric"]["check"], r["metric"]["region"]): float(r["value"][1]) for r in result}


@pytest.mark.slow  # a real Prometheus scraping every second
def test_prometheus_scrapes_the_latest_results(prometheus_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    seed(engine)
    collector = StoreCollector(engine, {"shop-health": "shop-api", "shop-port": "shop-api"})
    with MetricsServer(build_registry(collector), "127.0.0.1", 0) as exporter:
        prometheus = prometheus_factory(f"127.0.0.1:{exporter.port}")
        up = prometheus.wait_for('up{job="traceo"}', lambda r: r and r[0]["value"][1] == "1")
        assert up[0]["metric"]["instance"] == f"127.0.0.1:{exporter.port}"

        success = prometheus.wait_for("probe_success", lambda r: len(r) == 3)
        assert _values(success) == {
            ("shop-health", "us-east-1"): 1.0,
            ("shop-health", "eu-west-1"): 1.0,
            ("shop-port", "eu-west-1"): 0.0,
        }
        assert {r["metric"]["service"] for r in success} == {"shop-api"}

        phases = prometheus.query('probe_duration_seconds{check="shop-health",region="us-east-1"}')
        assert {r["metric"]["phase"]: float(r["value"][1]) for r in phases} == {
            "connect": 0.0015,
            "tls": 0.004,
            "ttfb": 0.03,
            "transfer": 0.0025,
            "total": 0.038,
        }
        expiry = prometheus.query("probe_ssl_earliest_cert_expiry")
        assert _values(expiry) == {("shop-health", "us-east-1"): EXPIRY.timestamp()}

        # every scrape reads the store: a new failing result shows up without a restart
        upsert_check_results(engine, [row("shop-health", "eu-west-1", 0, "fail")])
        prometheus.wait_for(
            'probe_success{check="shop-health",region="eu-west-1"}',
            lambda r: r and r[0]["value"][1] == "0",
        )
