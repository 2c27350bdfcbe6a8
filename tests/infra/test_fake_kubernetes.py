from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from infra.sandbox.fake_kubernetes import Call, FakeKubernetes

TOKEN = "fake-test-token"
BASE = "/apis/chaos-mesh.org/v1alpha1/namespaces/chaos-testing"


def pod_chaos(name: str, labels: dict[str, str] | None = None) -> dict:
    return {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "PodChaos",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}},
    }


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKubernetes]:
    with FakeKubernetes(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeKubernetes) -> Iterator[FakeKubernetes]:
    server.reset()
    server.inject_delay = server.delete_delay = 0.0
    yield server
    server.reset()


@pytest.fixture
def api(fake: FakeKubernetes) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=fake.url, headers=headers, timeout=5) as client:
        yield client


def conditions(body: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in body["status"]["conditions"]}


def test_version_and_discovery(api: httpx.Client) -> None:
    assert api.get("/version").json()["major"] == "1"
    resources = api.get("/apis/chaos-mesh.org/v1alpha1").json()["resources"]
    assert {r["name"] for r in resources} == {
        "networkchaos",
        "httpchaos",
        "podchaos",
        "stresschaos",
    }


def test_create_get_delete_lifecycle_is_recorded(fake: FakeKubernetes, api: httpx.Client) -> None:
    fake.inject_delay = fake.delete_delay = 0.2

    created = api.post(f"{BASE}/podchaos", json=pod_chaos("kill-one"))
    early = api.get(f"{BASE}/podchaos/kill-one").json()
    time.sleep(0.25)
    late = api.get(f"{BASE}/podchaos/kill-one").json()
    deleted = api.delete(f"{BASE}/podchaos/kill-one")
    during = api.get(f"{BASE}/podchaos/kill-one")
    time.sleep(0.25)
    after = api.get(f"{BASE}/podchaos/kill-one")

    assert created.status_code == 201
    assert created.json()["metadata"]["uid"]
    assert conditions(early)["AllInjected"] == "False"
    assert conditions(late)["AllInjected"] == "True"
    assert late["status"]["experiment"]["containerRecords"][0]["phase"] == "Injected"
    assert deleted.status_code == 200
    assert during.status_code == 200 and "deletionTimestamp" in during.json()["metadata"]
    assert after.status_code == 404
    assert after.json()["details"]["name"] == "kill-one"
    assert fake.calls == [
        Call("create", "chaos-mesh.org", "podchaos", "chaos-testing", "kill-one", 201),
        Call("get", "chaos-mesh.org", "podchaos", "chaos-testing", "kill-one", 200),
        Call("get", "chaos-mesh.org", "podchaos", "chaos-testing", "kill-one", 200),
        Call("delete", "chaos-mesh.org", "podchaos", "chaos-testing", "kill-one", 200),
        Call("get", "chaos-mesh.org", "podchaos", "chaos-testing", "kill-one", 200),
        Call("get", "chaos-mesh.org", "podchaos", "chaos-testing", "kill-one", 404),
    ]


def test_duplicate_create_is_409(api: httpx.Client) -> None:
    assert api.post(f"{BASE}/podchaos", json=pod_chaos("twice")).status_code == 201

    second = api.post(f"{BASE}/podchaos", json=pod_chaos("twice"))

    assert second.status_code == 409
    assert second.json()["reason"] == "AlreadyExists"


def test_list_filters_by_label(api: httpx.Client) -> None:
    api.post(f"{BASE}/podchaos", json=pod_chaos("ours", {"app.kubernetes.io/managed-by": "traceo"}))
    api.post(f"{BASE}/podchaos", json=pod_chaos("theirs"))

    listed = api.get(
        f"{BASE}/podchaos", params={"labelSelector": "app.kubernetes.io/managed-by=traceo"}
    )

    assert [item["metadata"]["name"] for item in listed.json()["items"]] == ["ours"]
    assert len(api.get(f"{BASE}/podchaos").json()["items"]) == 2


def test_bearer_token_is_required(fake: FakeKubernetes) -> None:
    with httpx.Client(base_url=fake.url) as anonymous:
        missing = anonymous.get(f"{BASE}/podchaos")
        wrong = anonymous.get(f"{BASE}/podchaos", headers={"Authorization": "Bearer nope"})

    assert missing.status_code == wrong.status_code == 401
    assert [c.status for c in fake.calls] == [401, 401]


def test_forbidden_verb_answers_like_kubernetes(fake: FakeKubernetes, api: httpx.Client) -> None:
    fake.forbidden_verbs = {"create"}

    denied = api.post(f"{BASE}/podchaos", json=pod_chaos("nope"))

    assert denied.status_code == 403
    assert denied.json()["reason"] == "Forbidden"
    assert 'cannot create resource "podchaos"' in denied.json()["message"]
    assert api.get(f"{BASE}/podchaos").status_code == 200  # other verbs still allowed


def test_missing_crd_is_a_bare_404(fake: FakeKubernetes, api: httpx.Client) -> None:
    fake.installed.discard("podchaos")

    missing = api.post(f"{BASE}/podchaos", json=pod_chaos("x"))

    assert missing.status_code == 404
    assert missing.json()["details"] == {}
    assert missing.json()["message"] == "the server could not find the requested resource"
    assert api.get("/apis/other.io/v1/namespaces/a/things").status_code == 404


def test_slow_and_empty_selection_switches(fake: FakeKubernetes, api: httpx.Client) -> None:
    fake.never_inject = True
    api.post(f"{BASE}/podchaos", json=pod_chaos("stuck"))
    assert conditions(api.get(f"{BASE}/podchaos/stuck").json())["AllInjected"] == "False"

    fake.never_inject, fake.select_nothing = False, True
    body = api.get(f"{BASE}/podchaos/stuck").json()

    assert conditions(body)["Selected"] == "False"
    assert body["status"]["experiment"]["containerRecords"] == []


def test_rejects_a_body_of_the_wrong_kind(api: httpx.Client) -> None:
    wrong = pod_chaos("x") | {"kind": "NetworkChaos"}

    assert api.post(f"{BASE}/podchaos", json=wrong).status_code == 400
