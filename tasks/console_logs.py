"""What a Traceo process prints: one line per failed run; every other run record stays in its logs.

Prefect prints each flow- and task-run record to the console of the process that runs it,
tracebacks included: one ``traceo serve`` round with failures printed tens of tracebacks, and
``traceo bench`` hundreds of task-run lines between the rows of its table. Traceo's logging
config is Prefect's own (``prefect/logging/logging.yml``, read from the installed package) with
two changes:

- the console drops records of the run loggers (``prefect.flow_runs``, ``prefect.task_runs``):
  they still reach the run's own logs through Prefect's API handler. A failed run prints one
  line instead, on the ``traceo.runs`` logger (:func:`log_failed_run`), with its link;
- dependencies that log at INFO (httpx logs every request, Prefect's CSRF-token probe answered
  422 included) log at WARNING and above only.

The ``traceo`` command points ``PREFECT_LOGGING_SETTINGS_PATH`` at :func:`write_logging_config`'s
file unless it is set, before Prefect is imported; the runner and its flow-run processes
inherit it. Workers need the same variable (docs/operations.md).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "QUIET_LOGGERS",
    "RUN_LOGGERS",
    "OutsideRuns",
    "log_failed_run",
    "logging_config",
    "write_logging_config",
]

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
QUIET_LOGGERS = ("httpx", "httpcore")
FAILED_RUNS_LOGGER = "traceo.runs"


class OutsideRuns(logging.Filter):
    """Passes every record except those of a flow or task run's loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        return not any(name == run or name.startswith(f"{run}.") for run in RUN_LOGGERS)


def log_failed_run(flow_name: str, run_name: str, state: str, message: str, url: str) -> None:
    """The console's one line about a failed run: what, why (first line), and its link."""
    reason = (message.splitlines() or [""])[0]
    logging.getLogger(FAILED_RUNS_LOGGER).error(
        "%s run %s %s: %s %s", flow_name, run_name, state, reason, url
    )


def _prefect_default() -> Path:
    spec = importlib.util.find_spec("prefect")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("prefect is not installed")
    return Path(spec.submodule_search_locations[0]) / "logging" / "logging.yml"


def logging_config(default: Path | None = None) -> dict[str, Any]:
    """Prefect's logging config with Traceo's console rules (templates left for Prefect)."""
    config: dict[str, Any] = yaml.safe_load((default or _prefect_default()).read_text())
    config.setdefault("filters", {})["traceo_outside_runs"] = {"()": f"{__name__}.OutsideRuns"}
    config["handlers"]["console"]["filters"] = ["traceo_outside_runs"]
    for name in QUIET_LOGGERS:
        config["loggers"][name] = {"level": "WARNING"}
    return config


def write_logging_config(directory: Path) -> Path:
    """Write :func:`logging_config` to ``directory/prefect-logging.yml`` (when it changed)."""
    path = directory / "prefect-logging.yml"
    text = yaml.safe_dump(logging_config(), sort_keys=False)
    if not path.exists() or path.read_text() != text:
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")  # processes starting together
        partial.write_text(text)
        partial.replace(path)
    return path


if __name__ == "__main__":  # container builds: python -m tasks.console_logs DIR
    import sys

    print(write_logging_config(Path(sys.argv[1])))
