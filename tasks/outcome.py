"""How a flow run says its job went wrong even though no task raised.

A probe run whose checks all errored, or a chaos experiment whose steady state deviated, ran
every task to completion; a plain Completed state would show it green in the runs list. Such a
flow returns :func:`job_outcome`: its summary when the job went right, else a ``Failed`` state
whose message says what went wrong and which still carries the summary (``state.result(
raise_on_failure=False)``). A Failed run is reported like any other (tasks/failure.py, the
failure automation) and can be retried.
"""

from __future__ import annotations

from typing import Any, TypeVar

from prefect.states import Failed, State

__all__ = ["job_outcome"]

T = TypeVar("T")


def job_outcome(summary: T, problem: str | None) -> T | State[Any]:
    """``summary`` if ``problem`` is None, else a Failed state with ``problem`` as its message."""
    if problem is None:
        return summary
    return Failed(message=problem, data=summary)
