"""``traceo store status`` and ``traceo slo rebuild``: what the store keeps, and rollup repairs.

Only click is imported at start-up; each command imports what it needs when it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["slo_rebuild", "store"]

_WHEN = ["%Y-%m-%d", "%Y-%m-%dT%H:%M"]


@click.group()
def store() -> None:
    """The store's check data: sizes and retention."""


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024  # type: ignore[assignment]
    raise AssertionError  # pragma: no cover


@store.command("status")
@fail_on_traceo_error
def store_status() -> None:
    """Print rows, span and size of raw check results and rollups, and what retention keeps."""
    from rich.console import Console
    from rich.table import Table

    from tasks.settings import get_settings
    from tasks.store import get_engine
    from tasks.store.retention import RetentionPolicy
    from tasks.store.usage import store_usage

    policy = RetentionPolicy.from_settings(get_settings())
    table = Table("data", "rows", "oldest", "newest", "size", "kept")
    for row in store_usage(get_engine(), policy):
        size = _size(row.bytes)
        table.add_row(
            row.what,
            f"{row.rows:,}",
            "-" if row.oldest is None else f"{row.oldest:%Y-%m-%d %H:%M}",
            "-" if row.newest is None else f"{row.newest:%Y-%m-%d %H:%M}",
            size if row.what == "check_results" or size == "-" else f"~{size}",
            f"{row.keeps_days} days",
        )
    Console(width=120).print(table)


@click.command("rebuild")
@click.option("--from", "start", required=True, type=click.DateTime(formats=_WHEN), help="UTC.")
@click.option(
    "--to", "end", required=True, type=click.DateTime(formats=_WHEN), help="UTC, exclusive."
)
@fail_on_traceo_error
def slo_rebuild(start: datetime, end: datetime) -> None:
    """Rebuild the check rollups of [--from, --to) from raw results.

    Idempotent; an interrupted rebuild run again with the same period resumes where it stopped.
    Minutes older than the raw retention's cutoff are kept as they are (their results are gone).
    """
    from rich.progress import Progress

    from tasks.store import get_engine
    from tasks.store.rebuild import rebuild_rollups

    start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    if end <= start:
        raise click.BadParameter("must be after --from (the end is exclusive)", param_hint="--to")
    with Progress(transient=True) as progress:
        bar = progress.add_task("rebuilding", total=end.timestamp() - start.timestamp())
        report = rebuild_rollups(
            get_engine(),
            start,
            end,
            on_step=lambda done, _: progress.update(bar, completed=done - start.timestamp()),
        )
    if report.resumed_at is not None:
        click.echo(f"resumed at {datetime.fromtimestamp(report.resumed_at, UTC):%Y-%m-%d %H:%M}")
    if report.sealed_before is not None and report.sealed_before > report.start:
        sealed = datetime.fromtimestamp(report.sealed_before, UTC)
        click.echo(f"kept rollups before {sealed:%Y-%m-%d %H:%M} (raw results removed)")
    click.echo(f"rebuilt {report.minutes:,} minutes of rollups")
