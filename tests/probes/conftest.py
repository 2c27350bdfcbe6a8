"""Fixtures for probe tests: a local HTTP target and an HTTPS target factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.probes.server import ServerThread, create_app, free_port, make_certificate


@pytest.fixture(scope="session")
def target() -> Iterator[str]:
    """Base URL of the local test app (shared by the session; state is keyed per test)."""
    with ServerThread(create_app()) as server:
        yield server.url


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def https_target(tmp_path: Path) -> Iterator[Callable[[float], tuple[str, Path]]]:
    """Start an HTTPS server whose self-signed certificate expires in ``days``: (url, cert)."""
    with ExitStack() as stack:

        def start(days: float) -> tuple[str, Path]:
            cert, key = make_certificate(tmp_path, days, name=f"cert-{days}")
            server = stack.enter_context(ServerThread(create_app(), cert, key))
            return server.url, cert

        yield start
