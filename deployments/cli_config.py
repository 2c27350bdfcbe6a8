"""``traceo config`` and the start-up check of the environment (click only at import time)."""

from __future__ import annotations

import os
import sys

import click

from deployments.cli_errors import fail_on_traceo_error

__all__ = ["check_environment", "config"]


def _warn_unknown() -> None:
    from tasks.settings.catalogue import unknown_variables

    for line in unknown_variables(os.environ):
        click.echo(f"warning: {line}", err=True)


def check_environment() -> None:
    """At start-up: warn about ``TRACEO_*`` variables that are no setting; stop on a bad value."""
    from tasks.errors import ConfigurationError
    from tasks.settings import load
    from tasks.settings.catalogue import AREAS

    _warn_unknown()
    try:
        for model in AREAS:
            load(model)
    except ConfigurationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@click.command("config")
@click.option(
    "--markdown", "as_markdown", is_flag=True, help="Print the README's table of every setting."
)
@fail_on_traceo_error
def config(as_markdown: bool) -> None:
    """Print every setting in effect and where its value came from (secrets masked)."""
    from tasks.settings.catalogue import effective, markdown

    if as_markdown:
        click.echo(markdown())
        return
    from rich.console import Console
    from rich.table import Table

    _warn_unknown()
    table = Table("variable", "value", "source", box=None, pad_edge=False)
    for row in effective(os.environ):
        table.add_row(row.variable, row.shown, row.source)
    Console(width=200, soft_wrap=True).print(table)
