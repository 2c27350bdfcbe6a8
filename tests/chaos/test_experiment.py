"""Loading experiment files: every problem names the file, the experiment and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.chaos.experiment import ChaosSettings, load_experiment, target_allowed
from tasks.chaos.plan import render_plan
from tasks.errors import SpecError
from tests.chaos.experiments import document, hold, inject, specs_fixture, write  # noqa: F401

EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "experiments"


@pytest.fixture(autouse=True)
def _proxy_env(monkeypatch):
    for key, value in {
        "CHAOS_PROXY_API": "http://127.0.0.1:9",
        "CHAOS_PROXY_NAME": "shop-a",
        "CHAOS_PROXY_LISTEN": "127.0.0.1:9",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TRACEO_CHAOS_ALLOWED_TARGETS", raising=False)


def _issues(path: Path, settings: ChaosSettings | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_experiment(path, settings)
    return [str(i) for i in caught.value.issues]


@pytest.mark.parametrize("name", ["shop-latency-100ms.yaml", "shop-latency-2s.yaml"])
def test_example_experiments_are_valid(name):
    loaded = load_experiment(EXAMPLES / name)
    assert loaded.traceo.service == "shop-api"
    [(where, fault)] = loaded.fault_activities()
    assert where == "method[0]" and fault.name and fault.name.startswith("add-")


def test_a_valid_experiment_loads_with_its_plan(specs, tmp_path):
    path = write(tmp_path / "e.yaml", document(specs, method=[inject(100), hold(2)]))
    loaded = load_experiment(path)

    assert loaded.planned_seconds() == 2
    plan = "\n".join(render_plan(loaded))
    assert "inject latency (latency=100) on proxy:shop-a" in plan
    assert "hold the fault for 2 s" in plan
    assert "Continuous checks every 0.2 s: shop-health, shop-products-list" in plan


def test_missing_title_and_unknown_key_name_file_and_field(specs, tmp_path):
    doc = document(specs, method=[inject(100)])
    del doc["title"]
    doc["rollback"] = []
    path = write(tmp_path / "bad.yaml", doc)

    issues = _issues(path)

    assert f"{path}: title: Field required" in issues
    assert f"{path}: rollback: unknown field (not supported)" in issues


def test_bad_traceo_extension_field_is_located(specs, tmp_path):
    doc = document(specs, method=[inject(100)], check_interval_seconds=0)
    path = write(tmp_path / "bad.yaml", doc)

    [issue] = _issues(path)

    assert issue.startswith(f"{path}: test experiment: extensions[0].check_interval_seconds:")


def test_missing_traceo_extension_is_an_error(specs, tmp_path):
    doc = document(specs, method=[inject(100)])
    doc["extensions"] = []
    assert _issues(write(tmp_path / "bad.yaml", doc)) == [
        f"{tmp_path / 'bad.yaml'}: test experiment: extensions: needs exactly one extension "
        "named traceo (the service, its checks, limits)"
    ]


def test_chaostoolkit_validation_catches_a_missing_function(specs, tmp_path):
    doc = document(specs, method=[inject(100)])
    doc["method"][0]["provider"]["func"] = "no_such_function"
    [issue] = _issues(write(tmp_path / "bad.yaml", doc))
    assert issue.startswith(f"{tmp_path / 'bad.yaml'}: test experiment: chaostoolkit:")
    assert "no_such_function" in issue


def test_invalid_yaml_reports_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("title: x\nmethod: [\n", encoding="utf-8")
    [issue] = _issues(path)
    assert issue.startswith(f"{path}: invalid YAML: line")


def test_invalid_json_and_missing_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    assert _issues(path)[0].startswith(f"{path}: invalid JSON")
    assert _issues(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: file not found"]


def test_target_outside_the_operator_allowlist_is_refused(specs, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEO_CHAOS_ALLOWED_TARGETS", "proxy:payments, process:*")
    path = write(tmp_path / "e.yaml", document(specs, method=[inject(100)]))

    [issue] = _issues(path)

    assert issue == (
        f"{path}: test experiment: method[0].provider.arguments.fault.target: target "
        "proxy:shop-a is not on the allowlist (TRACEO_CHAOS_ALLOWED_TARGETS)"
    )


def test_both_allowlists_apply(specs, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEO_CHAOS_ALLOWED_TARGETS", "proxy:shop-*")
    ok = write(
        tmp_path / "ok.yaml", document(specs, method=[inject(1)], allowed_targets=["shop-a"])
    )
    load_experiment(ok)
    bad = write(tmp_path / "bad.yaml", document(specs, method=[inject(1)], allowed_targets=["x"]))
    [issue] = _issues(bad)
    assert issue.endswith("is not on the allowlist (extensions.traceo.allowed_targets)")


def test_planned_duration_over_the_maximum_is_refused(specs, tmp_path):
    doc = document(specs, method=[inject(100), hold(50), hold(20)], max_duration_seconds=60)
    [issue] = _issues(write(tmp_path / "long.yaml", doc))
    assert issue.endswith("method: holds and pauses add up to 70 s, over max_duration_seconds 60")


def test_experiment_maximum_over_the_operator_cap_is_refused(specs, tmp_path):
    doc = document(specs, method=[inject(100)], max_duration_seconds=600)
    [issue] = _issues(write(tmp_path / "e.yaml", doc), ChaosSettings(max_duration_seconds=120))
    assert (
        "extensions.traceo.max_duration_seconds: 600 s is over the operator's cap of 120 s" in issue
    )


@pytest.mark.parametrize(
    ("patterns", "allowed"),
    [
        (None, True),
        ([], False),
        (["proxy:shop"], True),
        (["proxy:sh*"], True),
        (["shop"], True),
        (["process:shop"], False),
        (["proxy:shopping"], False),
    ],
)
def test_target_allowed(patterns, allowed):
    assert target_allowed("proxy", "shop", patterns) is allowed


def test_process_arguments_may_be_a_string_or_a_list_and_controls_stand_anywhere(specs, tmp_path):
    def echo(name: str, arguments: object) -> dict[str, object]:
        provider = {"type": "process", "path": "echo", "arguments": arguments}
        return {"type": "probe", "name": name, "provider": provider}

    control = {"name": "log", "provider": {"type": "python", "module": "logging"}}
    doc = document(specs, method=[inject(100), echo("as-string", "-n hello"), echo("as-list", [])])
    doc["steady-state-hypothesis"] = {
        "title": "fine",
        "probes": [{**echo("probe", ["-n", "x"]), "tolerance": 0}],
        "controls": [control],
    }
    doc["controls"] = [control]

    loaded = load_experiment(write(tmp_path / "e.yaml", doc))

    assert loaded.spec.steady_state_hypothesis is not None
    assert loaded.spec.steady_state_hypothesis.controls[0].name == "log"


def test_every_problem_is_reported_in_one_pass_format_first(specs, tmp_path):
    doc = document(specs, method=[inject(100)])
    doc["method"][0]["provider"]["arguments"] = "driver=proxy"  # a python provider takes a map
    doc["steady-state-hypothesis"] = {"title": "fine", "probes": [], "strategy": "x"}
    doc["extensions"] = [{"name": "other"}]
    path = write(tmp_path / "bad.yaml", doc)

    assert _issues(path) == [
        f"{path}: test experiment: steady-state-hypothesis.strategy: unknown field (not supported)",
        f"{path}: test experiment: method[0].provider.arguments: a python provider's arguments "
        "are a mapping of the function's parameters",
        f"{path}: test experiment: extensions: needs exactly one extension named traceo (the "
        "service, its checks, limits)",
    ]


def test_a_chaostoolkit_problem_comes_before_the_missing_extension(specs, tmp_path):
    doc = document(specs, method=[inject(100)])
    doc["method"][0]["provider"]["func"] = "no_such_function"
    doc["extensions"] = []

    issues = _issues(write(tmp_path / "bad.yaml", doc))

    assert len(issues) == 2
    assert "chaostoolkit:" in issues[0] and "no_such_function" in issues[0]
    assert issues[1].endswith(
        "extensions: needs exactly one extension named traceo (the service, its checks, limits)"
    )


def test_experiment_runtime_is_refused_as_not_supported(specs, tmp_path):
    doc = document(specs, method=[inject(100)])
    doc["runtime"] = {"rollbacks": {"strategy": "always"}}
    [issue] = _issues(write(tmp_path / "bad.yaml", doc))
    assert issue == (
        f"{tmp_path / 'bad.yaml'}: test experiment: runtime: not supported: Traceo takes the "
        "strategies from extensions.traceo (hypothesis.strategy, rollback_strategy)"
    )


def test_incomplete_env_references_are_refused_naming_each(specs, tmp_path):
    doc = document(specs, method=[inject(100)])
    doc["configuration"] = {
        "url": {"type": "env"},
        "port": {"type": "env", "key": "P", "env_var_type": "port"},
    }
    doc["secrets"] = {"shop": {"token": {"type": "env", "key": None}}}
    where = f"{tmp_path / 'bad.yaml'}: test experiment"
    needs_key = "an env reference needs key: the name of an environment variable"
    types = "str, string, int, integer, float, number, bytes, bool, json"
    assert _issues(write(tmp_path / "bad.yaml", doc)) == [
        f"{where}: configuration: url: {needs_key}; port: env_var_type must be one of {types}",
        f"{where}: secrets: shop.token: {needs_key}",
    ]


def test_an_env_value_that_does_not_convert_is_refused_without_the_value(
    specs, tmp_path, monkeypatch
):
    monkeypatch.setenv("TRACEO_TEST_PORT", "not-a-number")
    doc = document(specs, method=[inject(100)])
    doc["configuration"] = {
        "port": {"type": "env", "key": "TRACEO_TEST_PORT", "env_var_type": "int"}
    }
    [issue] = _issues(write(tmp_path / "bad.yaml", doc))
    assert issue == (
        f"{tmp_path / 'bad.yaml'}: test experiment: configuration: an environment variable's "
        "value does not convert to its env_var_type"
    )
