"""How every `traceo` command reports an expected error (click only: start-up stays fast).

:class:`TraceoGroup` is the ``traceo`` group's class, so every command, at any depth, ends an
expected failure with one line on stderr and exit status 2 instead of a traceback: Traceo's own
errors, and the few failures Prefect raises as untyped exceptions that a user meets in normal use
(its temporary server not starting in time under load, a block that was never saved).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = ["TraceoGroup", "expected_failure", "fail_on_traceo_error"]

_EPHEMERAL_TIMEOUT = "Timed out while attempting to connect to ephemeral Prefect API server"
_MISSING_BLOCK = "Unable to find block document named "


def expected_failure(exc: BaseException) -> str | None:
    """One line for an error a user can meet and fix, or None for a bug (keep its traceback)."""
    from tasks.errors import TraceoError
    from tasks.extras import missing_extra_message

    if isinstance(exc, TraceoError):
        return str(exc)
    if isinstance(exc, ModuleNotFoundError):
        return missing_extra_message(exc)
    message = str(exc)
    if isinstance(exc, RuntimeError) and message.startswith(_EPHEMERAL_TIMEOUT):
        seconds = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")
        return (
            f"the temporary Prefect server did not start in {seconds} s (a busy machine: raise "
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or set PREFECT_API_URL to a "
            "running server)"
        )
    if isinstance(exc, ValueError) and message.startswith(_MISSING_BLOCK):
        name = message.removeprefix(_MISSING_BLOCK).split(" ", 1)[0]
        return f"block {name} is not saved (create it in the Prefect UI or with its .save())"
    return None


class TraceoGroup(click.Group):
    """A click group whose commands end an expected failure in one line (exit 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            _exit_on_expected(exc)
            raise


def fail_on_traceo_error(func: Callable[..., Any]) -> Callable[..., Any]:
    """The same for one command called outside the ``traceo`` group (a script, a test)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            _exit_on_expected(exc)
            raise

    return wrapper


def _exit_on_expected(exc: Exception) -> None:
    line = expected_failure(exc)
    if line is not None:
        click.echo(f"error: {line}", err=True)
        sys.exit(2)
