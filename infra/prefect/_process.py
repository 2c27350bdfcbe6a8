"""Subprocess plumbing shared by the Prefect server and worker helpers.

Prefect runs as ``python -m prefect ...`` from this interpreter (so the same virtualenv). Each
long-running process gets its own session (a Ctrl-C meant for the caller does not reach it half-way
through a test) and appends its output to a log file whose tail goes into any error message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tasks.errors import ServiceUnavailableError

__all__ = [
    "ManagedProcess",
    "PrefectProcessError",
    "free_port",
    "prefect_command",
    "prefect_env",
    "run_prefect",
]


class PrefectProcessError(ServiceUnavailableError):
    """A Prefect server, worker or CLI process failed; ``log_tail`` holds its last output."""

    def __init__(self, message: str, log_path: Path | None = None, log_tail: str = "") -> None:
        self.log_path = log_path
        self.log_tail = log_tail
        where = f" (log: {log_path})" if log_path else ""
        tail = f"\n--- last output ---\n{log_tail}" if log_tail else ""
        super().__init__(f"{message}{where}{tail}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# A shell starts background jobs with SIGINT ignored and exec keeps it ignored; a Prefect worker
# then re-raises SIGINT into the void and only a second one (SIGKILL) stops it. So reset SIGINT
# to its default, then exec the real command (``ps`` shows ``python -m prefect ...``).
_WITH_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def prefect_command(*args: str) -> list[str]:
    """``python -m prefect ARGS`` with this interpreter (the same virtualenv as the caller)."""
    return [sys.executable, "-c", _WITH_DEFAULT_SIGINT, "-m", "prefect", *args]


def prefect_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its ``PREFECT_*`` settings, for a Prefect subprocess.

    Inherited Prefect settings are dropped so a developer's profile, API URL or Cloud key never
    leaks into a throw-away server or worker; ``extra`` adds what the process needs.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # Log lines reach the file at once, and rich does not wrap them at 80 columns.
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "250",
        }
    )
    env.update(extra or {})
    return env


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ManagedProcess:
    """One long-running subprocess in its own session, its output appended to ``log_path``.

    Without ``log_path`` the process writes to the caller's stdout and stderr.
    """

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        log_path: Path | None,
        cwd: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def launch(self) -> None:
        """Start the process (no waiting); a second call is an error."""
        if self._proc is not None:
            raise RuntimeError(f"already launched: {' '.join(self.args)}")
        with contextlib.ExitStack() as stack:
            log = None
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                log = stack.enter_context(self.log_path.open("ab"))
            self._proc = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
            )

    def wait(self) -> int:
        """Block until the process exits; its exit code."""
        if self._proc is None:
            raise RuntimeError(f"not launched: {' '.join(self.args)}")
        return self._proc.wait()

    def stop(self, timeout: float = 30.0, sig: signal.Signals = signal.SIGINT) -> int | None:
        """``sig``, wait up to ``timeout`` s, then SIGKILL the process's own session.

        SIGINT by default, not SIGTERM: a Prefect process worker ignores SIGTERM for over a
        minute. A process already gone still has its session killed: the flow runs or server
        processes it started must not outlive it.
        """
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
        # The session is ours (start_new_session): this also ends flow-run children.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the process's output."""
        return _tail(self.log_path, lines) if self.log_path else ""

    def log_text(self) -> str:
        """Everything the process wrote so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def error(self, message: str) -> PrefectProcessError:
        """An error naming this process, with its log file and last output."""
        return PrefectProcessError(message, self.log_path, self.log_tail())


def run_prefect(
    args: Sequence[str],
    api_url: str,
    home: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """Run one Prefect CLI command against ``api_url``; raise with its output if it fails.

    Example: ``run_prefect(["--no-prompt", "deploy", "--all", "--prefect-file", "p.yaml"], ...)``.
    """
    full_env = prefect_env(home, {"PREFECT_API_URL": api_url, **(env or {})})
    try:
        done = subprocess.run(
            prefect_command(*args),
            env=full_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        raise PrefectProcessError(
            f"`prefect {' '.join(args)}` did not finish in {timeout:g}s", None, out[-4000:]
        ) from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-4000:]
        raise PrefectProcessError(
            f"`prefect {' '.join(args)}` exited with {done.returncode}", None, output
        )
    return done
