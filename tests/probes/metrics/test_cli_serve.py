"""``traceo metrics serve`` as an operator runs it: blocks, serves, stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tasks.store import get_engine
from tests.probes.metrics.helpers import seed
from tests.probes.server import free_port

ROOT = Path(__file__).resolve().parents[3]


def _serve(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "deployments.cli", "metrics", "serve", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_exposes_the_store_until_interrupted(traceo_home: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    seed(get_engine(url))
    env = {**os.environ, "TRACEO_DATABASE_URL": url, "TRACEO_HOME": str(traceo_home)}
    process = _serve("--host", "127.0.0.1", "--port", "0", env=env)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()  # printed once the socket is listening
        match = re.search(r"on (http://127\.0\.0\.1:\d+/metrics) \(Ctrl-C to stop\)", banner)
        assert match, banner
        with urllib.request.urlopen(match.group(1), timeout=5) as response:
            text = response.read().decode()
        names = {f.name for f in text_string_to_metric_families(text)}
        assert {"probe_success", "probe_duration_seconds", "traceo_store_up"} <= names
        # the example checks map ids to services
        assert (
            'probe_success{check="shop-health",region="us-east-1",service="shop-api"} 1.0' in text
        )
        # the example SLOs' counters, zero until a slot closes after start-up
        assert 'traceo_slo_events_total{service="shop-api",slo="shop-api-availability"}' in text

        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)  # a hang fails here, naming the command
        assert process.returncode == 0, err
        assert "Stopped." in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_port_in_use_is_a_clear_error(traceo_home: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "TRACEO_HOME": str(traceo_home)}
        env.pop("TRACEO_DATABASE_URL", None)
        process = _serve("--port", str(port), env=env)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err
