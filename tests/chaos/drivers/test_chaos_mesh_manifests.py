from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tasks.chaos.drivers.chaos_mesh_manifests import (
    KINDS,
    SCHEMAS,
    build_manifest,
    parse_fault,
    validate_manifest,
)
from tasks.errors import SpecError
from tests.chaos.drivers.samples import FAULTS, SHOP


def build(sample: str, **changes: Any) -> dict[str, Any]:
    return build_manifest(parse_fault(FAULTS[sample] | changes), "chaos-testing")


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_every_sample_builds_a_schema_valid_manifest(name: str) -> None:
    manifest = build(name)

    schema = json.loads((SCHEMAS / f"{KINDS[manifest['kind']]}.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(manifest)) == []
    assert manifest["apiVersion"] == "chaos-mesh.org/v1alpha1"
    assert manifest["metadata"]["namespace"] == "chaos-testing"
    assert manifest["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "traceo"}
    assert manifest["metadata"]["annotations"] == {"traceo.dev/target": FAULTS[name]["target"]}
    assert manifest["spec"]["selector"] == SHOP


def test_network_delay_manifest_carries_chaos_mesh_fields() -> None:
    spec = build("network-delay")["spec"]
    assert spec == {
        "action": "delay",
        "mode": "all",
        "selector": SHOP,
        "duration": "30s",
        "direction": "to",
        "delay": {"latency": "100ms", "jitter": "10ms", "correlation": "25"},
    }


def test_partition_peer_becomes_chaos_mesh_target_and_has_no_netem_block() -> None:
    spec = build("network-partition")["spec"]
    assert spec["target"] == {"mode": "all", "selector": {"namespaces": ["db"]}}
    assert {"delay", "loss", "bandwidth"}.isdisjoint(spec)


def test_http_faults_map_actions_to_chaos_mesh_rules() -> None:
    assert build("http-abort")["spec"]["abort"] is True
    assert build("http-abort")["spec"]["target"] == "Request"  # the default phase
    assert build("http-replace")["spec"]["target"] == "Response"
    assert build("http-abort")["spec"]["path"] == "/api/*"
    assert (
        build("http-delay")["spec"].items() >= {"delay": "2s", "method": "GET", "path": "*"}.items()
    )
    replace = build("http-replace")["spec"]["replace"]
    assert replace["code"] == 503
    assert base64.b64decode(replace["body"]) == b'{"error": "chaos"}'  # CRD: format byte


def test_pod_and_stress_manifests() -> None:
    pod_kill = {"action": "pod-kill", "gracePeriod": 0, "value": "1"}
    assert build("pod-kill")["spec"].items() >= pod_kill.items()
    assert build("container-kill")["spec"]["containerNames"] == ["shop"]
    assert build("stress-cpu")["spec"]["stressors"] == {"cpu": {"workers": 2, "load": 80}}
    assert build("stress-memory")["spec"]["stressors"] == {
        "memory": {"workers": 1, "size": "256MB"}
    }


def test_names_are_stable_per_spec_and_differ_between_specs() -> None:
    assert build("network-delay")["metadata"]["name"] == build("network-delay")["metadata"]["name"]
    assert build("network-delay")["metadata"]["name"].startswith("traceo-networkchaos-")
    other = build("network-delay", delay={"latency": "200ms"})
    assert other["metadata"]["name"] != build("network-delay")["metadata"]["name"]
    named = build("pod-kill", name="kill-one-shop-pod", namespace="ops")
    assert named["metadata"]["name"] == "kill-one-shop-pod"
    assert named["metadata"]["namespace"] == "ops"


@pytest.mark.parametrize(
    ("sample", "changes", "field", "reason"),
    [
        ("network-delay", {"action": "jitter"}, "action", "Input should be"),
        ("network-delay", {"mode": "some"}, "mode", "Input should be"),
        ("network-delay", {"duration": "30 seconds"}, "duration", "should match pattern"),
        ("network-delay", {"delay": {"jitter": "1ms"}}, "delay.latency", "Field required"),
        ("network-delay", {"delay": None}, None, "needs a 'delay' block"),
        ("network-delay", {"loss": {"loss": "5"}}, None, "'loss' is not used by action 'delay'"),
        ("network-loss", {"value": None}, None, "needs a value"),
        ("network-loss", {"value": "150"}, None, "percentage"),
        ("network-partition", {"peer": None}, None, "needs a peer or externalTargets"),
        (
            "network-bandwidth",
            {"bandwidth": {"rate": "fast", "limit": 1, "buffer": 1}},
            "bandwidth.rate",
            "should match pattern",
        ),
        ("http-abort", {"port": 0}, "port", "greater than or equal to 1"),
        ("http-abort", {"phase": "Both"}, "phase", "Input should be"),
        ("http-abort", {"target": None}, "target", "Field required"),
        ("http-abort", {"target": "payments/api"}, None, "must start with the one namespace"),
        ("stress-cpu", {"selector": {"namespaces": ["shop", "db"]}}, None, "the one namespace"),
        ("http-delay", {"delay": None}, None, "needs delay"),
        ("http-replace", {"replace": {}}, None, "needs a replace block"),
        ("pod-kill", {"value": "one"}, None, "whole number"),
        ("pod-failure", {"duration": None}, None, "needs a duration"),
        ("container-kill", {"containerNames": []}, None, "needs containerNames"),
        ("stress-cpu", {"stressors": {}}, "stressors", "at least one of cpu, memory"),
        (
            "stress-cpu",
            {"stressors": {"cpu": {"workers": 9000}}},
            "stressors.cpu.workers",
            "less than or equal to 8192",
        ),
        ("stress-cpu", {"selector": {"namespaces": []}}, "selector.namespaces", "at least 1"),
        (
            "stress-cpu",
            {"selector": {"namespaces": ["Shop_1"]}},
            "selector.namespaces[0]",
            "pattern",
        ),
        ("stress-cpu", {"labelSelector": {"app": "x"}}, "labelSelector", "unknown field"),
        ("pod-kill", {"kind": "DNSChaos"}, "kind", "must be one of"),
    ],
)
def test_invalid_specs_are_rejected_naming_the_field(sample, changes, field, reason) -> None:
    fault = {k: v for k, v in (FAULTS[sample] | changes).items() if v is not None}

    with pytest.raises(SpecError) as caught:
        parse_fault(fault, source="experiments/shop.yaml")

    issues = caught.value.issues
    assert [i.field for i in issues] == [field], issues
    assert reason in issues[0].reason
    assert issues[0].file == "experiments/shop.yaml"


def test_schema_rejects_a_manifest_missing_required_fields_or_with_a_bad_enum() -> None:
    good = build("network-delay")
    missing_mode = copy.deepcopy(good)
    del missing_mode["spec"]["mode"]
    bad_direction = copy.deepcopy(good)
    bad_direction["spec"]["direction"] = "sideways"
    typo = copy.deepcopy(good)
    typo["spec"]["latency"] = "1s"

    for manifest, field, words in [
        (missing_mode, None, "'mode' is a required property"),
        (bad_direction, "spec.direction", "is not one of"),
        (typo, None, "Additional properties are not allowed"),
    ]:
        with pytest.raises(SpecError) as caught:
            validate_manifest(manifest)
        issue = caught.value.issues[0]
        assert issue.field in (field, "spec")
        assert words in issue.reason
    with pytest.raises(SpecError, match="unsupported kind"):
        validate_manifest(good | {"kind": "TimeChaos"})


# The CRDs' required fields and enums (chaos-mesh config/crd/bases, v1alpha1): the reduced
# schemas must keep them exactly.
CRD_FACTS = {
    "networkchaos": {
        "required": ["action", "mode", "selector"],
        "action": ["netem", "delay", "loss", "duplicate", "corrupt", "partition", "bandwidth"],
        "direction": ["to", "from", "both", ""],
    },
    "httpchaos": {"required": ["mode", "selector", "target"], "target": ["Request", "Response"]},
    "podchaos": {
        "required": ["action", "mode", "selector"],
        "action": ["pod-kill", "pod-failure", "container-kill"],
    },
    "stresschaos": {"required": ["mode", "selector"]},
}


@pytest.mark.parametrize("plural", sorted(CRD_FACTS))
def test_schemas_keep_the_crd_required_fields_and_enums(plural: str) -> None:
    schema = json.loads((SCHEMAS / f"{plural}.json").read_text())
    Draft202012Validator.check_schema(schema)
    spec = schema["properties"]["spec"]
    facts = CRD_FACTS[plural]
    assert spec["required"] == facts["required"]
    for field, values in facts.items():
        if field != "required":
            assert spec["properties"][field]["enum"] == values
    modes = schema["$defs"]["mode"]["enum"]
    assert modes == ["one", "all", "fixed", "fixed-percent", "random-max-percent"]
    assert schema["properties"]["kind"]["const"] in KINDS
