"""The Role in infra/kubernetes/chaos-mesh-rbac.yaml covers exactly what the driver calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.chaos.drivers.conftest import NAMESPACE
from tests.chaos.drivers.samples import FAULTS

RBAC = Path(__file__).resolve().parents[3] / "infra" / "kubernetes" / "chaos-mesh-rbac.yaml"


def documents() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(RBAC.read_text()) if doc}


def granted(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_every_call_the_driver_makes_is_granted_and_nothing_more(chaos_mesh, fake_k8s) -> None:
    for fault in FAULTS.values():
        handle = chaos_mesh.inject(fault)
        chaos_mesh.verify_removed(handle)
        chaos_mesh.leftovers()
        chaos_mesh.remove(handle)
        chaos_mesh.remove(handle)
    role = documents()["Role"]

    used = {(c.group, c.resource, c.verb) for c in fake_k8s.calls}
    assert all(c.namespace == role["metadata"]["namespace"] == NAMESPACE for c in fake_k8s.calls)
    assert used <= granted(role), used - granted(role)
    assert granted(role) == used  # least privilege: no verb or resource the driver never uses
    assert not any("*" in str(rule) for rule in role["rules"])


def test_binding_ties_the_service_account_to_the_role() -> None:
    docs = documents()
    account, role, binding = docs["ServiceAccount"], docs["Role"], docs["RoleBinding"]

    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": account["metadata"]["namespace"],
        }
    ]
    namespaces = {doc["metadata"]["namespace"] for doc in docs.values()}
    assert namespaces == {NAMESPACE}
