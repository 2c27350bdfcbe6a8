"""How every `traceo` command reports an expected error (click only: start-up stays fast)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = ["fail_on_traceo_error"]


def fail_on_traceo_error(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print a Traceo error as one clear message and exit 2 (no traceback for expected errors)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tasks.errors import TraceoError

        try:
            return func(*args, **kwargs)
        except TraceoError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper
