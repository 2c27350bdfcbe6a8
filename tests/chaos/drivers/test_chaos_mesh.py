from __future__ import annotations

import json
import logging
import traceback

import pytest

from infra.sandbox.fake_kubernetes import FakeKubernetes
from tasks.chaos.drivers.base import FaultDriver, FaultHandle
from tasks.chaos.drivers.chaos_mesh import ChaosMeshDriver, ChaosMeshTimeoutError
from tasks.chaos.drivers.chaos_mesh_manifests import KINDS
from tasks.errors import (
    ConfigurationError,
    NotFoundError,
    ServiceUnavailableError,
    SpecError,
    TraceoError,
)
from tasks.local_server import free_port
from tests.chaos.drivers.conftest import NAMESPACE, TOKEN
from tests.chaos.drivers.samples import FAULTS


def sequence(fake: FakeKubernetes) -> list[tuple[str, str, int]]:
    return [(c.verb, c.resource, c.status) for c in fake.calls]


def test_driver_satisfies_the_fault_driver_protocol(chaos_mesh: ChaosMeshDriver) -> None:
    assert isinstance(chaos_mesh, FaultDriver)
    assert chaos_mesh.name == "chaos-mesh"


@pytest.mark.parametrize("sample", sorted(FAULTS))
def test_apply_wait_delete_wait_is_the_exact_call_sequence(chaos_mesh, fake_k8s, sample) -> None:
    handle = chaos_mesh.inject(FAULTS[sample])
    plural = KINDS[FAULTS[sample]["kind"]]

    stored = fake_k8s.objects(plural)
    assert [o["metadata"]["name"] for o in stored] == [handle.details["name"]]
    assert stored[0]["spec"]["selector"]["labelSelectors"] == {"app": "shop"}
    chaos_mesh.remove(handle)

    assert sequence(fake_k8s) == [
        ("create", plural, 201),
        ("get", plural, 200),  # injected: Selected and AllInjected are True
        ("delete", plural, 200),
        ("get", plural, 404),  # gone once the finalizer finished
    ]
    assert {(c.namespace, c.name) for c in fake_k8s.calls} == {(NAMESPACE, handle.details["name"])}
    assert fake_k8s.objects() == []


def test_handle_is_json_and_a_new_driver_can_roll_back(chaos_mesh, fake_k8s) -> None:
    handle = chaos_mesh.inject(FAULTS["network-delay"])
    restored = FaultHandle.from_json(json.loads(json.dumps(handle.to_json())))
    later = ChaosMeshDriver(chaos_mesh.settings)

    later.remove(restored)

    assert later.verify_removed(restored).clean
    assert handle.target == "shop/shop"  # what the allowlist matched and rollback filters on
    assert handle.details["resource"] == f"NetworkChaos/{NAMESPACE}/{handle.details['name']}"
    assert "token" not in json.dumps(handle.to_json()).lower()


def test_waits_for_the_controller_to_inject_and_to_finish_deleting(chaos_mesh, fake_k8s) -> None:
    fake_k8s.inject_delay = fake_k8s.delete_delay = 0.15
    chaos_mesh.settings.inject_timeout_seconds = chaos_mesh.settings.delete_timeout_seconds = 10

    handle = chaos_mesh.inject(FAULTS["pod-failure"])

    injected_status = fake_k8s.objects("podchaos")[0]["status"]["conditions"]
    assert {"type": "AllInjected", "status": "True"} in injected_status
    gets = [c for c in fake_k8s.calls if c.verb == "get"]
    assert len(gets) >= 3  # polled while the controller was still injecting
    verification = chaos_mesh.verify_removed(handle)
    assert not verification.clean and "still present" in verification.detail
    fake_k8s.calls.clear()

    chaos_mesh.remove(handle)

    assert sequence(fake_k8s)[0] == ("delete", "podchaos", 200)
    assert sequence(fake_k8s)[-1] == ("get", "podchaos", 404)
    assert len(fake_k8s.calls) >= 4  # polled while the finalizer ran


def test_remove_is_idempotent(chaos_mesh, fake_k8s) -> None:
    handle = chaos_mesh.inject(FAULTS["stress-cpu"])
    chaos_mesh.remove(handle)
    fake_k8s.calls.clear()

    chaos_mesh.remove(handle)
    chaos_mesh.remove(handle)

    assert sequence(fake_k8s) == [("delete", "stresschaos", 404)] * 2
    assert chaos_mesh.verify_removed(handle).clean


