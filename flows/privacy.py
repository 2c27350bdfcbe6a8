"""Data-subject requests: fulfil one request, watch deadlines, enforce retention."""

from __future__ import annotations

from typing import Any

from prefect import flow

from tasks.extras import require_extras

# Before the role's tasks: without the privacy extra this is one line naming it, not an
# ImportError from deep in a task module (tasks/extras.py).
require_extras("privacy")

from tasks.errors import TraceoError  # noqa: E402
from tasks.failure import report_failure  # noqa: E402
from tasks.privacy.tasks import (  # noqa: E402
    alert_deadlines,
    apply_to_datastore,
    begin_request,
    close_request,
    forget_closed_requests,
    package_bundle,
    plan_request,
    prune_intake_deliveries,
    purge_expired,
    verify_outcome,
)
from tasks.redaction import install_redaction  # noqa: E402
from tasks.results import rerunnable  # noqa: E402

__all__ = ["enforce_retention", "fulfil_request", "watch_deadlines"]


@flow(
    name="data-subject-request",
    log_prints=False,
    on_failure=[report_failure],
    **rerunnable(),
)
def fulfil_request(request_id: str) -> dict[str, Any]:
    """Fulfil data-subject request ``request_id`` (access, erasure, correction or opt-out).

    begin -> plan (graph traversal from the identities) -> one task per datastore -> verify
    (or package an access bundle) -> close (ticket comment and status). A failed step leaves the
    request ``waiting`` (datastore down: retry the run once it is back) or ``failed``; a rerun
    resumes at that step. The request id is the only parameter: identities are read from the
    store by each task.
    """
    install_redaction()
    try:
        started = begin_request(request_id)
        if started["done"]:
            return {"request_id": request_id, "status": "completed", "rerun": True}
        plan_request(request_id)
        futures = {
            name: apply_to_datastore.submit(request_id, name) for name in started["datastores"]
        }
        done = {name: future.result() for name, future in futures.items()}
        if started["request_type"] == "access":
            package_bundle(request_id)
        else:
            verify_outcome(request_id)
        closed = close_request(request_id)
    except TraceoError as exc:
        from tasks.privacy.fulfil import hold
        from tasks.privacy.tasks import actor
        from tasks.store import get_engine

        hold(get_engine(), request_id, exc, actor())
        raise
    return {
        "request_id": request_id,
        "status": "completed",
        "request_type": started["request_type"],
        "datastores": sorted(done),
        "records": closed["records"],
    }


@flow(name="privacy-deadlines", log_prints=False, on_failure=[report_failure], **rerunnable())
def watch_deadlines(warn_days: int | None = None, notify_via: str | None = None) -> dict[str, int]:
    """Alert on open requests due within ``warn_days`` (default ``TRACEO_DSR_WARN_DAYS``) and
    overdue ones, through the notification block ``notify_via`` (default ``TRACEO_DSR_NOTIFY``)."""
    from tasks.privacy.config import privacy_settings

    install_redaction()
    settings = privacy_settings()
    days = settings.warn_days if warn_days is None else warn_days
    return alert_deadlines(days, notify_via or settings.notify)


@flow(name="privacy-retention", log_prints=False, on_failure=[report_failure], **rerunnable())
def enforce_retention() -> dict[str, dict[str, int]]:
    """Delete what has outlived its retention (audited): data past the data map's rules per
    region and category, plaintext identities of requests closed long enough ago, expired access
    bundles, and intake deliveries too old to matter against replays."""
    from tasks.privacy.config import resolve_datamap
    from tasks.privacy.retention import retention_datastores

    install_redaction()
    names = retention_datastores(resolve_datamap())
    futures = {name: purge_expired.submit(name) for name in names}
    done = {name: future.result() for name, future in futures.items()}
    done["dsr_requests"] = forget_closed_requests()
    done["intake_deliveries"] = prune_intake_deliveries()
    return done
