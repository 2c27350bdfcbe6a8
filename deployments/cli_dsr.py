"""``traceo dsr ...``: data-subject request fulfilment (status, list, audit, data map, run).

Only click is imported here; each command imports what it needs when it runs. Output carries
request ids, statuses and counts, never identities.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["dsr"]


@click.group()
def dsr() -> None:
    """Data-subject requests: fulfilment status, the audit trail and the data map."""


@dsr.command("status")
@click.argument("request_id")
@fail_on_traceo_error
def status(request_id: str) -> None:
    """Show a request's status, due date and the progress of each step."""
    from tasks.privacy.progress import steps_for
    from tasks.privacy.requests import load_request
    from tasks.store import get_engine

    engine = get_engine()
    request = load_request(engine, request_id)
    due = request.extended_until or request.due_at
    click.echo(
        f"{request.public_id}  {request.request_type}  {request.jurisdiction}  "
        f"{request.status}  due {due:%Y-%m-%d}  ({request.source} ticket {request.ticket_id})"
    )
    for step in steps_for(engine, request_id):
        where = f"@{step.datastore}" if step.datastore else ""
        counts = ", ".join(f"{k}={v}" for k, v in sorted(step.counts.items()))
        click.echo(f"  {step.step + where:<24} {step.status:<8} x{step.attempts}  {counts}")


@dsr.command("list")
@click.option("--status", "status_filter", help="Only requests with this status.")
@click.option("--limit", default=50, show_default=True, type=int)
@fail_on_traceo_error
def list_requests(status_filter: str | None, limit: int) -> None:
    """List requests, most urgent first."""
    from sqlalchemy import select

    from tasks.store import get_engine, session_scope
    from tasks.store.privacy_models import DsrRequest

    query = select(DsrRequest).order_by(DsrRequest.due_at).limit(limit)
    if status_filter:
        query = query.where(DsrRequest.status == status_filter)
    with session_scope(get_engine()) as session:
        rows = session.scalars(query).all()
    if not rows:
        click.echo("no requests")
    for r in rows:
        due = r.extended_until or r.due_at
        click.echo(
            f"{r.public_id}  {r.request_type:<10} {r.jurisdiction:<4} {r.status:<11} "
            f"due {due:%Y-%m-%d}"
        )


@dsr.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@fail_on_traceo_error
def audit_verify() -> None:
    """Recompute the chain; exit 1 naming every edited, removed or reordered entry."""
    from tasks.privacy.audit import verify_chain
    from tasks.store import get_engine

    report = verify_chain(get_engine())
    for problem in report.problems:
        click.echo(f"TAMPERED {problem}", err=True)
    if not report.ok:
        sys.exit(1)
    click.echo(f"audit chain intact: {report.entries} entries, head {report.head}")


@audit_group.command("show")
@click.argument("request_id", required=False)
@fail_on_traceo_error
def audit_show(request_id: str | None) -> None:
    """Print the audit trail (of one request, or all)."""
    from tasks.privacy.audit import entries_for
    from tasks.store import get_engine

    for e in entries_for(get_engine(), request_id):
        counts = ", ".join(f"{k}={v}" for k, v in sorted(e.counts.items()))
        where = f"@{e.datastore}" if e.datastore else ""
        click.echo(
            f"{e.seq:>5} {e.at:%Y-%m-%d %H:%M:%S} {e.request_id} {e.step + where:<20} "
            f"{counts}  [{e.actor}] {e.hash[:12]}"
        )


@dsr.group("datamap")
def datamap_group() -> None:
    """The data map (where personal data lives, how it is erased)."""


@datamap_group.command("validate")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@fail_on_traceo_error
def datamap_validate(path: Path | None) -> None:
    """Validate a data map (default: TRACEO_DSR_DATAMAP); every problem names file and field."""
    from tasks.privacy.config import privacy_settings
    from tasks.privacy.datamap import load_datamap

    path = path or privacy_settings().datamap
    datamap = load_datamap(path)
    click.echo(
        f"{path}: valid ({len(datamap.datastores)} datastores, "
        f"{len(datamap.collections)} collections, {len(datamap.retention)} retention rules)"
    )


@dsr.command("fulfil")
@click.argument("request_id")
@fail_on_traceo_error
def fulfil(request_id: str) -> None:
    """Run the fulfilment flow for a request in this process (resumes a failed one)."""
    from flows.privacy import fulfil_request

    result = fulfil_request.with_options(retries=0)(request_id)
    click.echo(f"{request_id}: {result['status']} ({result.get('records', 0)} records)")
