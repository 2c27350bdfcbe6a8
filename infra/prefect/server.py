"""A real ``prefect server start`` on a free loopback port, on PostgreSQL, for tests and local runs.

PostgreSQL, not SQLite: under load a SQLite-backed server answers 503 "database is locked" and
stalls for up to a minute (docs/regions.md). Start-up takes 16-27 s here (migrations, then the
API), so a test starts one server and does everything against it.

    with temporary_database() as db, PrefectServer(tmp / "prefect", db) as server:
        server.api_url   # http://127.0.0.1:PORT/api
"""

from __future__ import annotations

import re
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from infra.prefect._process import ManagedProcess, free_port, prefect_command, prefect_env
from tasks.errors import ServiceUnavailableError
from tasks.redaction import display_url

__all__ = [
    "DEFAULT_ADMIN_URL",
    "PrefectServer",
    "asyncpg_url",
    "create_database",
    "drop_database",
    "temporary_database",
]

# The machine's PostgreSQL (trust auth on loopback); databases are created from its `postgres` db.
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def asyncpg_url(url: str) -> str:
    """The same PostgreSQL database with the asyncpg driver, which the Prefect server needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {display_url(parsed)}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def _checked(name: str) -> str:
    if not _DB_NAME.match(name):
        raise ValueError(f"database name {name!r} must match {_DB_NAME.pattern}")
    return name


def create_database(name: str, admin_url: str = DEFAULT_ADMIN_URL, exist_ok: bool = False) -> str:
    """Create database ``name`` next to ``admin_url``'s and return its (psycopg) URL."""
    _checked(name)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not (found and exist_ok):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str, admin_url: str = DEFAULT_ADMIN_URL, timeout: float = 60.0) -> None:
    """Drop database ``name``, closing any connection still open to it (PostgreSQL 13+).

    Raises:
        ServiceUnavailableError: not done within ``timeout`` s. PostgreSQL 15 waits for every
            backend to acknowledge a drop, and one in the middle of a ``COPY FROM STDIN`` (any
            database, anyone's) does not until its copy ends.
    """
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SET statement_timeout = {int(timeout * 1000)}"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)'))
    except DBAPIError as exc:
        raise ServiceUnavailableError(
            f"could not drop database {name!r} in {timeout:g}s "
            f"({type(exc.orig).__name__}); drop it later"
        ) from None
    finally:
        engine.dispose()


@contextmanager
def temporary_database(
    prefix: str = "traceo_tmp", admin_url: str = DEFAULT_ADMIN_URL
) -> Iterator[str]:
    """A fresh PostgreSQL database for the block; yields its psycopg URL, drops it afterwards.

    A drop that cannot finish (see :func:`drop_database`) warns instead of failing the caller.
    """
    name = _checked(f"{prefix}_{uuid.uuid4().hex[:10]}")
    url = create_database(name, admin_url)
    try:
        yield url
    finally:
        try:
            drop_database(name, admin_url)
        except ServiceUnavailableError as exc:
            warnings.warn(str(exc), RuntimeWarning, stacklevel=2)


class PrefectServer:
    """``prefect server start`` as a subprocess: started healthy or failing with its log tail.

    Args:
        home: ``PREFECT_HOME`` of the server (its log file goes there too unless ``log_path``).
        database_url: PostgreSQL URL (any driver; asyncpg is used). None means SQLite under
            ``home``: fine for a smoke test, not for load.
        host: loopback by default; the only legitimate target on test machines.
        port: 0 picks a free port.
        services: run the server's loop services (scheduler, late runs, event persister ...).
            Runs triggered by hand need none of them; turning them off saves CPU.
        scheduler: with services on, let the scheduler create runs from deployment schedules.
        ui: serve the Prefect UI too (off by default: tests and benches need only the API).
        startup_timeout: seconds to wait for ``/api/health``.
        env: extra environment for the server process.
    """

    def __init__(
        self,
        home: Path,
        database_url: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        services: bool = True,
        scheduler: bool = True,
        ui: bool = False,
        log_path: Path | None = None,
        startup_timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.home = Path(home)
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        extra = {"PREFECT_SERVER_UI_ENABLED": "true" if ui else "false"}
        if ui:
            # The UI asks the server where its API is; unset, the server answers with its
            # default port (4200), not the --port it listens on.
            extra["PREFECT_UI_API_URL"] = f"http://{host}:{self.port}/api"
        extra.update(env or {})
        if database_url:
            extra["PREFECT_API_DATABASE_CONNECTION_URL"] = asyncpg_url(database_url)
        args = ["server", "start", "--host", host, "--port", str(self.port)]
        if not ui:
            args.append("--no-ui")
        if not services:
            args.append("--no-services")
        elif not scheduler:
            args.append("--no-scheduler")
        self.process = ManagedProcess(
            prefect_command(*args),
            prefect_env(self.home, extra),
            log_path or self.home / "server.log",
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for ``PREFECT_API_URL``."""
        return f"{self.url}/api"

    def client_env(self) -> dict[str, str]:
        """Environment that points a Prefect client, CLI or worker at this server."""
        return {"PREFECT_API_URL": self.api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> PrefectServer:
        """Launch the server and wait until ``/api/health`` answers (migrations done).

        Raises:
            PrefectProcessError: it exited or was not healthy in time (with its log tail).
        """
        self.home.mkdir(parents=True, exist_ok=True)
        self.process.launch()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return self
            if not self.process.running:
                raise self.process.error(
                    f"Prefect server exited with {self.process.returncode} before it was healthy"
                )
            time.sleep(0.5)
        error = self.process.error(
            f"Prefect server not healthy on {self.url} after {self.startup_timeout:g}s"
        )
        self.process.stop()
        raise error

    def stop(self, timeout: float = 30.0) -> None:
        self.process.stop(timeout)

    def __enter__(self) -> PrefectServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
