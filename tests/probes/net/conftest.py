"""Fixtures for network probe tests: a private PKI and a factory of local servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.probes.net.pki import Pki, make_pki
from tests.probes.net.servers import TcpServer


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def serve() -> Iterator[Callable[..., TcpServer]]:
    """Start a :class:`TcpServer` that stops at the end of the test."""
    with ExitStack() as stack:

        def start(*args: Any, **kwargs: Any) -> TcpServer:
            return stack.enter_context(TcpServer(*args, **kwargs))

        yield start
