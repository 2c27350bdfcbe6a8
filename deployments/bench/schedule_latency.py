"""Benchmark ``schedule_latency``: API trigger to RUNNING and COMPLETED, tuned worker vs defaults.

One Prefect server on PostgreSQL (start-up is 16-27 s, so both configurations share it), two
process pools with one worker each, and a trivial flow (:func:`noop`, this module) deployed to
both. Each run is created through the API (``create_flow_run_from_deployment``), one at a time,
and timed from just before that call to the server's timestamps of its Running and Completed
states (same machine, same clock).

- ours: tuned as deployments/prefect.yaml runs the frequent jobs: the worker polls every second
  and each run starts as one process (job variable ``command: python -m prefect.engine``, which
  runs the pull step itself) instead of Prefect's default of a process for the pull step, then
  another for the flow;
- reference: Prefect's defaults (``PREFECT_WORKER_QUERY_SECONDS`` 10, prefetch 10 s, two
  processes per run).

Medians of N runs each (8; 3 with ``--quick``); target: under 5 s to COMPLETED, tuned. Runs
alternate between the pools so that load on the machine hits both alike.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow

from deployments.bench import Measurement

__all__ = ["LatencySample", "noop", "run", "summarise"]

REPO = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 5.0
# (poll, prefetch, heartbeat) seconds of each worker.
TUNED = (1.0, 5.0, 5.0)
DEFAULTS = (10.0, 10.0, 30.0)  # Prefect's PREFECT_WORKER_* defaults
_PREFECT_YAML = """\
name: schedule-latency-bench
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: {repo}
deployments:
  - name: tuned
    entrypoint: deployments/bench/schedule_latency.py:noop
    work_pool:
      name: bench-tuned
      job_variables: {{command: "{python} -m prefect.engine"}}
  - name: defaults
    entrypoint: deployments/bench/schedule_latency.py:noop
    work_pool: {{name: bench-defaults}}
"""


@flow(name="schedule-latency-noop", log_prints=False)
def noop() -> int:
    """The trivial flow: what is measured is everything around it."""
    return 1


@dataclass(frozen=True)
class LatencySample:
    """Seconds from the API call that created the run to its Pending (a worker took it),
    Running (its process started) and Completed states."""

    to_pending: float
    to_running: float
    to_completed: float


def summarise(samples: list[LatencySample]) -> tuple[float, float, float]:
    """Median seconds to PENDING, to RUNNING and to COMPLETED."""
    if not samples:
        raise ValueError("no samples")
    return (
        statistics.median(s.to_pending for s in samples),
        statistics.median(s.to_running for s in samples),
        statistics.median(s.to_completed for s in samples),
    )


def _timed_run(client: Any, deployment_id: Any, timeout: float = 120.0) -> LatencySample:
    from prefect.client.schemas.objects import StateType

    started = time.time()
    run = client.create_flow_run_from_deployment(deployment_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.read_flow_run(run.id).state
        if state is not None and state.is_final():
            break
        time.sleep(0.1)
    else:
        raise TimeoutError(f"flow run {run.id} not final after {timeout:g}s")
    if state.type != StateType.COMPLETED:
        raise RuntimeError(f"flow run {run.id} ended {state.name}: {state.message}")
    states = client.read_flow_run_states(run.id)
    stamps = {s.type: s.timestamp.timestamp() - started for s in states}
    return LatencySample(
        stamps[StateType.PENDING], stamps[StateType.RUNNING], stamps[StateType.COMPLETED]
    )


def _measure(runs: int, log: Callable[[str], None]) -> dict[str, list[LatencySample]]:
    from prefect.client.orchestration import SyncPrefectClient

    from infra.prefect import PrefectServer, ProcessWorker, run_prefect, temporary_database

    with tempfile.TemporaryDirectory(prefix="traceo-latency-") as tmp:
        home = Path(tmp)
        prefect_file = home / "prefect.yaml"
        prefect_file.write_text(_PREFECT_YAML.format(repo=REPO, python=sys.executable))
        with (
            temporary_database("traceo_bench_latency") as db,
            PrefectServer(home / "server", db, scheduler=False) as server,
        ):
            workers = {
                name: ProcessWorker(
                    f"bench-{name}",
                    server.api_url,
                    home / name,
                    query_seconds=poll,
                    prefetch_seconds=prefetch,
                    heartbeat_seconds=heartbeat,
                )
                for name, (poll, prefetch, heartbeat) in (("tuned", TUNED), ("defaults", DEFAULTS))
            }
            for worker in workers.values():
                worker.launch()
            try:
                for worker in workers.values():
                    worker.wait_ready()
                run_prefect(
                    ["--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)],
                    server.api_url,
                    home / "cli",
                    cwd=REPO,
                )
                samples: dict[str, list[LatencySample]] = {name: [] for name in workers}
                with SyncPrefectClient(server.api_url) as client:
                    ids = {
                        name: client.read_deployment_by_name(f"schedule-latency-noop/{name}").id
                        for name in workers
                    }
                    for i in range(runs):
                        for name in workers:
                            sample = _timed_run(client, ids[name])
                            samples[name].append(sample)
                            log(f"{name} run {i + 1}: {sample}")
                return samples
            finally:
                for worker in workers.values():
                    worker.stop()


def _import_seconds(repeat: int = 3) -> float:
    """Median wall time of a fresh ``python -c "import prefect.engine"``: the floor every flow
    run's process pays before it can report Running."""
    import subprocess

    times = []
    for _ in range(repeat):
        began = time.monotonic()
        subprocess.run([sys.executable, "-c", "import prefect.engine"], check=True)
        times.append(time.monotonic() - began)
    return statistics.median(times)


