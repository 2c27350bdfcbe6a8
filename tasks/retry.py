"""The one retry policy of every Traceo task: retry what can succeed, fail fast on what cannot.

Errors classify themselves (:mod:`tasks.errors`): a :class:`~tasks.errors.TransientError`
(throttled, unavailable, timed out) is retried with a short, bounded back-off; anything else (a
:class:`~tasks.errors.PermanentError`: configuration, spec, not found, refused credentials, or an
unexpected bug) fails the task run at once, and its message says what to fix.

Apply to a task: ``@task(name=..., **retry_policy())``. Flows declare no retries of their own:
Prefect's server retries a failed flow run whatever the error, so a permanent error would be
retried too (a flow-level retry of a transient outage is a deliberate retry from the UI).
"""

from __future__ import annotations

import logging
from typing import Any

from tasks.errors import PermanentError, TransientError

__all__ = ["RETRY_DELAYS", "is_transient", "retry_policy", "retry_transient"]

# Seconds before the 1st, 2nd and 3rd retry. An outage longer than about two minutes is for a
# person to look at (the failure report says how to retry), not for a task to sleep through.
RETRY_DELAYS: tuple[float, ...] = (5.0, 20.0, 60.0)
# Each delay is stretched by up to this fraction, so runs that failed together do not all retry
# in the same second.
_JITTER = 0.2


def _logger(task: Any, task_run: Any) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    from prefect.logging.loggers import task_run_logger

    try:  # in the task run's own log, where on-call reads it
        return task_run_logger(task_run, task)
    except Exception:  # a condition called outside a run (a unit test, a script)
        return logging.getLogger("traceo.retry")


def is_transient(exc: BaseException | None) -> bool:
    """Whether another attempt may succeed: only a :class:`TransientError` says so."""
    return isinstance(exc, TransientError)


def _exception(state: Any) -> BaseException | None:
    try:
        state.result()
    except BaseException as exc:  # the state's own exception, re-raised by Prefect
        return exc
    return None


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry a transient error; say why anything else is not."""
    exc = _exception(state)
    if is_transient(exc):
        return True
    if exc is not None:
        kind = "permanent" if isinstance(exc, PermanentError) else "unexpected"
        _logger(task, task_run).error(
            "%s error, not retried (fix it, then retry the run): %s: %s",
            kind.capitalize(),
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
        )
    return False


def retry_policy(retries: int = len(RETRY_DELAYS)) -> dict[str, Any]:
    """Task options: up to ``retries`` retries of transient errors, on :data:`RETRY_DELAYS`.

    Args:
        retries: how many retries (0 to ``len(RETRY_DELAYS)``); a step that must not repeat
            quickly (it notifies people) asks for fewer.
    """
    if not 0 <= retries <= len(RETRY_DELAYS):
        raise ValueError(f"retries must be 0..{len(RETRY_DELAYS)}, not {retries}")
    return {
        "retries": retries,
        "retry_delay_seconds": list(RETRY_DELAYS[:retries]) or 0,
        "retry_jitter_factor": _JITTER,
        "retry_condition_fn": retry_transient,
    }