def test_verify_while_being_deleted_is_not_clean(chaos_mesh, fake_k8s) -> None:
    handle = chaos_mesh.inject(FAULTS["http-abort"])
    fake_k8s.delete_delay = 60
    with pytest.raises(ChaosMeshTimeoutError, match="was not deleted"):
        chaos_mesh.remove(handle)

    verification = chaos_mesh.verify_removed(handle)

    assert not verification.clean and "being deleted since" in verification.detail
    fake_k8s.delete_delay = 0
    assert chaos_mesh.verify_removed(handle).clean


def test_rerun_adopts_its_own_resource_instead_of_failing(chaos_mesh, fake_k8s) -> None:
    first = chaos_mesh.inject(FAULTS["network-loss"])
    fake_k8s.calls.clear()

    second = chaos_mesh.inject(FAULTS["network-loss"])

    assert second == first
    assert sequence(fake_k8s) == [
        ("create", "networkchaos", 409),
        ("get", "networkchaos", 200),
        ("get", "networkchaos", 200),
    ]
    assert len(fake_k8s.objects()) == 1


def test_conflict_with_someone_elses_resource_is_refused(chaos_mesh, fake_k8s) -> None:
    chaos_mesh.inject(FAULTS["pod-kill"] | {"name": "shared-name"})

    with pytest.raises(ConfigurationError, match="already exists and is not this fault"):
        chaos_mesh.inject(FAULTS["pod-failure"] | {"name": "shared-name"})


def test_conflict_with_a_resource_being_deleted_waits_then_creates(chaos_mesh, fake_k8s) -> None:
    handle = chaos_mesh.inject(FAULTS["network-bandwidth"])
    fake_k8s.delete_delay = 0.2
    chaos_mesh.settings.delete_timeout_seconds = 10
    # a previous run's delete, still being finalised
    chaos_mesh._call("delete", "networkchaos", NAMESPACE, handle.details["name"])
    fake_k8s.calls.clear()

    again = chaos_mesh.inject(FAULTS["network-bandwidth"])

    assert again == handle
    verbs = sequence(fake_k8s)
    assert verbs[0] == ("create", "networkchaos", 409)
    assert ("get", "networkchaos", 404) in verbs
    assert verbs[-2:] == [("create", "networkchaos", 201), ("get", "networkchaos", 200)]


def test_injection_timeout_deletes_the_resource_and_names_it(chaos_mesh, fake_k8s) -> None:
    fake_k8s.never_inject = True

    with pytest.raises(ChaosMeshTimeoutError) as caught:
        chaos_mesh.inject(FAULTS["stress-memory"])

    assert "was not injected within 0.5s" in str(caught.value)
    assert "AllInjected=False" in str(caught.value)
    assert isinstance(caught.value, ServiceUnavailableError)
    assert caught.value.handle.details["plural"] == "stresschaos"
    assert fake_k8s.objects() == []  # cleaned up: nothing left behind
    assert sequence(fake_k8s)[-2:] == [("delete", "stresschaos", 200), ("get", "stresschaos", 404)]


def test_selector_matching_no_pods_is_explained(chaos_mesh, fake_k8s) -> None:
    fake_k8s.select_nothing = True

    with pytest.raises(ChaosMeshTimeoutError, match="the selector matched no pods"):
        chaos_mesh.inject(FAULTS["container-kill"])


@pytest.mark.parametrize("verb", ["create", "get", "delete"])
def test_forbidden_names_the_missing_rbac_permission(chaos_mesh, fake_k8s, verb) -> None:
    handle = None
    if verb == "delete":
        handle = chaos_mesh.inject(FAULTS["http-delay"])
    fake_k8s.forbidden_verbs = {verb}

    with pytest.raises(ConfigurationError) as caught:
        if handle is None:
            chaos_mesh.inject(FAULTS["http-delay"])
        else:
            chaos_mesh.remove(handle)

    message = str(caught.value)
    assert "forbidden (403)" in message
    assert f"RBAC verb '{verb}' on resource 'httpchaos'" in message
    assert f"namespace '{NAMESPACE}'" in message
    assert "chaos-mesh-rbac.yaml" in message


def test_missing_crd_says_chaos_mesh_is_not_installed(chaos_mesh, fake_k8s) -> None:
    fake_k8s.installed.discard("networkchaos")
    handle = FaultHandle(
        "chaos-mesh",
        "NetworkChaos/x/y",
        {"kind": "NetworkChaos", "plural": "networkchaos", "namespace": NAMESPACE, "name": "y"},
    )

    with pytest.raises(NotFoundError, match=r"Chaos Mesh is not installed.*networkchaos"):
        chaos_mesh.inject(FAULTS["network-delay"])
    with pytest.raises(NotFoundError, match="not installed"):
        chaos_mesh.remove(handle)  # a missing CRD is not proof the fault is gone elsewhere
    verification = chaos_mesh.verify_removed(handle)
    assert not verification.clean and "cannot verify" in verification.detail


