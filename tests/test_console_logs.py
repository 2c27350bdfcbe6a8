"""tasks/console_logs.py: the console gets one line per failed run, no dependency INFO."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.console_logs import OutsideRuns, write_logging_config

EMIT = """\
import logging, prefect.logging.configuration as c
c.setup_logging()
logging.getLogger("httpx").info("HTTP Request: GET /api/csrf-token 422 Unprocessable Entity")
logging.getLogger("prefect.task_runs").error("Task run failed with exception: Traceback")
logging.getLogger("prefect.flow_runs").info("Beginning flow run")
logging.getLogger("traceo.runs").error("cost-ingestion run brave-otter Failed: ...")
"""


def test_prefect_loads_the_config_and_the_console_keeps_only_what_is_not_run_noise(
    tmp_path: Path,
) -> None:
    env = {
        "PREFECT_LOGGING_SETTINGS_PATH": str(write_logging_config(tmp_path)),
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",  # no run here: no API either
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    done = subprocess.run(
        [sys.executable, "-c", EMIT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "brave-otter Failed" in lines[0], done.stderr


@pytest.mark.engine
def test_a_failed_run_prints_one_line_with_its_link_and_no_traceback(
    prefect_server, tmp_path: Path
) -> None:
    from tests.flows.rerun_flow import rerun_probe

    (tmp_path / "fail").touch()
    console = io.StringIO()
    handler = logging.StreamHandler(console)
    handler.addFilter(OutsideRuns())
    logging.getLogger().addHandler(handler)
    try:
        state = rerun_probe(str(tmp_path), return_state=True)
    finally:
        logging.getLogger().removeHandler(handler)
    assert state.is_failed()
    lines = console.getvalue().splitlines()
    assert len(lines) == 1, console.getvalue()
    assert "traceo-rerun-probe run" in lines[0] and "Failed" in lines[0]
    assert f"/runs/flow-run/{state.state_details.flow_run_id}" in lines[0]
