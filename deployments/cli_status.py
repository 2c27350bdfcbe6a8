"""``traceo status ...``: validate, serve and export the public status page.

Only click is imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["status"]

_page_option = click.option(
    "--page",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The status page spec (default: TRACEO_STATUS_PAGE).",
)


def _sources(page: Path | None):  # type: ignore[no-untyped-def]
    from tasks.settings import get_settings
    from tasks.status.publish import load_sources

    settings = get_settings()
    return load_sources(page or settings.status_page, settings.checks_path, settings.slos_path)


@click.group()
def status() -> None:
    """The public status page: current state, 90 days of availability, incidents, maintenance."""


@status.command("validate")
@_page_option
def validate(page: Path | None) -> None:
    """Check the page spec against the checks, SLOs and windows; print every problem, exit 1."""
    from tasks.errors import SpecError

    try:
        sources = _sources(page)
    except SpecError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        click.echo(f"{len(exc.issues)} problem(s) found", err=True)
        sys.exit(1)
    groups = sources.spec.groups
    click.echo(f"OK: {len(sources.spec.services)} public services in {len(groups)} group(s)")


@status.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_page_option
@fail_on_traceo_error
def export(directory: Path, page: Path | None) -> None:
    """Write the page as static files into DIRECTORY (index.html, status.json, css, js)."""
    from datetime import UTC, datetime

    from tasks.status.publish import export_page
    from tasks.store import get_engine

    built = _sources(page).build(get_engine(), datetime.now(UTC).replace(microsecond=0))
    for path in export_page(built, directory):
        click.echo(f"wrote {path}")


@status.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8790, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--refresh",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds between rebuilds of the page from the store.",
)
@_page_option
@fail_on_traceo_error
def serve(host: str, port: int, refresh: float, page: Path | None) -> None:
    """Serve /status and /status.json until Ctrl-C (the page is rebuilt every --refresh s)."""
    from datetime import UTC, datetime

    import uvicorn

    from deployments.status.app import PageCache, StatusApp
    from tasks.store import get_engine

    sources = _sources(page)  # a bad spec stops here, in one line per problem
    engine = get_engine()
    cache = PageCache(lambda: sources.build(engine, datetime.now(UTC)), refresh).start()
    click.echo(f"Serving the status page on http://{host}:{port}/status (Ctrl-C to stop)", err=True)
    try:
        uvicorn.run(StatusApp(cache), host=host, port=port, log_level="warning")
    finally:
        cache.stop()