def run(quick: bool) -> list[Measurement]:
    samples = _measure(3 if quick else 8, lambda _line: None)
    load = os.getloadavg()[0]
    floor = _import_seconds()
    t_pending, t_running, t_completed = summarise(samples["tuned"])
    d_pending, d_running, d_completed = summarise(samples["defaults"])
    note = (
        f"medians of {len(samples['tuned'])} API-triggered runs each, one PostgreSQL-backed "
        f"server, load average {load:.1f} on {os.cpu_count()} CPUs. Tuned (poll 1 s, one "
        f"process per run): picked up {t_pending:.2f} s, RUNNING {t_running:.2f} s, COMPLETED "
        f"{t_completed:.2f} s. Defaults (poll 10 s, two processes): picked up {d_pending:.2f} s, "
        f"RUNNING {d_running:.2f} s, COMPLETED {d_completed:.2f} s. Pick-up to RUNNING is the "
        "run's process starting (Python, Prefect, the flow module): `import prefect.engine` "
        f"alone took {floor:.2f} s here."
    )
    return [
        Measurement(
            workload="schedule_latency",
            ours=t_completed,
            reference=d_completed,
            unit="s to COMPLETED",
            ratio=d_completed / t_completed,
            target=f"< {TARGET_SECONDS:g} s trigger to COMPLETED (trivial flow)",
            met=t_completed < TARGET_SECONDS,
            note=note,
        ),
        Measurement(
            workload="schedule_latency (RUNNING)",
            ours=t_running,
            reference=d_running,
            unit="s to RUNNING",
            ratio=d_running / t_running,
            target="faster than Prefect's defaults",
            met=t_running < d_running,
        ),
        Measurement(
            workload="schedule_latency (pick-up)",
            ours=t_pending,
            reference=d_pending,
            unit="s to PENDING",
            ratio=d_pending / t_pending,
            target="<= 1.5 s: the worker polls every second",
            met=t_pending <= 1.5,
        ),
    ]


if __name__ == "__main__":  # pragma: no cover
    from deployments.bench import format_table

    print(format_table(run(quick=True)))
