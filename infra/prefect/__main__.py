"""Local multi-region Prefect: a server on PostgreSQL and one process worker per work pool.

    uv run python -m infra.prefect            # every pool of deployments/prefect.yaml, and the UI
    uv run python -m infra.prefect --pool probes-us-east-1 --pool traceo --no-ui

then, in another shell, ``PREFECT_API_URL=http://127.0.0.1:4200/api uv run prefect --no-prompt
deploy --all --prefect-file deployments/prefect.yaml``. Ctrl-C stops the workers, then the server.
The database is created if missing and kept, so deployments and run history survive a restart.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from infra.prefect.server import DEFAULT_ADMIN_URL, PrefectServer, create_database
from infra.prefect.worker import ProcessWorker

__all__ = ["main"]

_REPO = Path(__file__).resolve().parents[2]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.prefect",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--pool",
        action="append",
        default=None,
        help="work pool (repeatable; default: every pool of deployments/prefect.yaml)",
    )
    parser.add_argument(
        "--ui", action=argparse.BooleanOptionalAction, default=True, help="serve the Prefect UI"
    )
    parser.add_argument("--database", default="traceo_prefect", help="PostgreSQL database name")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="URL to create it from")
    parser.add_argument("--port", type=int, default=4200, help="server port (0: a free one)")
    parser.add_argument(
        "--home",
        type=Path,
        default=Path.home() / ".traceo" / "prefect-local",
        help="PREFECT_HOME and logs of the server and workers",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="worker environment"
    )
    return parser.parse_args(argv)


def _declared_pools() -> list[str]:
    """The work pools of deployments/prefect.yaml (plain YAML: infra imports no deployments)."""
    import yaml

    doc = yaml.safe_load((_REPO / "deployments" / "prefect.yaml").read_text())
    return sorted({d["work_pool"]["name"] for d in doc["deployments"]})


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    pools = args.pool or _declared_pools()
    env = dict(item.split("=", 1) for item in args.env)
    env.setdefault("TRACEO_REPO_DIR", str(_REPO))  # the pull step of deployments/prefect.yaml
    # Explicit handlers: a shell starts background jobs with SIGINT ignored; SIGTERM stops too.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    db_url = create_database(args.database, args.admin_url, exist_ok=True)
    try:
        with ExitStack() as stack:
            server = stack.enter_context(
                PrefectServer(args.home / "server", db_url, port=args.port, ui=args.ui)
            )
            print(f"Prefect server: {server.url}  (log: {server.process.log_path})", flush=True)
            workers = [
                ProcessWorker(pool, server.api_url, args.home / pool, env=env, cwd=_REPO)
                for pool in pools
            ]
            for worker in workers:
                stack.callback(worker.stop)
                worker.launch()
            for worker in workers:
                worker.wait_ready()
                print(f"worker {worker.name} online  (log: {worker.process.log_path})")
            print(f"\nexport PREFECT_API_URL={server.api_url}\nCtrl-C to stop.", flush=True)
            while True:
                time.sleep(1)
                dead = [w.name for w in workers if not w.process.running]
                if dead or not server.process.running:
                    print(f"stopped unexpectedly: {dead or ['server']}", file=sys.stderr)
                    return 1
    except KeyboardInterrupt:
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
