"""infra.prefect: databases, process control and start-up errors (no healthy server needed)."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, text

from infra.prefect import (
    DEFAULT_ADMIN_URL,
    ManagedProcess,
    PrefectProcessError,
    PrefectServer,
    asyncpg_url,
    create_database,
    prefect_env,
    run_prefect,
    temporary_database,
)
from tests.services import require_service


def test_asyncpg_url_keeps_the_database_and_credentials() -> None:
    url = asyncpg_url("postgresql+psycopg://app:s3cret@127.0.0.1:5432/prefect")
    assert url == "postgresql+asyncpg://app:s3cret@127.0.0.1:5432/prefect"
    assert asyncpg_url("postgresql://h/db") == "postgresql+asyncpg://h/db"
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        asyncpg_url("sqlite:///x.db")


def test_database_names_are_checked_before_any_sql() -> None:
    with pytest.raises(ValueError, match="must match"):
        create_database('x"; DROP DATABASE test; --', "postgresql+psycopg://nobody@127.0.0.1:1/x")


def test_prefect_env_drops_the_callers_prefect_settings(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_not_for_children")
    monkeypatch.setenv("PREFECT_API_URL", "https://api.prefect.cloud/api/accounts/x")
    monkeypatch.setenv("TRACEO_HOME", "/srv/traceo")
    env = prefect_env(tmp_path, {"PREFECT_API_URL": "http://127.0.0.1:1/api"})
    assert "PREFECT_API_KEY" not in env
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:1/api"
    assert env["PREFECT_HOME"] == str(tmp_path)
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["TRACEO_HOME"] == "/srv/traceo"


@pytest.mark.postgres
def test_temporary_database_exists_inside_the_block_and_is_dropped_after() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    with temporary_database("traceo_helper_test") as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            name = conn.scalar(text("SELECT current_database()"))
        engine.dispose()
        assert name.startswith("traceo_helper_test_")
    admin = create_engine(DEFAULT_ADMIN_URL)
    with admin.connect() as conn:
        left = conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name})
    admin.dispose()
    assert left == 0


def test_stop_escalates_to_sigkill_when_sigint_is_ignored(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    proc = ManagedProcess([sys.executable, "-c", stubborn], {}, tmp_path / "p.log")
    proc.launch()
    deadline = time.monotonic() + 10
    while "ready" not in proc.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.stop(timeout=0.5) == -9  # killed: it would otherwise sleep for 60 s
    assert not proc.running


@pytest.mark.slow  # starts Prefect's CLI
def test_a_server_that_cannot_start_fails_with_its_log_tail(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = PrefectServer(tmp_path / "prefect", port=port, startup_timeout=60)
        with pytest.raises(PrefectProcessError) as caught:
            server.start()
    message = str(caught.value)
    assert "exited with" in message
    assert f"Port {port} is already in use" in message
    assert caught.value.log_path == tmp_path / "prefect" / "server.log"
    assert not server.process.running


@pytest.mark.slow  # starts Prefect's CLI
def test_a_failing_cli_command_raises_with_its_output(tmp_path: Path) -> None:
    with pytest.raises(PrefectProcessError) as caught:
        run_prefect(["no-such-command"], "http://127.0.0.1:1/api", tmp_path, timeout=60)
    assert "`prefect no-such-command` exited with" in str(caught.value)
    assert caught.value.log_tail


def test_stop_ends_what_the_process_left_behind_in_its_session(tmp_path: Path) -> None:
    leaves_a_child = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    proc = ManagedProcess([sys.executable, "-c", leaves_a_child], {}, tmp_path / "p.log")
    proc.launch()
    deadline = time.monotonic() + 10
    while not proc.log_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = psutil.Process(int(proc.log_text()))
    proc.stop(timeout=10)  # SIGINT ends the parent; its child ignores it
    child.wait(timeout=10)  # the bounded wait only keeps a broken build from hanging
    assert not child.is_running()
