"""Retry policy for one check: which outcomes are retried and how long to wait in between.

By default only network errors (connection refused, reset, timeout, TLS handshake failure) are
retried: a failed assertion is an answer from the service, and retrying it would hide real
failures. ``on: any_failure`` retries every ``fail`` verdict. ``error`` (the probe itself could
not run, e.g. an unset environment variable) and passing verdicts are never retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from tasks.probes.spec import RetrySpec

__all__ = ["MAX_DELAY_SECONDS", "AttemptLike", "backoff_delay", "run_with_retries", "should_retry"]

# One wait never exceeds this, whatever the strategy: a check must finish within its frequency.
MAX_DELAY_SECONDS = 60.0


class AttemptLike(Protocol):
    @property
    def verdict(self) -> str: ...

    @property
    def network_error(self) -> bool: ...


A = TypeVar("A", bound=AttemptLike)


def backoff_delay(retry: RetrySpec, failed_attempt: int) -> float:
    """Seconds to wait after attempt number ``failed_attempt`` (1-based) failed.

    fixed: ``b``; linear: ``b * n``; exponential: ``b * 2 ** (n - 1)``; capped at
    :data:`MAX_DELAY_SECONDS`.
    """
    base = retry.backoff_seconds
    if retry.strategy == "none":
        return 0.0
    if retry.strategy == "fixed":
        delay = base
    elif retry.strategy == "linear":
        delay = base * failed_attempt
    else:
        delay = base * 2 ** (failed_attempt - 1)
    return min(delay, MAX_DELAY_SECONDS)


def should_retry(retry: RetrySpec, attempt: AttemptLike, number: int) -> bool:
    """Whether attempt ``number`` (1-based) with this outcome earns another attempt."""
    if retry.strategy == "none" or number >= (retry.max_attempts or 1):
        return False
    if attempt.verdict != "fail":
        return False
    return retry.on == "any_failure" or attempt.network_error


async def run_with_retries(
    retry: RetrySpec,
    attempt: Callable[[int], Awaitable[A]],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> list[A]:
    """Run ``attempt(1)``, ``attempt(2)``, ... while :func:`should_retry` says so.

    Returns:
        Every attempt in order; the last one is the final outcome.
    """
    attempts: list[A] = []
    number = 1
    while True:
        outcome = await attempt(number)
        attempts.append(outcome)
        if not should_retry(retry, outcome, number):
            return attempts
        await sleep(backoff_delay(retry, number))
        number += 1
