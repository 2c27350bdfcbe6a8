"""Worker roles: the extras each kind of worker installs, the flows it runs, its environment.

A role is one container image target (infra/prefect/Dockerfile), one set of work pools
(deployments/prefect.yaml) and one set of extras (pyproject.toml). :func:`sync_role` builds a
role's environment from uv.lock alone into a directory, as a worker image does; the per-role
tests and the ``worker_footprint`` bench use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROLES", "ROOT", "WorkerRole", "environment_bytes", "role_of_pool", "sync_role"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class WorkerRole:
    """One kind of worker: its image target, extras, flow modules and work pools."""

    name: str
    extras: tuple[str, ...]
    flow_modules: tuple[str, ...]
    pools: tuple[str, ...]

    @property
    def image(self) -> str:
        """The image a flow run of this role uses (the job template's ``image`` variable)."""
        return f"registry.example.com/traceo-jobs:{self.name}"


ROLES: tuple[WorkerRole, ...] = (
    WorkerRole("core", (), ("flows.slo", "flows.store"), ("traceo",)),
    WorkerRole(
        "probes",
        ("probes", "browser"),
        ("flows.synthetic",),
        ("probes-us-east-1", "probes-eu-west-1", "probes-ap-northeast-1"),
    ),
    WorkerRole("cost", ("cost", "chargeback"), ("flows.cost", "flows.chargeback"), ("cost",)),
    WorkerRole("privacy", ("privacy",), ("flows.privacy",), ("privacy",)),
    WorkerRole("chaos", ("chaos",), ("flows.chaos",), ("chaos",)),
    WorkerRole("drift", ("drift",), ("flows.drift",), ("drift",)),
)


def role_of_pool(pool: str) -> WorkerRole:
    """The role whose workers serve ``pool``."""
    for role in ROLES:
        if pool in role.pools:
            return role
    raise KeyError(f"no worker role serves work pool {pool!r} (infra/worker_roles.py)")


def sync_role(extras: tuple[str, ...], dest: Path) -> Path:
    """Install the core plus ``extras`` from uv.lock into a new environment at ``dest``.

    Returns the environment's Python. Uses uv's cache, so a warm machine installs offline.
    """
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is not on PATH")
    args = [uv, "sync", "--frozen", "--no-dev", "--quiet"]
    for extra in extras:
        args += ["--extra", extra]
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(dest)}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(args, cwd=ROOT, env=env, check=True)
    return dest / "bin" / "python"


def environment_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (bytecode caches excluded: they depend on use)."""
    return sum(
        f.stat().st_size
        for f in path.rglob("*")
        if f.is_file() and not f.is_symlink() and "__pycache__" not in f.parts
    )
