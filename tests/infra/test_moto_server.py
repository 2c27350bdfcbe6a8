"""The local AWS (moto) runs one process per server: its own state, and a clear start error."""

from __future__ import annotations

import socket

import pytest

from infra.sandbox.moto_server import MotoServer
from tasks.errors import ServiceUnavailableError


def test_each_server_owns_its_state() -> None:
    with MotoServer() as first, MotoServer() as second:
        first.client("s3").create_bucket(Bucket="only-in-the-first")
        second.reset()
        assert [b["Name"] for b in first.client("s3").list_buckets()["Buckets"]] == [
            "only-in-the-first"
        ]
        assert second.client("s3").list_buckets()["Buckets"] == []


def test_a_taken_port_is_an_error_with_the_exit_code_and_the_log_tail() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = MotoServer(port=taken.getsockname()[1])
        with pytest.raises(ServiceUnavailableError, match=r"moto server exited with \d+: .+"):
            server.start(timeout=30)
