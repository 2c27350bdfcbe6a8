"""deployments/supervise.py: SIGTERM stops `traceo serve` and everything it started."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from infra.prefect import free_port, prefect_env

SERVED = """\
deployments:
  - name: served-probe
    entrypoint: tests/flows/rerun_flow.py:rerun_probe
    parameters: {{marker_dir: {markers}}}
    schedules: [{{interval: 60, timezone: UTC}}]
"""


@pytest.mark.slow  # starts an embedded Prefect server
def test_sigterm_stops_the_runner_and_the_embedded_server_and_frees_its_port(
    tmp_path: Path,
) -> None:
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(SERVED.format(markers=tmp_path))
    port = free_port()
    log = tmp_path / "serve.log"
    command = "from deployments.cli import main; main()"
    args = ["serve", "--port", str(port), "--prefect-file", str(prefect_file)]
    with log.open("w") as out:
        serving = subprocess.Popen(
            [sys.executable, "-c", command, *args],
            env=prefect_env(tmp_path / "prefect"),  # no PREFECT_API_URL: the embedded server
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    tree = [psutil.Process(serving.pid)]
    try:
        deadline = time.monotonic() + 240  # only keeps a broken build from hanging
        while "being served" not in log.read_text() and time.monotonic() < deadline:
            assert serving.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        assert "being served" in log.read_text(), log.read_text()[-3000:]
        tree += tree[0].children(recursive=True)
        assert any("server" in p.cmdline() for p in tree)  # the embedded server, and
        assert any("deployments.serve" in p.cmdline() for p in tree)  # the runner

        serving.send_signal(signal.SIGTERM)
        # Only keeps a broken build from hanging: stopping takes ~5 s (two graces, 5 s and 3 s,
        # then a kill); how long it takes is not asserted.
        _, alive = psutil.wait_procs(tree, timeout=120)
    finally:
        for process in tree:  # a broken build must not leave anything behind
            if process.is_running():
                process.kill()
    assert alive == [], log.read_text()[-3000:]
    assert tree[0].returncode == 0  # set by wait_procs, which reaped it
    with socket.socket() as sock:  # a new server can listen on the port (as uvicorn does:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT, not
        sock.bind(("127.0.0.1", port))  # past a listener)
        sock.listen()
