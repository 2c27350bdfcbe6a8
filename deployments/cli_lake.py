"""``traceo cost lake vacuum``: remove the files crashed writers left in the cost lake.

Only click is imported at start-up; the command imports the lake when it runs.
"""

from __future__ import annotations

from datetime import timedelta

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["lake"]


@click.group()
def lake() -> None:
    """The cost lake's upkeep (TRACEO_COST_LAKE or TRACEO_COST_LAKE_BLOCK)."""


@lake.command("vacuum")
@click.option(
    "--min-age",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="Minutes a stray file must be old before it goes (spares writers still in flight).",
)
@fail_on_traceo_error
def vacuum(min_age: int) -> None:
    """Remove the Parquet files no partition manifest names (a crashed run's), in every partition.

    The current versions are never touched; rerunning removes nothing more.
    """
    from tasks.cost.lake import Lake

    removed = Lake.from_settings().vacuum(timedelta(minutes=min_age))
    for path in removed:
        click.echo(f"removed {path}")
    click.echo(f"{len(removed)} stray file(s) removed")
