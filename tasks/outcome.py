"""How a flow run says its job went wrong even though no task raised.

A probe run whose checks all errored, or a chaos experiment whose steady state deviated, ran
every task to completion; a plain Completed state would show it green in the runs list. Such a
flow returns :func:`job_outcome`: its summary when the job went right, else a ``Failed`` state
whose message says what went wrong. The state's data is a :class:`JobFailedError` carrying the
summary (``state.result(raise_on_failure=False).summary``); calling the flow directly raises it,
with the problem as its message. A Failed run is reported like any other (tasks/failure.py,
the failure automation) and can be retried.
"""

from __future__ import annotations

from typing import Any, TypeVar

from prefect.states import Failed, State

__all__ = ["JobFailedError", "job_outcome"]

T = TypeVar("T")


class JobFailedError(Exception):
    """The job ran to the end and went wrong; ``summary`` is what it reported."""

    def __init__(self, problem: str, summary: Any) -> None:
        super().__init__(problem, summary)
        self.problem = problem
        self.summary = summary

    def __str__(self) -> str:
        return self.problem


def job_outcome(summary: T, problem: str | None) -> T | State[Any]:
    """``summary`` if ``problem`` is None, else a Failed state with ``problem`` as its message."""
    if problem is None:
        return summary
    # Prefect resolves a Failed state's data into an exception: a plain dict made it raise
    # "Unexpected result for failed state" (a TypeError with a traceback in the run's logs)
    return Failed(message=problem, data=JobFailedError(problem, summary))
