"""Real Prefect infrastructure for tests and local multi-region runs (see docs/regions.md).

- :class:`PrefectServer`: ``prefect server start`` on PostgreSQL on a free loopback port.
- :class:`ProcessWorker`: ``prefect worker start --type process`` for one (regional) work pool.
- :func:`temporary_database`: a throw-away PostgreSQL database for a server or the store.
- :func:`run_prefect`: one Prefect CLI command (``deploy``, ``work-pool create`` ...) against a
  server.

Only the subprocesses import Prefect; importing this package is cheap. Example infrastructure for
real regions (docker compose, Helm values, a Kubernetes work-pool job template) sits next to this
module and is documented, not run, here.
"""

from __future__ import annotations

from infra.prefect._process import (
    ManagedProcess,
    PrefectProcessError,
    free_port,
    prefect_command,
    prefect_env,
    run_prefect,
)
from infra.prefect.server import (
    DEFAULT_ADMIN_URL,
    PrefectServer,
    asyncpg_url,
    create_database,
    drop_database,
    temporary_database,
)
from infra.prefect.worker import ProcessWorker

__all__ = [
    "DEFAULT_ADMIN_URL",
    "ManagedProcess",
    "PrefectProcessError",
    "PrefectServer",
    "ProcessWorker",
    "asyncpg_url",
    "create_database",
    "drop_database",
    "free_port",
    "prefect_command",
    "prefect_env",
    "run_prefect",
    "temporary_database",
]
