"""``traceo store status``, ``traceo slo rebuild`` and ``traceo checks latency``: the store's check
data, what it keeps, rollup repairs and latency percentiles from the rollups.

Only click is imported at start-up; each command imports what it needs when it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["checks_latency", "slo_rebuild", "store"]

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
    """Print rows, span and size of raw check results (hot rows and packed hours) and rollups,
    and what retention keeps."""
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


def _quantiles(value: str) -> list[float]:
    try:
        found = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        found = []
    if not found or any(not 0 < q <= 100 for q in found):
        raise click.BadParameter(f"{value!r}: percentiles between 0 and 100, e.g. 50,95,99")
    return found


@click.command("latency")
@click.argument("check")
@click.option("--since", default="24h", show_default=True, help="How far back, e.g. 90m, 24h, 7d.")
@click.option(
    "--percentiles", default="50,95,99", show_default=True, help="Comma-separated, e.g. 50,90,99.9."
)
@fail_on_traceo_error
def checks_latency(check: str, since: str, percentiles: str) -> None:
    """Latency percentiles of CHECK per region, from the rollups (exact to one ladder step).

    Covers the whole minutes up to now; a result slower than 9,000 s reads as 'inf'.
    """
    from tasks.slo.windows import parse_duration
    from tasks.store import get_engine
    from tasks.store.latency import latency_percentiles

    quantiles = _quantiles(percentiles)
    try:
        span = parse_duration(since, fixed=True).seconds
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    now = datetime.now(UTC)
    summaries = latency_percentiles(
        get_engine(), check, now - timedelta(seconds=span), now, quantiles
    )
    if not summaries[-1].results:
        click.echo(f"{check}: no timed results in the last {since}")
        return
    heads = [f"p{q:g}" for q in quantiles]
    click.echo(f"{check}, last {since} (ms, to one step of the latency ladder):")
    click.echo(f"  {'region':<16} {'results':>9}  " + "  ".join(f"{h:>8}" for h in heads))
    for s in summaries:
        values = "  ".join(f"{s.percentiles[q]:>8g}" for q in quantiles)
        click.echo(f"  {s.region:<16} {s.results:>9,}  {values}")
