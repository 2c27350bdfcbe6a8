"""infra/prefect/docker-compose.yml: the whole suite on one machine, checked without Docker.

A compose schema for the keys the file uses (a typo'd key is an error, not a silent no-op),
references between services, every work pool of deployments/prefect.yaml with its worker, the
Prefect server split into API and background services over Redis with settings Prefect 3.9.1
actually reads, and the intake started with options its command has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from deployments.regions import PREFECT_FILE, load_deployments
from infra.worker_roles import role_of_pool

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "infra" / "prefect" / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
POOLS = sorted({e.work_pool for e in load_deployments(PREFECT_FILE)})

_STR_LIST = {"type": "array", "items": {"type": "string"}}
SERVICE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "image": {"type": "string"},
        "build": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "context": {"type": "string"},
                "dockerfile": {"type": "string"},
                "target": {"type": "string"},
            },
            "required": ["context"],
        },
        "command": _STR_LIST,
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
        "depends_on": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "condition": {
                        "enum": [
                            "service_started",
                            "service_healthy",
                            "service_completed_successfully",
                        ]
                    }
                },
                "required": ["condition"],
            },
        },
        "ports": _STR_LIST,
        "volumes": _STR_LIST,
        "extra_hosts": _STR_LIST,
        "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
        "stop_signal": {"enum": ["SIGINT", "SIGTERM"]},
        "stop_grace_period": {"type": "string", "pattern": "^[0-9]+s$"},
        "healthcheck": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "test": _STR_LIST,
                "interval": {"type": "string"},
                "retries": {"type": "integer"},
                "start_period": {"type": "string"},
            },
            "required": ["test"],
        },
    },
    "anyOf": [{"required": ["image"]}, {"required": ["build"]}],
}
COMPOSE_SCHEMA = {
    "type": "object",
    "required": ["name", "services"],
    "properties": {
        "name": {"type": "string"},
        "services": {"type": "object", "additionalProperties": SERVICE_SCHEMA},
        "volumes": {"type": "object"},
    },
    "patternProperties": {"^x-": {}},
    "additionalProperties": False,
}


def _command_option(service: dict[str, Any], option: str) -> str:
    command = service["command"]
    return command[command.index(option) + 1]


def test_the_file_matches_the_compose_schema_for_the_keys_it_uses() -> None:
    jsonschema.validate(COMPOSE, COMPOSE_SCHEMA)


def test_dependencies_and_named_volumes_exist() -> None:
    for name, service in SERVICES.items():
        assert set(service.get("depends_on", {})) <= set(SERVICES) - {name}
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in COMPOSE["volumes"], (name, volume)


def test_every_work_pool_has_exactly_one_process_worker() -> None:
    start = ["prefect", "worker", "start"]
    workers = [s for s in SERVICES.values() if s.get("command", [])[:3] == start]
    assert sorted(_command_option(w, "--pool") for w in workers) == POOLS
    assert all(_command_option(w, "--type") == "process" for w in workers)
    # Each worker runs its pool's role image: the core plus that role's extras.
    for worker in workers:
        role = role_of_pool(_command_option(worker, "--pool"))
        assert worker["build"]["target"] == role.name
        assert worker["image"] == f"traceo-jobs:{role.name}"
    # Reruns reuse results only if every worker reads what the others wrote.
    assert {w["environment"]["TRACEO_RESULT_STORAGE"] for w in workers} == {
        "/var/lib/traceo/results"
    }
    assert all("results:/var/lib/traceo/results" in w["volumes"] for w in workers)


def test_the_server_runs_its_api_and_its_services_apart_after_one_migration() -> None:
    api, services = SERVICES["prefect-server"], SERVICES["prefect-services"]
    assert api["command"][:3] == ["prefect", "server", "start"]
    assert "--no-services" in api["command"]
    assert services["command"] == ["prefect", "server", "services", "start"]
    migrate = SERVICES["prefect-migrate"]["command"]
    assert migrate[:4] == ["prefect", "server", "database", "upgrade"]
    for server in (api, services):
        assert server["depends_on"]["prefect-migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert server["depends_on"]["redis"]["condition"] == "service_healthy"
        assert server["environment"]["PREFECT_API_DATABASE_MIGRATE_ON_START"] == "false"
        assert server["environment"]["PREFECT_MESSAGING_BROKER"] == "prefect_redis.messaging"
        assert server["environment"]["PREFECT_REDIS_MESSAGING_HOST"] == "redis"
        assert "prefect-redis" in server["environment"]["EXTRA_PIP_PACKAGES"]


# prefect-redis reads these itself (it is not installed here, so they are listed, not checked).
PREFECT_REDIS_SETTINGS = {
    "PREFECT_REDIS_MESSAGING_HOST",
    "PREFECT_REDIS_MESSAGING_PORT",
    "PREFECT_REDIS_MESSAGING_DB",
}


def prefect_setting_names() -> set[str]:
    """Every environment variable Prefect's settings read: canonical names and their aliases."""
    from prefect.settings import Settings
    from pydantic import AliasChoices, BaseModel

    names = set(Settings().to_environment_variables(exclude_unset=False))

    def walk(model: type[BaseModel]) -> None:
        prefix = str(model.model_config.get("env_prefix", "")).upper()
        for name, field in model.model_fields.items():
            names.add(f"{prefix}{name.upper()}")
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(c.upper() for c in alias.choices if isinstance(c, str))
            elif isinstance(alias, str):
                names.add(alias.upper())
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(field.annotation)

    walk(Settings)
    return names


def test_every_prefect_setting_is_one_prefect_reads() -> None:
    used = {
        key
        for service in SERVICES.values()
        for key in service.get("environment", {})
        if key.startswith("PREFECT_")
    }
    known = prefect_setting_names()
    assert "PREFECT_NOT_A_SETTING" not in known
    assert used - PREFECT_REDIS_SETTINGS <= known, sorted(used - PREFECT_REDIS_SETTINGS - known)
    assert {"PREFECT_MESSAGING_BROKER", "PREFECT_SERVER_DOCKET_URL"} <= used


def test_the_intake_is_started_with_options_its_command_has() -> None:
    from deployments.cli_intake import intake

    service = SERVICES["intake"]
    assert service["command"][:3] == ["traceo", "intake", "serve"]
    serve = intake.commands["serve"]
    known = {opt for p in serve.params for opt in p.opts}
    given = [arg for arg in service["command"][3:] if arg.startswith("--")]
    assert set(given) <= known
    port = _command_option(service, "--port")
    assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert service["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"
