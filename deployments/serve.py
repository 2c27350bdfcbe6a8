"""Every deployment of ``deployments/prefect.yaml`` served from one process (``traceo serve``).

A single-machine install needs no work pools or workers: ``prefect.serve`` polls the server for
the runs of every deployment it serves and runs them in subprocesses. The deployments are built
from the same ``prefect.yaml`` that ``prefect deploy`` reads (name, entrypoint, parameters,
schedules, concurrency, triggers, paused, tags), read with the same schedule conversion Prefect's
CLI uses; work pools and pull steps are what serving leaves out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from deployments.cli_errors import fail_on_traceo_error
from tasks.errors import ConfigurationError, SpecError, SpecIssue

__all__ = [
    "PREFECT_FILE",
    "build_deployments",
    "deployment_definitions",
    "main",
    "require_api_url",
    "serve_all",
    "to_runner_deployment",
]

REPO = Path(__file__).resolve().parents[1]
PREFECT_FILE = REPO / "deployments" / "prefect.yaml"


def deployment_definitions(
    path: Path | str = PREFECT_FILE, names: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The raw deployment mappings of a ``prefect.yaml`` (anchors resolved), in file order.

    Args:
        path: the file.
        names: keep only these deployments (all when empty).

    Raises:
        SpecError: the file cannot be read, or a requested name is not declared.
    """
    file = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError([SpecIssue(file, None, None, f"cannot read: {exc}")]) from None
    raw = doc.get("deployments") if isinstance(doc, Mapping) else None
    if not isinstance(raw, list) or not all(isinstance(d, Mapping) for d in raw):
        raise SpecError([SpecIssue(file, None, "deployments", "must be a list of mappings")])
    wanted = list(names)
    unknown = sorted(set(wanted) - {str(d.get("name")) for d in raw})
    if unknown:
        raise SpecError([SpecIssue(file, n, "name", "no such deployment") for n in unknown])
    return [dict(d) for d in raw if not wanted or d.get("name") in wanted]


def _concurrency(value: Any) -> Any:
    from prefect.client.schemas.objects import ConcurrencyLimitConfig

    if isinstance(value, Mapping):
        return ConcurrencyLimitConfig.model_validate(dict(value))
    return value


def _triggers(values: Sequence[Any]) -> list[Any]:
    from prefect.events.schemas.deployment_triggers import DeploymentTriggerTypes
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(DeploymentTriggerTypes)
    return [adapter.validate_python(dict(value)) for value in values]


def to_runner_deployment(
    definition: Mapping[str, Any], repo: Path = REPO, file: Path | str = PREFECT_FILE
) -> Any:
    """One ``prefect.yaml`` deployment as a ``RunnerDeployment`` of its flow, ready to serve.

    Raises:
        SpecError: the entrypoint cannot be loaded or a field does not validate.
    """
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    from prefect.flows import load_flow_from_entrypoint
    from pydantic import ValidationError

    name = str(definition.get("name"))
    entrypoint = str(definition.get("entrypoint") or "")
    path, _, func = entrypoint.partition(":")
    try:
        flow: Any = load_flow_from_entrypoint(f"{repo / path}:{func}")
    except Exception as exc:  # import errors of any kind, named below
        raise SpecError(
            [SpecIssue(str(file), name, "entrypoint", f"{entrypoint}: {exc}")]
        ) from None
    try:
        return flow.to_deployment(
            name=name,
            description=definition.get("description"),
            parameters=dict(definition.get("parameters") or {}),
            schedules=[
                _schedule_config_to_deployment_schedule(dict(s))
                for s in definition.get("schedules") or ()
            ],
            concurrency_limit=_concurrency(definition.get("concurrency_limit")),
            triggers=_triggers(definition.get("triggers") or ()),
            paused=definition.get("paused"),
            tags=list(definition.get("tags") or ()),
        )
    except (ValidationError, ValueError, TypeError) as exc:
        raise SpecError([SpecIssue(str(file), name, None, str(exc))]) from None


def build_deployments(
    path: Path | str = PREFECT_FILE, names: Iterable[str] = (), repo: Path = REPO
) -> list[Any]:
    """Every (or each named) deployment of ``path`` as a ``RunnerDeployment``."""
    return [to_runner_deployment(d, repo, path) for d in deployment_definitions(path, names)]


def require_api_url() -> str:
    """The Prefect API that serving talks to.

    Raises:
        ConfigurationError: no ``PREFECT_API_URL``: serving needs a running server whose
            scheduler creates the runs (an ephemeral one would not outlive this process).
    """
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise ConfigurationError(
            "traceo serve needs a Prefect server: start one (`prefect server start`, or "
            "`python -m infra.prefect`) and export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    return url


def serve_all(
    path: Path | str = PREFECT_FILE,
    names: Iterable[str] = (),
    limit: int | None = None,
) -> None:
    """Serve the deployments until interrupted (Ctrl-C pauses their schedules on the way out).

    Args:
        path: the ``prefect.yaml``.
        names: serve only these deployments (all when empty).
        limit: at most this many flow runs at once in this process.

    Raises:
        ConfigurationError: no ``PREFECT_API_URL`` (see :func:`require_api_url`).
    """
    import os

    from prefect import serve

    require_api_url()
    path = Path(path).resolve()
    # Entrypoints are relative to the working directory, where the runner starts each run.
    os.chdir(REPO)
    serve(*build_deployments(path, names), limit=limit)


@fail_on_traceo_error
def main(argv: Sequence[str] | None = None) -> None:
    """The runner that ``traceo serve`` starts: ``python -m deployments.serve FILE``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m deployments.serve")
    parser.add_argument("prefect_file", type=Path)
    parser.add_argument("--name", dest="names", action="append", default=[])
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    serve_all(args.prefect_file, args.names, args.limit)


if __name__ == "__main__":
    main()
