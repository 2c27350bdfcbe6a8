"""The ``process`` fault driver: stop or kill a local process named by a pid file, and undo it.

Fault spec::

    target: shop-worker           # the name the experiment's allowlist matches (process:shop-*)
    action: stop | kill           # stop = SIGSTOP; kill = SIGTERM, then SIGKILL after grace_seconds
    pid_file: /run/traceo/shop.pid  # must lie inside an allowed directory
    grace_seconds: 5              # kill only
    command: [python, -m, shop]   # kill only: how rollback starts the process again
    cwd: /srv/shop                # optional, for command
    pid_file_written_by: process  # or "driver": rollback writes the started pid itself
    health_port: 8080             # optional: rollback (and verify) wait until it accepts
    start_timeout_seconds: 15

``remove`` sends SIGCONT to a stopped process, or starts a killed one again unless the pid file
already names a live process (so a second rollback never starts a second copy). ``verify_removed``
is clean when the pid file names a live process that is not stopped (``/proc/<pid>/stat``), and
its health port answers. Pid files outside the allowed directories (configuration
``process_allowed_dirs`` or ``TRACEO_CHAOS_PROCESS_ALLOWED_DIRS``, default ``$TRACEO_HOME/run``),
pid 1, our own pid and our parent's are refused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.chaos.drivers.base import FaultHandle, Verification
from tasks.errors import ConfigurationError, NotFoundError, ServiceUnavailableError, SpecError
from tasks.specs import validation_issues

__all__ = ["ProcessDriver", "ProcessFault", "process_state"]

log = logging.getLogger(__name__)
_SIGNAL_WAIT_SECONDS = 5.0


class ProcessFault(BaseModel):
    """A process fault as an experiment writes it (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field(min_length=1, max_length=200)
    action: Literal["stop", "kill"]
    pid_file: Path
    grace_seconds: float = Field(default=5.0, ge=0, le=300)
    command: list[str] | None = Field(default=None, min_length=1)
    cwd: Path | None = None
    pid_file_written_by: Literal["process", "driver"] = "process"
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"
    start_timeout_seconds: float = Field(default=15.0, gt=0, le=600)

    @model_validator(mode="after")
    def _kill_needs_a_command(self) -> ProcessFault:
        if self.action == "kill" and not self.command:
            raise ValueError("action 'kill' needs command (how rollback starts it again)")
        if self.action == "stop" and self.command:
            raise ValueError("command is only used by action 'kill'")
        return self


def process_state(pid: int, start_ticks: int | None = None) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of a live ``pid``; None if gone or a zombie.

    With ``start_ticks``, a different process that reuses the pid also counts as gone.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and ')'
    state, ticks = fields[0], int(fields[19])
    if state in "ZXx" or (start_ticks is not None and ticks != start_ticks):
        return None
    return state, ticks


class ProcessDriver:
    """Inject, remove and verify process faults (see the module docstring)."""

    name = "process"

    def __init__(self, allowed_dirs: list[Path]) -> None:
        if not allowed_dirs:
            raise ConfigurationError("process driver: no allowed pid-file directories configured")
        self.allowed_dirs = [Path(d).expanduser().resolve() for d in allowed_dirs]
        self._started: list[subprocess.Popen[bytes]] = []  # kept so they are reaped, not leaked

    @classmethod
    def from_configuration(cls, config: Mapping[str, Any]) -> ProcessDriver:
        """Allowed directories from ``process.allowed_dirs`` / ``process_allowed_dirs`` / env."""
        nested = config.get("process")
        raw = nested.get("allowed_dirs") if isinstance(nested, Mapping) else None
        raw = raw or config.get("process_allowed_dirs")
        if raw is None:
            from tasks.settings import get_settings, load
            from tasks.settings.areas import ChaosSettings

            raw = load(ChaosSettings).process_allowed_dirs
            if raw is None:
                return cls([get_settings().home / "run"])
        dirs = raw.split(os.pathsep) if isinstance(raw, str) else list(raw)
        return cls([Path(d) for d in dirs if str(d)])

    # --- the FaultDriver interface ---------------------------------------------------------

    def inject(self, fault: Mapping[str, Any]) -> FaultHandle:
        """Stop or kill the process the pid file names.

        Raises:
            SpecError: the fault spec is invalid (names the field).
            ConfigurationError: pid file outside the allowed directories, pid 1 / ourselves,
                or no permission to signal the process.
            NotFoundError: the pid file is missing or stale.
        """
        spec = _parse(fault)
        pid_file = self._allowed(spec.pid_file)
        pid = _read_pid(pid_file)
        state = process_state(pid)
        if state is None:
            raise NotFoundError(f"stale pid file {pid_file}: no process {pid} is running")
        _refuse_ourselves(pid)
        if spec.action == "stop" and state[0] in "Tt":
            # continuing it on rollback would undo whoever stopped it first
            raise ConfigurationError(f"pid {pid} is already stopped (state {state[0]})")
        details = spec.model_dump(mode="json") | {
            "pid_file": str(pid_file),
            "pid": pid,
            "start_ticks": state[1],
        }
        handle = FaultHandle(self.name, spec.target, details)
        if spec.action == "stop":
            _signal(pid, signal.SIGSTOP)
            try:
                _wait(
                    lambda: _state_letter(pid) in ("T", None), _SIGNAL_WAIT_SECONDS, f"stop {pid}"
                )
            except ServiceUnavailableError:  # no handle goes back: leave nothing stopped
                with contextlib.suppress(NotFoundError, ConfigurationError):
                    _signal(pid, signal.SIGCONT)
                raise
            log.info("Stopped pid %s", pid)
        else:
            self._kill(pid, spec.grace_seconds)
        return handle

    def remove(self, handle: FaultHandle) -> None:
        """SIGCONT a stopped process; start a killed one again unless one is already running."""
        details = handle.details
        pid = int(details["pid"])
        if details["action"] == "stop":
            state = process_state(pid, int(details["start_ticks"]))
            if state is None:
                log.warning("pid %s is gone; nothing to continue", pid)
            elif state[0] in "Tt":
                _signal(pid, signal.SIGCONT)
                _wait(
                    lambda: _state_letter(pid) not in ("T", "t"),
                    _SIGNAL_WAIT_SECONDS,
                    f"continue {pid}",
                )
                log.info("Continued pid %s", pid)
            return
        pid_file = self._allowed(Path(details["pid_file"]))
        current = _live_pid(pid_file)
        if current == pid and process_state(pid, int(details["start_ticks"])) is None:
            current = None  # the killed pid was reused by an unrelated process
        if current is not None:
            log.info("%s already names running pid %s; not starting another", pid_file, current)
            return
        self._start(details, pid_file, old_pid=pid)

    def verify_removed(self, handle: FaultHandle) -> Verification:
        """Clean when the pid file names a running, not stopped process (and its port answers)."""
        pid_file = Path(handle.details["pid_file"])
        try:
            pid = _read_pid(pid_file)
        except (NotFoundError, ConfigurationError) as exc:
            return Verification(False, str(exc))
        state = _state_letter(pid)
        if state is None:
            return Verification(False, f"pid {pid} from {pid_file} is not running")
        if state in ("T", "t"):
            return Verification(False, f"pid {pid} is stopped (state {state})")
        port = handle.details.get("health_port")
        if port and not _port_open(str(handle.details.get("health_host")), int(port)):
            return Verification(False, f"pid {pid} runs but port {port} does not answer")
        return Verification(True, f"pid {pid} is running (state {state})")

    # --- helpers -----------------------------------------------------------------------------

    def _allowed(self, pid_file: Path) -> Path:
        resolved = pid_file.expanduser().resolve()
        if not any(resolved.is_relative_to(d) for d in self.allowed_dirs):
            allowed = ", ".join(map(str, self.allowed_dirs))
            raise ConfigurationError(
                f"pid file {pid_file} is outside the allowed directories ({allowed})"
            )
        return resolved

    def _reap(self) -> None:
        """Collect exit codes of copies we started (only ours: others' children are theirs)."""
        self._started = [child for child in self._started if child.poll() is None]

    def _kill(self, pid: int, grace: float) -> None:
        with contextlib.suppress(NotFoundError):  # it exited on its own meanwhile: fine
            _signal(pid, signal.SIGTERM)
        try:
            _wait(lambda: _gone(pid), grace, f"pid {pid} to exit after SIGTERM")
            log.info("Terminated pid %s", pid)
            self._reap()
            return
        except ServiceUnavailableError:
            log.info("pid %s outlived its %gs grace period; sending SIGKILL", pid, grace)
        with contextlib.suppress(NotFoundError):
            _signal(pid, signal.SIGKILL)
        _wait(lambda: _gone(pid), _SIGNAL_WAIT_SECONDS, f"pid {pid} to exit after SIGKILL")
        self._reap()

    def _start(self, details: Mapping[str, Any], pid_file: Path, old_pid: int) -> None:
        command = [str(part) for part in details["command"]]
        log.info("Starting %s again", command[0])
        try:
            child = subprocess.Popen(
                command,
                cwd=details.get("cwd"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # not in our process group: our signals do not reach it
            )
        except OSError as exc:
            raise ConfigurationError(f"cannot start {command[0]}: {exc.strerror}") from None
        self._started.append(child)
        if details.get("pid_file_written_by") == "driver":
            tmp = pid_file.with_name(pid_file.name + ".tmp")
            tmp.write_text(f"{child.pid}\n")
            tmp.replace(pid_file)
        port = details.get("health_port")

        def ready() -> bool:
            code = child.poll()
            if code not in (None, 0):  # 0: a daemon that forked and exited is fine
                raise ServiceUnavailableError(f"{command[0]} exited with code {code} on restart")
            if _live_pid(pid_file) in (None, old_pid):  # not yet rewritten by the new copy
                return False
            return not port or _port_open(str(details.get("health_host")), int(port))

        _wait(ready, float(details["start_timeout_seconds"]), f"{command[0]} to start again")
        log.info("Started %s again as pid %s", command[0], _live_pid(pid_file))


def _parse(fault: Mapping[str, Any]) -> ProcessFault:
    try:
        return ProcessFault.model_validate(dict(fault))
    except ValidationError as exc:
        item = str(fault.get("target") or fault.get("action"))
        raise SpecError(validation_issues("process fault", item, exc)) from None


def _read_pid(pid_file: Path) -> int:
    try:
        text = pid_file.read_text().strip()
    except FileNotFoundError:
        raise NotFoundError(f"pid file {pid_file} does not exist") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read pid file {pid_file}: {exc.strerror}") from None
    if not text.isdigit():
        raise ConfigurationError(f"pid file {pid_file} does not hold a pid")
    return int(text)


def _live_pid(pid_file: Path) -> int | None:
    with contextlib.suppress(NotFoundError, ConfigurationError):
        pid = _read_pid(pid_file)
        if process_state(pid) is not None:
            return pid
    return None


def _refuse_ourselves(pid: int) -> None:
    if pid <= 1:
        raise ConfigurationError(f"refusing to signal pid {pid} (init)")
    if pid in (os.getpid(), os.getppid()):
        raise ConfigurationError(f"refusing to signal pid {pid}: it is this process or its parent")


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        raise NotFoundError(f"no process {pid} to send {sig.name} to") from None
    except PermissionError:
        raise ConfigurationError(f"not allowed to send {sig.name} to pid {pid}") from None


def _state_letter(pid: int) -> str | None:
    state = process_state(pid)
    return state[0] if state else None


def _gone(pid: int) -> bool:
    return process_state(pid) is None  # a zombie counts as gone


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait(done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            raise ServiceUnavailableError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)
