"""``traceo serve`` and ``traceo failure-alerts``: running the suite, and hearing when it fails.

The lead adds them to the ``traceo`` group (``main.add_command(cmd)`` for each of
:data:`OPS_COMMANDS`). Only click is imported at module level, so ``traceo --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["OPS_COMMANDS", "failure_alerts", "run_once", "serve"]


@click.command()
@click.option(
    "--prefect-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The prefect.yaml to serve (default: deployments/prefect.yaml).",
)
@click.option(
    "--name", "names", multiple=True, help="Serve only this deployment (repeatable; default: all)."
)
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="At most this many runs at once."
)
@click.option(
    "--notify",
    default=None,
    metavar="BLOCK",
    help="Also apply the failure automation, sending through this notification block "
    "(e.g. slack-webhook/sre-alerts).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=4200,
    show_default=True,
    help="Without PREFECT_API_URL: the port of the embedded Prefect server (API and UI).",
)
@fail_on_traceo_error
def serve(  # type: ignore[no-untyped-def]
    prefect_file: Path | None,
    names: tuple[str, ...],
    limit: int | None,
    notify: str | None,
    port: int,
):
    """Serve every deployment from this one process (a single-machine install).

    Runs against PREFECT_API_URL when set; otherwise starts an embedded Prefect server (SQLite
    under TRACEO_HOME, UI on 127.0.0.1:PORT). Schedules, triggers and concurrency are those of
    deployments/prefect.yaml; work pools are not used. SIGTERM or Ctrl-C cancels the runs in
    flight, pauses the served deployments' schedules and stops everything it started, the
    embedded server included, within 10 s.
    """
    import os
    import signal

    from deployments.serve import PREFECT_FILE, deployment_definitions, require_api_url
    from deployments.supervise import RUNNER_GRACE, SERVER_GRACE, runner_process, stop_signals
    from tasks.results import check_result_storage, result_storage

    prefect_file = (prefect_file or PREFECT_FILE).resolve()
    result_storage()  # a malformed setting fails before a server starts; blocks are loaded below
    deployment_definitions(prefect_file, names)  # and so do an unreadable file or unknown names
    with contextlib.ExitStack() as stack:
        stack.enter_context(stop_signals())
        try:
            if not os.environ.get("PREFECT_API_URL"):
                stack.enter_context(_embedded_server(port, SERVER_GRACE))
            click.echo(f"results persist to {check_result_storage()}", err=True)
            require_api_url()
            if notify:
                _apply_failure_automation(notify)
            runner = runner_process(prefect_file, names, limit)
            stack.callback(runner.stop, RUNNER_GRACE, signal.SIGTERM)
            runner.launch()
            code = runner.wait()
        except KeyboardInterrupt as stop:
            click.echo(f"{stop or 'SIGINT'}: stopping ...", err=True)
            code = 0
    sys.exit(code)


@contextlib.contextmanager
def _embedded_server(port: int, grace: float):  # type: ignore[no-untyped-def]
    """A Prefect server with its UI on ``port``, stopped on the way out even if half-started."""
    import os

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from infra.prefect.server import PrefectServer
    from tasks.settings import get_settings

    click.echo(f"starting an embedded Prefect server on 127.0.0.1:{port} ...", err=True)
    server = PrefectServer(get_settings().home / "prefect-server", port=port, ui=True)
    try:
        server.start()
        os.environ.update(server.client_env())  # for the runner process
        click.echo(f"Prefect UI: {server.url}", err=True)
        with temporary_settings({PREFECT_API_URL: server.api_url}):  # Prefect is imported
            yield server
    finally:
        server.stop(grace)


def _apply_failure_automation(notify: str) -> None:
    from deployments.automations import apply_failure_automation

    applied = apply_failure_automation(notify)
    verb = "created" if applied.created else "updated"
    click.echo(f"failure automation {applied.name} {verb} ({notify})", err=True)


@click.command("failure-alerts")
@click.argument("block")
@fail_on_traceo_error
def failure_alerts(block: str) -> None:
    """Notify through BLOCK whenever a flow run fails or crashes (idempotent).

    BLOCK is a saved notification block, e.g. slack-webhook/sre-alerts. Running it again
    updates the one automation instead of adding another.
    """
    from deployments.automations import apply_failure_automation

    applied = apply_failure_automation(block)
    verb = "created" if applied.created else "updated"
    click.echo(f"automation {applied.name} {verb}: id {applied.id}, notifies through {block}")


def _parse_params(values: tuple[str, ...]) -> dict[str, dict[str, object]]:
    import json

    parsed: dict[str, dict[str, object]] = {}
    for value in values:
        target, sep, raw = value.partition("=")
        deployment, dot, key = target.rpartition(".")
        if not (sep and dot and deployment and key):
            raise click.BadParameter(
                f"{value!r}: expected DEPLOYMENT.PARAM=VALUE", param_hint="--param"
            )
        try:
            parsed.setdefault(deployment, {})[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed.setdefault(deployment, {})[key] = raw
    return parsed


@click.command("run-once")
@click.option("--name", "names", multiple=True, help="Only this deployment (repeatable).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="DEPLOYMENT.PARAM=VALUE",
    help="A parameter for one deployment's run (VALUE is JSON, or else a string).",
)
@click.option(
    "--timeout", type=click.FloatRange(1), default=900.0, show_default=True, help="Seconds."
)
@fail_on_traceo_error
def run_once(names: tuple[str, ...], params: tuple[str, ...], timeout: float) -> None:
    """Run each deployment of prefect.yaml once now, on its workers, and wait for all.

    Prints each run's final state and UI link; exits 1 if any did not complete.
    """
    from deployments.run_once import render_outcomes, run_each_once

    outcomes = run_each_once(names, _parse_params(params), timeout=timeout)
    click.echo(render_outcomes(outcomes))
    if not all(o.ok for o in outcomes):
        sys.exit(1)


OPS_COMMANDS = (serve, failure_alerts, run_once)