def test_wrong_token_is_a_configuration_error(fake_k8s) -> None:
    driver = ChaosMeshDriver.from_configuration(
        {"chaos_mesh_host": fake_k8s.url, "chaos_mesh_token": "wrong-token"}
    )

    with pytest.raises(ConfigurationError, match="rejected the credentials"):
        driver.inject(FAULTS["pod-kill"])


def test_unreachable_api_is_transient() -> None:
    driver = ChaosMeshDriver.from_configuration(
        {"chaos_mesh_host": f"http://127.0.0.1:{free_port()}", "chaos_mesh_token": TOKEN}
    )

    with pytest.raises(ServiceUnavailableError, match="cannot reach the Kubernetes API"):
        driver.inject(FAULTS["pod-kill"])


def test_invalid_fault_is_rejected_before_any_call(chaos_mesh, fake_k8s) -> None:
    with pytest.raises(SpecError) as caught:
        chaos_mesh.inject(FAULTS["http-abort"] | {"port": "eighty"})

    assert caught.value.issues[0].field == "port"
    assert fake_k8s.calls == []


def test_leftovers_lists_only_resources_traceo_created(chaos_mesh, fake_k8s) -> None:
    ours = chaos_mesh.inject(FAULTS["pod-kill"])
    chaos_mesh.inject(FAULTS["stress-cpu"] | {"namespace": "elsewhere"})

    found = chaos_mesh.leftovers()

    assert found == [ours]  # the target comes back from the resource's annotation
    for handle in found:
        chaos_mesh.remove(handle)
    assert chaos_mesh.leftovers() == []


def test_token_never_appears_in_errors_logs_or_reprs(chaos_mesh, fake_k8s, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    handle = chaos_mesh.inject(FAULTS["network-delay"])
    for switch in ("forbidden", "crd", "timeout"):
        fake_k8s.reset()
        fake_k8s.inject_delay = fake_k8s.delete_delay = 0
        if switch == "forbidden":
            fake_k8s.forbidden_verbs = {"create", "delete"}
        elif switch == "crd":
            fake_k8s.installed.clear()
        else:
            fake_k8s.never_inject = True
        for action in (
            lambda: chaos_mesh.inject(FAULTS["http-abort"]),
            lambda: chaos_mesh.remove(handle),
        ):
            try:
                action()
            except TraceoError as exc:
                errors.append(exc)
    with pytest.raises(ConfigurationError) as bad_config:
        ChaosMeshDriver.from_configuration({"chaos_mesh": {"token": TOKEN, "namespace": 5}})
    errors.append(bad_config.value)

    assert len(errors) >= 5
    texts = [caplog.text, repr(chaos_mesh.settings), str(chaos_mesh.settings.model_dump())]
    texts += ["".join(traceback.format_exception(e)) for e in errors]
    assert all(TOKEN not in text for text in texts)


def test_configuration_comes_from_experiment_or_environment(monkeypatch) -> None:
    monkeypatch.setenv("TRACEO_CHAOS_MESH_HOST", "https://k8s.example:6443")
    monkeypatch.setenv("TRACEO_CHAOS_MESH_TOKEN", TOKEN)
    monkeypatch.setenv("TRACEO_CHAOS_MESH_NAMESPACE", "from-env")

    from_env = ChaosMeshDriver.from_configuration({})
    overridden = ChaosMeshDriver.from_configuration(
        {"chaos_mesh_namespace": "from-experiment", "chaos_mesh": {"verify_ssl": False}}
    )

    assert from_env.settings.host == "https://k8s.example:6443"
    assert from_env.settings.token is not None
    assert from_env.settings.token.get_secret_value() == TOKEN
    assert from_env.settings.namespace == "from-env"
    assert overridden.settings.namespace == "from-experiment"
    assert overridden.settings.verify_ssl is False


def test_missing_host_is_a_configuration_error_naming_the_key(monkeypatch) -> None:
    monkeypatch.delenv("TRACEO_CHAOS_MESH_HOST", raising=False)

    with pytest.raises(ConfigurationError, match="chaos_mesh_host: Field required"):
        ChaosMeshDriver.from_configuration({"chaos_mesh_token": TOKEN})


def test_misspelt_configuration_key_is_refused(fake_k8s) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown key.*chaos_mesh_tokn"):
        ChaosMeshDriver.from_configuration(
            {"chaos_mesh_host": fake_k8s.url, "chaos_mesh_tokn": "x"}
        )
