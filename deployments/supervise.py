"""The processes ``traceo serve`` starts, and how SIGTERM or Ctrl-C stops all of them within 10 s.

``traceo serve`` supervises at most two children, each in a session of its own: the embedded
Prefect server (when no ``PREFECT_API_URL`` is set) and the runner (``python -m
deployments.serve``), whose flow-run processes share the runner's session. A signal reaches them
only through the supervisor, which stops them in order:

1. the runner gets SIGTERM: Prefect cancels its in-flight runs and pauses the schedules while
   the server still answers; whatever of its session is left after ``RUNNER_GRACE`` s is killed;
2. the server gets SIGINT; after ``SERVER_GRACE`` s its session is killed, which frees the port.

Prefect alone does not bound this: its runner cancels runs one by one (loading each flow for its
hooks), and at exit it retries sending logs to a server that is already gone.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from infra.prefect._process import ManagedProcess

__all__ = ["RUNNER_GRACE", "SERVER_GRACE", "runner_process", "stop_signals"]

RUNNER_GRACE = 5.0
SERVER_GRACE = 3.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_signals() -> Iterator[None]:
    """In the block the first SIGTERM or SIGINT raises ``KeyboardInterrupt``; later ones do nothing.

    One signal starts one orderly stop, which a second Ctrl-C does not cut short. Without this
    SIGTERM ends Python at once and no ``finally`` runs; a shell's background job starts with
    SIGINT ignored.
    """
    stopping = False

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handle) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def runner_process(prefect_file: Path, names: Iterable[str], limit: int | None) -> ManagedProcess:
    """The runner serving ``prefect_file``, in its own session, writing to this process's output.

    It inherits this process's environment (``PREFECT_API_URL`` included), not a stripped one:
    the flow runs it starts need the operator's settings.
    """
    args = [sys.executable, "-m", "deployments.serve", str(prefect_file)]
    args += [f"--name={name}" for name in names]
    if limit is not None:
        args.append(f"--limit={limit}")
    return ManagedProcess(args, dict(os.environ), None, cwd=Path(__file__).resolve().parents[1])
