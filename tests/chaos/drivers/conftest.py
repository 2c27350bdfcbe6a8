"""Fixtures: one fake Kubernetes API per module (reset for each test) and a driver bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.sandbox.fake_kubernetes import FakeKubernetes
from tasks.chaos.drivers.chaos_mesh import ChaosMeshDriver

TOKEN = "s3cr3t-bearer-token-do-not-log"
NAMESPACE = "chaos-testing"


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeKubernetes]:
    with FakeKubernetes(token=TOKEN) as server:
        yield server


@pytest.fixture
def fake_k8s(fake_server: FakeKubernetes) -> Iterator[FakeKubernetes]:
    fake_server.reset()
    fake_server.inject_delay = fake_server.delete_delay = 0.0
    yield fake_server
    fake_server.reset()


@pytest.fixture
def chaos_mesh(fake_k8s: FakeKubernetes) -> ChaosMeshDriver:
    return ChaosMeshDriver.from_configuration(
        {
            "chaos_mesh_host": fake_k8s.url,
            "chaos_mesh_namespace": NAMESPACE,
            "chaos_mesh": {
                "token": TOKEN,
                "poll_interval_seconds": 0.01,
                "inject_timeout_seconds": 0.5,
                "delete_timeout_seconds": 0.5,
            },
        }
    )
