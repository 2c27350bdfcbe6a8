from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.chaos.drivers.base import FaultDriver, FaultHandle
from tasks.chaos.drivers.process import ProcessDriver, process_state
from tasks.errors import ConfigurationError, NotFoundError, ServiceUnavailableError, SpecError
from tasks.local_server import free_port

SLEEPER = Path(__file__).with_name("sleeper.py")


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


class Sleepers:
    """Starts sleeper processes writing pid files under one directory; kills them all after."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.children: list[subprocess.Popen[bytes]] = []

    def command(self, name: str, *extra: str) -> list[str]:
        return [sys.executable, str(SLEEPER), str(self.root / f"{name}.pid"), *extra]

    def start(self, name: str, *extra: str) -> tuple[Path, int]:
        pid_file = self.root / f"{name}.pid"
        child = subprocess.Popen(self.command(name, *extra))
        self.children.append(child)
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() == str(child.pid))
        return pid_file, child.pid

    def cleanup(self, pids: list[int]) -> None:
        for pid in pids:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        for child in self.children:
            child.wait(timeout=10)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    path.mkdir()
    return path


@pytest.fixture
def sleepers(run_dir: Path) -> Iterator[Sleepers]:
    group = Sleepers(run_dir)
    yield group
    pids = [child.pid for child in group.children]
    for pid_file in run_dir.glob("*.pid"):  # restarted copies the driver started
        text = pid_file.read_text().strip()
        if text.isdigit():
            pids.append(int(text))
    group.cleanup(pids)


@pytest.fixture
def driver(run_dir: Path) -> ProcessDriver:
    return ProcessDriver.from_configuration({"process_allowed_dirs": [str(run_dir)]})


def state(pid: int) -> str | None:
    found = process_state(pid)
    return found[0] if found else None


def test_driver_satisfies_the_fault_driver_protocol(driver: ProcessDriver) -> None:
    assert isinstance(driver, FaultDriver)
    assert driver.name == "process"


def test_stop_then_remove_continues_the_same_process(driver, sleepers) -> None:
    pid_file, pid = sleepers.start("stop")

    handle = driver.inject({"target": "shop-worker", "action": "stop", "pid_file": str(pid_file)})
    assert handle.target == "shop-worker"

    assert state(pid) == "T"
    verification = driver.verify_removed(handle)
    assert not verification.clean and "stopped" in verification.detail
    driver.remove(FaultHandle.from_json(json.loads(json.dumps(handle.to_json()))))
    assert state(pid) in ("S", "R")
    assert driver.verify_removed(handle).clean
    driver.remove(handle)  # idempotent: a second rollback changes nothing
    assert state(pid) in ("S", "R")


def test_kill_then_remove_starts_it_again_once(driver, sleepers) -> None:
    port = free_port()
    pid_file, pid = sleepers.start("kill", "--port", str(port))
    fault = {
        "target": "shop-worker",
        "action": "kill",
        "pid_file": str(pid_file),
        "command": sleepers.command("kill", "--port", str(port)),
        "health_port": port,
        "start_timeout_seconds": 20,
    }

    handle = driver.inject(fault)

    sleepers.children[0].wait(timeout=5)
    assert state(pid) is None
    assert not driver.verify_removed(handle).clean
    driver.remove(handle)
    new_pid = int(pid_file.read_text())
    assert new_pid != pid and state(new_pid) in ("S", "R")
    verification = driver.verify_removed(handle)
    assert verification.clean, verification.detail
    driver.remove(handle)  # rerun of the rollback: the pid file names a live process
    assert int(pid_file.read_text()) == new_pid
    assert [child.pid for child in driver._started] == [new_pid]


def test_kill_escalates_to_sigkill_after_the_grace_period(driver, sleepers) -> None:
    pid_file, _pid = sleepers.start("stubborn", "--ignore-term")
    fault = {
        "target": "shop-worker",
        "action": "kill",
        "pid_file": str(pid_file),
        "grace_seconds": 0.3,
        "command": sleepers.command("stubborn", "--ignore-term"),
    }

    started = time.monotonic()
    driver.inject(fault)

    assert sleepers.children[0].wait(timeout=5) == -signal.SIGKILL
    assert time.monotonic() - started >= 0.3


def test_restart_written_by_the_driver(driver, sleepers) -> None:
    pid_file, _ = sleepers.start("quiet")
    fault = {
        "target": "shop-worker",
        "action": "kill",
        "pid_file": str(pid_file),
        "command": sleepers.command("other", "--no-pid-file"),
        "pid_file_written_by": "driver",
    }
    handle = driver.inject(fault)

    driver.remove(handle)

    assert int(pid_file.read_text()) == driver._started[0].pid
    assert driver.verify_removed(handle).clean


def test_restart_command_that_fails_is_reported(driver, sleepers) -> None:
    pid_file, _ = sleepers.start("broken")
    fault = {
        "target": "shop-worker",
        "action": "kill",
        "pid_file": str(pid_file),
        "command": [sys.executable, "-c", "raise SystemExit(3)"],
    }
    handle = driver.inject(fault)

    with pytest.raises(ServiceUnavailableError, match="exited with code 3"):
        driver.remove(handle)
    assert not driver.verify_removed(handle).clean


def test_stale_pid_file_is_a_clear_error(driver, run_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid_file = run_dir / "stale.pid"
    pid_file.write_text(done.stdout)

    with pytest.raises(NotFoundError, match=r"stale pid file .*stale\.pid: no process"):
        driver.inject({"target": "shop-worker", "action": "stop", "pid_file": str(pid_file)})


def test_missing_and_garbled_pid_files(driver, run_dir: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        driver.inject(
            {"target": "shop-worker", "action": "stop", "pid_file": str(run_dir / "none.pid")}
        )
    (run_dir / "bad.pid").write_text("not-a-pid\n")
    with pytest.raises(ConfigurationError, match="does not hold a pid"):
        driver.inject(
            {"target": "shop-worker", "action": "stop", "pid_file": str(run_dir / "bad.pid")}
        )


@pytest.mark.parametrize("pid", [1, os.getpid()], ids=["init", "ourselves"])
def test_refuses_pid_1_and_our_own_pid(driver, run_dir: Path, pid: int) -> None:
    pid_file = run_dir / "danger.pid"
    pid_file.write_text(f"{pid}\n")

    with pytest.raises(ConfigurationError, match="refusing to signal"):
        driver.inject({"target": "shop-worker", "action": "stop", "pid_file": str(pid_file)})
    assert state(os.getpid()) in ("R", "S")


def test_refuses_pid_files_outside_the_allowed_directories(driver, tmp_path, run_dir) -> None:
    outside = tmp_path / "elsewhere.pid"
    outside.write_text(f"{os.getpid()}\n")
    sneaky = run_dir / ".." / "elsewhere.pid"  # resolves outside run_dir

    for path in (outside, sneaky):
        with pytest.raises(ConfigurationError, match="outside the allowed directories"):
            driver.inject(
                {
                    "target": "shop-worker",
                    "action": "kill",
                    "pid_file": str(path),
                    "command": ["true"],
                }
            )


def test_symlink_out_of_the_allowed_directory_is_refused(driver, tmp_path, run_dir) -> None:
    target = tmp_path / "real.pid"
    target.write_text("12345\n")
    (run_dir / "link.pid").symlink_to(target)

    with pytest.raises(ConfigurationError, match="outside the allowed directories"):
        driver.inject(
            {"target": "shop-worker", "action": "stop", "pid_file": str(run_dir / "link.pid")}
        )


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"target": "shop-worker", "action": "pause", "pid_file": "x.pid"}, "action"),
        ({"target": "shop-worker", "action": "kill", "pid_file": "x.pid"}, None),
        (
            {"target": "shop-worker", "action": "stop", "pid_file": "x.pid", "grace_seconds": -1},
            "grace_seconds",
        ),
        ({"target": "shop-worker", "action": "stop", "pid_file": "x.pid", "signal": 9}, "signal"),
        ({"target": "shop-worker", "action": "stop"}, "pid_file"),
        ({"action": "stop", "pid_file": "x.pid"}, "target"),
    ],
)
def test_invalid_specs_name_the_field(driver, fault, field) -> None:
    with pytest.raises(SpecError) as caught:
        driver.inject(fault)
    issue = caught.value.issues[0]
    assert issue.field == field
    if field is None:
        assert "needs command" in issue.reason


def test_configuration_defaults_to_traceo_home_run(traceo_home: Path) -> None:
    driver = ProcessDriver.from_configuration({})
    assert driver.allowed_dirs == [(traceo_home / "run").resolve()]
    nested = ProcessDriver.from_configuration({"process": {"allowed_dirs": ["/tmp/a", "/tmp/b"]}})
    assert nested.allowed_dirs == [Path("/tmp/a").resolve(), Path("/tmp/b").resolve()]


def test_a_reused_pid_does_not_pass_for_the_killed_process(driver, sleepers) -> None:
    pid_file, pid = sleepers.start("reused")
    found = process_state(pid)
    assert found is not None
    # A handle whose killed process had this pid but another start time: the pid was reused.
    handle = FaultHandle(
        "process",
        "shop-worker",
        {
            "action": "kill",
            "pid": pid,
            "start_ticks": found[1] - 1,
            "pid_file": str(pid_file),
            "command": sleepers.command("reused"),
            "start_timeout_seconds": 20,
        },
    )

    driver.remove(handle)

    assert [child.pid for child in driver._started] == [int(pid_file.read_text())]
    assert int(pid_file.read_text()) != pid


def test_refuses_to_stop_an_already_stopped_process(driver, sleepers) -> None:
    pid_file, pid = sleepers.start("paused")
    os.kill(pid, signal.SIGSTOP)
    wait_for(lambda: state(pid) == "T")

    with pytest.raises(ConfigurationError, match="already stopped"):
        driver.inject({"target": "shop-worker", "action": "stop", "pid_file": str(pid_file)})
