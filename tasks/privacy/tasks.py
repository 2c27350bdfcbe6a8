"""Prefect tasks of the privacy flows: thin wrappers over :mod:`tasks.privacy.fulfil`.

Parameters are request ids and datastore names, results are counts: identities are loaded from
the store inside each task and never pass through Prefect. ``NO_CACHE`` keeps inputs from being
hashed or persisted (a request's steps resume from the store instead, :mod:`tasks.privacy.fulfil`);
only the retention tasks (:func:`purge_expired`, :func:`forget_closed_requests`,
:func:`prune_intake_deliveries`), whose inputs are names and whose results are counts, persist
their results, so that a retried retention run reuses the steps that completed. Only transient
errors (a datastore down) are retried; an unexpected error is re-raised as a
:class:`PermanentError` naming its class only, since its message could quote data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.errors import PermanentError, TraceoError
from tasks.privacy import fulfil
from tasks.results import reused_in_retry
from tasks.retry import retry_policy
from tasks.store import get_engine

__all__ = [
    "alert_deadlines",
    "apply_to_datastore",
    "begin_request",
    "close_request",
    "forget_closed_requests",
    "package_bundle",
    "plan_request",
    "prune_intake_deliveries",
    "purge_expired",
    "verify_outcome",
]


def actor() -> str:
    """Who acts, for the audit log: the flow run when there is one."""
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return f"flow-run/{run_id}" if run_id else "traceo-fulfilment"


@contextmanager
def _contained(step: str) -> Iterator[None]:
    try:
        yield
    except TraceoError:
        raise
    except Exception as exc:
        raise PermanentError(f"step {step} failed ({type(exc).__name__})") from None


def _step(name: str, retries: int = 3, reused: bool = False) -> Callable[[Callable[..., Any]], Any]:
    caching = reused_in_retry() if reused else {"cache_policy": NO_CACHE}
    return task(name=name, **caching, **retry_policy(retries))


@_step("begin-request", retries=1)
def begin_request(request_id: str) -> dict[str, Any]:
    """Check the request and mark it in progress; its type and datastores."""
    with _contained("begin"):
        return fulfil.begin(get_engine(), request_id, actor())


@_step("plan-request")
def plan_request(request_id: str) -> dict[str, int]:
    """Find the subject's rows in every datastore; rows per collection."""
    with _contained("plan"):
        counts = fulfil.plan(get_engine(), request_id, actor())
    get_run_logger().info("Request %s: %d rows found", request_id, sum(counts.values()))
    return counts


@_step("apply-to-datastore")
def apply_to_datastore(request_id: str, datastore: str) -> dict[str, Any]:
    """Export, erase, correct or opt out on one datastore; rows per collection."""
    with _contained("apply"):
        counts = fulfil.apply_step(get_engine(), request_id, datastore, actor())
    rows = sum(v for v in counts.values() if isinstance(v, int))
    get_run_logger().info("Request %s: %d rows done on %s", request_id, rows, datastore)
    return counts


@_step("verify-outcome")
def verify_outcome(request_id: str) -> dict[str, Any]:
    """Query every datastore again; fails if any row is not in the expected state."""
    with _contained("verify"):
        return fulfil.verify(get_engine(), request_id, actor())


@_step("package-bundle")
def package_bundle(request_id: str) -> dict[str, Any]:
    """Zip the exports with a checksummed manifest; the link's expiry (the link stays stored)."""
    with _contained("package"):
        return fulfil.package(get_engine(), request_id, actor())


@_step("close-request")
def close_request(request_id: str) -> dict[str, Any]:
    """Comment on the ticket, set its status and mark the request completed."""
    with _contained("close"):
        return fulfil.close(get_engine(), request_id, actor())


@_step("purge-expired", reused=True)
def purge_expired(datastore: str) -> dict[str, int]:
    """Delete rows past their retention in one datastore; rows deleted per collection."""
    from tasks.privacy.config import resolve_datamap
    from tasks.privacy.datastores import open_datastore
    from tasks.privacy.retention import enforce_datastore

    with _contained("retention"):
        datamap = resolve_datamap()
        store = open_datastore(datamap, datastore)
        now = datetime.now(UTC)
        return enforce_datastore(get_engine(), datamap, datastore, store, now, actor())


@_step("forget-closed-requests", reused=True)
def forget_closed_requests() -> dict[str, int]:
    """Drop the identities of requests closed (or left failed) long ago; remove expired bundles."""
    from datetime import timedelta

    from tasks.privacy.config import hash_key, identity_key, privacy_settings, resolve_datamap
    from tasks.privacy.minimise import expire_bundles, forget_identities
    from tasks.privacy.package import BundleSink, sink_for

    def sink_of(request_id: str) -> BundleSink:
        datamap = resolve_datamap()
        return sink_for(datamap, request_id, hash_key(datamap))

    with _contained("forget"):
        key = identity_key()
        days = privacy_settings().identity_retention_days
        now, engine = datetime.now(UTC), get_engine()
        forgotten = forget_identities(engine, key, now - timedelta(days=days), now, actor())
        removed = expire_bundles(engine, sink_of, now, actor())
    return {"identities_forgotten": forgotten, "bundles_removed": removed}


@_step("prune-intake-deliveries", reused=True)
def prune_intake_deliveries() -> dict[str, int]:
    """Forget intake deliveries too old to matter against replays (audited)."""
    from datetime import timedelta

    from tasks.privacy.audit import append_entry
    from tasks.privacy.requests import REPLAY_WINDOW, prune_deliveries
    from tasks.privacy.retention import RETENTION_ID
    from tasks.settings import load
    from tasks.settings.areas import IntakeSettings

    with _contained("prune"):
        now, engine = datetime.now(UTC), get_engine()
        days = load(IntakeSettings).delivery_retention_days
        pruned = prune_deliveries(engine, now - 2 * REPLAY_WINDOW, now - timedelta(days=days))
        counts = {"deliveries": pruned}
        append_entry(engine, RETENTION_ID, "prune_deliveries", "intake", counts, actor())
    return counts


@_step("alert-deadlines", retries=2)
def alert_deadlines(warn_days: int, notify_via: str | None) -> dict[str, int]:
    """Alert once per request that is close to its due date or overdue."""
    from tasks.notify import BlockNotifier
    from tasks.privacy.deadlines import send_deadline_alerts

    notifier = BlockNotifier() if notify_via else None
    with _contained("deadlines"):
        counts = send_deadline_alerts(
            get_engine(), notifier, notify_via, datetime.now(UTC), warn_days, actor()
        )
    if not notify_via and (counts["due-soon"] or counts["overdue"]):
        get_run_logger().warning("No alert target (TRACEO_DSR_NOTIFY): %s", counts)
    return counts
