"""``traceo intake ...`` (the webhook service) and ``traceo dsr submit`` (the on-call path).

Only click is imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["intake", "submit"]


@click.group()
def intake() -> None:
    """The intake service: signed webhooks from Jira, ServiceNow, Zendesk and generic JSON."""


@intake.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=int)
@click.option(
    "--allowlist",
    "allowlist_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Deployments signed requests may run (default: deployments/intake/allowlist.yaml).",
)
@click.option(
    "--retry-every",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds between retries of fulfilment runs that could not be started (0: never).",
)
@click.option(
    "--serve-files",
    is_flag=True,
    help="Also answer GET /files/<path> (artifact files under TRACEO_HOME for TRACEO_FILES_URL "
    "links). Off by default: enable it only on a listener behind your SSO, never on the one "
    "ticketing systems reach.",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Also log uvicorn's line per request (client address, path, status). Off by default: "
    "the intake logs each stored request by its id.",
)
@fail_on_traceo_error
def serve(
    host: str,
    port: int,
    allowlist_path: Path | None,
    retry_every: float,
    serve_files: bool,
    access_log: bool,
) -> None:
    """Serve the intake API with uvicorn (secrets: TRACEO_INTAKE_SECRET_<SOURCE> or blocks)."""
    import logging
    import threading

    from deployments.intake.allowlist import DEFAULT_ALLOWLIST, load_allowlist
    from deployments.intake.app import create_app, load_secrets
    from deployments.intake.payloads import jira_fields_from_env
    from deployments.intake.server import serve_app
    from deployments.intake.starter import PrefectStarter, sweep_pending
    from tasks.redaction import install_redaction
    from tasks.settings import get_settings
    from tasks.store import get_engine

    jira_fields = jira_fields_from_env()  # a malformed mapping stops here, in one line
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_redaction()
    engine = get_engine()
    secrets = load_secrets()
    if not secrets:
        click.echo(
            "warning: no source secrets configured; every webhook will get 401 "
            "(set TRACEO_INTAKE_SECRET_JIRA, _SERVICENOW, _ZENDESK or _GENERIC)",
            err=True,
        )
    else:
        click.echo(f"accepting signed webhooks from: {', '.join(sorted(secrets))}")
    allowlist = load_allowlist(allowlist_path or DEFAULT_ALLOWLIST)
    starter = PrefectStarter()
    stop = threading.Event()
    if retry_every:
        args = (engine, starter, retry_every, stop)
        threading.Thread(target=sweep_pending, args=args, name="intake-sweep", daemon=True).start()
    app = create_app(
        engine,
        starter,
        secrets,
        allowlist=allowlist,
        jira_fields=jira_fields,
        files_home=get_settings().home if serve_files else None,
    )
    try:
        serve_app(app, host, port, access_log=access_log)
    finally:
        stop.set()


@intake.command("start-pending")
@fail_on_traceo_error
def start_pending_command() -> None:
    """Start the fulfilment run of every stored request still waiting for one."""
    from deployments.intake.starter import PrefectStarter, start_pending
    from tasks.store import get_engine

    started, failed = start_pending(get_engine(), PrefectStarter())
    click.echo(f"started {started}, still pending {failed}")
    if failed:
        sys.exit(1)


def _corrections(values: tuple[str, ...]) -> dict[str, str] | None:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter("use <collection>.<field>=<new value>", param_hint="--set")
        out[key.strip()] = value
    return out or None


@click.command("submit")
@click.option(
    "--type",
    "request_type",
    required=True,
    type=click.Choice(["access", "erasure", "correction", "opt-out"]),
)
@click.option("--jurisdiction", required=True, type=click.Choice(["GDPR", "CCPA"]))
@click.option("--email", help="The subject's e-mail address.")
@click.option("--phone", help="The subject's phone number (international format).")
@click.option("--customer-id", help="The subject's customer id.")
@click.option("--ticket", required=True, help="The ticket this request answers (de-duplicates).")
@click.option(
    "--set",
    "corrections",
    multiple=True,
    metavar="COLLECTION.FIELD=VALUE",
    help="A corrected value (correction requests; repeatable).",
)
@click.option(
    "--start/--no-start",
    default=True,
    show_default=True,
    help="Start the fulfilment deployment now (else: traceo intake start-pending).",
)
@fail_on_traceo_error
def submit(
    request_type: str,
    jurisdiction: str,
    email: str | None,
    phone: str | None,
    customer_id: str | None,
    ticket: str,
    corrections: tuple[str, ...],
    start: bool,
) -> None:
    """Record a data-subject request by hand, exactly as a webhook would, and start it."""
    from deployments.intake.starter import PrefectStarter, start_fulfilment
    from tasks.privacy.requests import InvalidRequestError, create_request, parse_new_request
    from tasks.store import get_engine

    identities = {"email": email, "phone": phone, "customer_id": customer_id}
    try:
        new = parse_new_request(
            {
                "source": "cli",
                "ticket_id": ticket,
                "request_type": request_type,
                "jurisdiction": jurisdiction,
                "identities": {k: v for k, v in identities.items() if v},
                "corrections": _corrections(corrections),
            }
        )
    except InvalidRequestError as exc:
        for field, reason in exc.issues:
            click.echo(f"error: {field}: {reason}", err=True)
        sys.exit(2)
    engine = get_engine()
    created = create_request(engine, new)
    due = created.due_at.date().isoformat()
    if not created.created:
        click.echo(f"ticket {ticket} is already request {created.public_id} ({created.status})")
        return
    click.echo(f"request {created.public_id} received: {jurisdiction} {request_type}, due {due}")
    if not start:
        click.echo("not started; run `traceo intake start-pending` to start it")
        return
    flow_run_id = start_fulfilment(engine, PrefectStarter(), created.public_id)
    if flow_run_id is None:
        click.echo(
            "warning: could not start the fulfilment deployment; the request is stored as "
            "received; run `traceo intake start-pending` when Prefect is reachable",
            err=True,
        )
        sys.exit(1)
    click.echo(f"fulfilment flow run {flow_run_id}")
