"""Shared fixtures: an isolated TRACEO_HOME, and the store on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.services import POSTGRES_URL, require_service

# Keep Prefect quiet and offline-friendly for any test that touches it.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Flows persist their results (see tasks.results); tests keep them out of ~/.traceo.
os.environ.setdefault("TRACEO_RESULT_STORAGE", tempfile.mkdtemp(prefix="traceo-test-results-"))


# How the suite spreads over xdist workers (`--dist loadfile --no-loadscope-reorder`): each
# module runs on one worker (a module-scoped fixture starts once), and modules are handed out
# longest first (the demo, then modules holding `slow` tests, then the rest), so no long test
# starts last and holds up the end of the run. Tests using the shared Prefect test server, the
# browser or a Spark JVM are `slow` too: outside the quick tier (`pytest -m "not slow"`).
_SLOW_FIXTURES = {"prefect_server", "chromium", "spark", "connect_url"}
_FIRST = "tests/test_demo.py"


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    slow_modules = {_module(i) for i in items if i.get_closest_marker("slow")}

    def rank(module: str) -> int:
        return 0 if module == _FIRST else 1 if module in slow_modules else 2

    items.sort(key=lambda item: rank(_module(item)))  # stable: collection order within a rank


@pytest.fixture(autouse=True)
def traceo_home(tmp_path, monkeypatch) -> Iterator:
    """Every test gets its own TRACEO_HOME and the default (SQLite) store inside it."""
    from tasks.settings import get_settings
    from tasks.store import dispose_engines

    monkeypatch.setenv("TRACEO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRACEO_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    dispose_engines()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped at the end of the session."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"traceo_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """The store URL on each backend; PostgreSQL tables are emptied between tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = request.getfixturevalue("postgres_schema_url")
    yield url
    from tasks.store import Base, get_engine

    engine = get_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def store_engine(store_url):
    """A migrated engine on each backend."""
    from tasks.store import get_engine

    return get_engine(store_url)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory, worker_id) -> Iterator[None]:
    """One Prefect test server for the whole run (~15 s of CPU to start): engine tests share it.

    Under xdist the workers share one server (:mod:`tests.prefect_server`); alone, the run
    starts Prefect's own test harness.
    """
    if worker_id == "master":
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=120):
            yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.prefect_server import shared_server_url

    url = shared_server_url(tmp_path_factory.getbasetemp().parent, os.getppid())
    with temporary_settings({PREFECT_API_URL: url}):
        yield


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller of an xdist run stops the workers' shared Prefect server."""
    if hasattr(session.config, "workerinput") or not hasattr(session.config, "_tmp_path_factory"):
        return
    from tests.prefect_server import stop_shared_server

    stop_shared_server(session.config._tmp_path_factory.getbasetemp())
