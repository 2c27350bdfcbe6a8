"""Worker footprint: each worker role's environment size and flow import time, next to all-in-one.

Every role's environment is built from uv.lock into a temporary directory, as its image target
does (``uv sync --frozen --no-dev --extra ...``, infra/worker_roles.py), and so is today's
all-in-one environment (``--extra all``), in the same run.

- size: bytes of the environment without bytecode caches, MB; reference: the all-in-one
  environment; ratio reference / ours (how many times smaller the role's worker is);
- import: seconds for a fresh interpreter of the environment to import the role's flow modules
  (best of a few, alternated); reference: the same modules in the all-in-one environment.

The probe worker (probes and browser extras: Playwright's package, no browser) must stay under
400 MB (issue 16).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from deployments.bench import Measurement
from infra.worker_roles import ROLES, WorkerRole, environment_bytes, sync_role

__all__ = ["run"]

PROBE_LIMIT_MB = 400.0
IMPORT_MARGIN = 0.1  # two fresh interpreters on a shared machine differ by this much
_MB = 1024 * 1024
_TIMED_IMPORT = (
    "import sys, time; t = time.perf_counter(); "
    "[__import__(m) for m in sys.argv[1].split(',')]; print(time.perf_counter() - t)"
)


def _import_seconds(python: Path, modules: tuple[str, ...], cwd: Path) -> float:
    out = subprocess.run(
        [python, "-c", _TIMED_IMPORT, ",".join(modules)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def _import_pair(
    ours: Path, reference: Path, modules: tuple[str, ...], repeats: int, cwd: Path
) -> tuple[float, float]:
    """Best of ``repeats`` imports in each environment, alternated, after one warm-up each.

    The warm-up writes the bytecode a fresh environment lacks (an image compiles it at build
    time); alternating and keeping the best keeps a busy machine's noise out of the ratio.
    """
    pythons = (ours, reference)
    for python in pythons:
        _import_seconds(python, modules, cwd)
    runs: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for python, times in zip(pythons, runs, strict=True):
            times.append(_import_seconds(python, modules, cwd))
    return min(runs[0]), min(runs[1])


def _measure(
    role: WorkerRole, python: Path, everything: Path, reference_mb: float, repeats: int, tmp: Path
) -> list[Measurement]:
    size_mb = environment_bytes(python.parents[1]) / _MB
    if role.name == "probes":
        target, met = f"< {PROBE_LIMIT_MB:.0f} MB", size_mb < PROBE_LIMIT_MB
    else:
        target, met = "smaller than all-in-one", size_mb < reference_mb
    ours_s, reference_s = _import_pair(python, everything, role.flow_modules, repeats, tmp)
    extras = ",".join(role.extras) or "none"
    return [
        Measurement(
            f"worker_footprint[{role.name}] size",
            size_mb,
            reference_mb,
            "MB",
            reference_mb / size_mb,
            target,
            met,
            f"extras: {extras}; reference: the all-in-one environment (--extra all)",
        ),
        Measurement(
            f"worker_footprint[{role.name}] import",
            ours_s,
            reference_s,
            "s",
            reference_s / ours_s,
            f"<= all-in-one + {IMPORT_MARGIN:.0%}",
            ours_s <= reference_s * (1 + IMPORT_MARGIN),
            f"import {', '.join(role.flow_modules)} in a fresh interpreter, best of {repeats}",
        ),
    ]


def run(quick: bool) -> list[Measurement]:
    repeats = 2 if quick else 5
    with tempfile.TemporaryDirectory(prefix="traceo-footprint-") as tmp:
        root = Path(tmp)
        everything = sync_role(("all",), root / "all")
        reference_mb = environment_bytes(root / "all") / _MB
        results: list[Measurement] = []
        for role in ROLES:
            python = sync_role(role.extras, root / role.name)
            results += _measure(role, python, everything, reference_mb, repeats, root)
        return results
