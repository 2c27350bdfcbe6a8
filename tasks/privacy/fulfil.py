"""The steps of fulfilling one request, as plain functions (the flow's tasks wrap them).

begin -> plan -> one step per datastore (export | erase | correct | opt_out) -> verify or
package -> close. Each step records its progress per (request, step, datastore) and appends an
audit entry; a done step returns its stored counts instead of running again, so a rerun resumes
at the step that failed. Every function takes and returns ids and counts only: identities are
loaded here, from the store.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tasks.errors import PermanentError, TransientError
from tasks.privacy import audit, progress
from tasks.privacy.config import hash_key, identity_key, privacy_settings, resolve_datamap
from tasks.privacy.datamap import DataMap
from tasks.privacy.datastores import Datastore, open_datastore
from tasks.privacy.execute import (
    correct_datastore,
    erase_datastore,
    export_datastore,
    opt_out_datastore,
    parse_corrections,
)
from tasks.privacy.minimise import link_same_person
from tasks.privacy.package import build_bundle, sink_for
from tasks.privacy.plan import Plan, build_plan
from tasks.privacy.verify import verify_datastore

__all__ = [
    "ACTIONS",
    "apply_step",
    "begin",
    "close",
    "datastores_for",
    "hold",
    "package",
    "plan",
    "run_request",
    "verify",
]

ACTIONS = {"access": "export", "erasure": "erase", "correction": "correct", "opt-out": "opt_out"}


class _Stores:
    """Datastores opened on first use within one step."""

    def __init__(self, datamap: DataMap) -> None:
        self.datamap = datamap
        self._open: dict[str, Datastore] = {}

    def __call__(self, name: str) -> Datastore:
        if name not in self._open:
            self._open[name] = open_datastore(self.datamap, name)
        return self._open[name]


def _request(engine: Engine, request_id: str) -> Any:
    from tasks.privacy.requests import load_request

    return load_request(engine, request_id)


def _set_status(engine: Engine, request_id: str, status: str, detail: str | None = None) -> None:
    from tasks.privacy.requests import set_status

    set_status(engine, request_id, status, detail)


def datastores_for(datamap: DataMap, request_type: str) -> list[str]:
    """Datastores a request of this type acts on (those holding collections or opt-out sets)."""
    names = {c.datastore for c in datamap.collections.values()}
    if request_type == "opt-out":
        names |= {t.datastore for t in datamap.opt_out}
    return sorted(names)


def _done(engine: Engine, request_id: str, step: str, datastore: str = "") -> Any:
    row = progress.get_step(engine, request_id, step, datastore)
    return row if row is not None and row.status == "done" else None


def _finish(
    engine: Engine,
    request_id: str,
    step: str,
    datastore: str,
    counts: dict[str, Any],
    actor: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    progress.finish_step(engine, request_id, step, datastore, counts, detail)
    audit.append_entry(engine, request_id, step, datastore, counts, actor)
    return counts


def begin(engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Check the request can be fulfilled; ``{"request_type", "datastores", "done"}``."""
    request = _request(engine, request_id)
    if request.status == "rejected":
        raise PermanentError(f"data-subject request {request_id} was rejected")
    if request.identities_dropped_at is not None and request.closed_at is None:
        raise PermanentError(
            f"data-subject request {request_id} was left failed past the retention period "
            "(TRACEO_DSR_IDENTITY_RETENTION_DAYS) and its identities dropped: it needs a new "
            "request"
        )
    datamap = resolve_datamap()
    summary = {
        "request_type": request.request_type,
        "datastores": datastores_for(datamap, request.request_type),
        "done": _done(engine, request_id, "close") is not None,
    }
    if summary["done"]:
        return summary
    if request.request_type not in ACTIONS:
        raise PermanentError(f"request {request_id}: unknown type {request.request_type!r}")
    if not any(request.identities.get(k) for k in ("email", "phone", "customer_id")):
        raise PermanentError(f"request {request_id}: no identity to search for")
    if request.request_type == "correction":
        parse_corrections(datamap, request.corrections or {})
    _set_status(engine, request_id, "in_progress")
    if not _done(engine, request_id, "begin"):
        counts = {"datastores": len(summary["datastores"])}
        same_person = _same_person(engine, request_id)
        if same_person is not None:
            counts["same_person"] = len(same_person)
        detail = {"same_person": same_person} if same_person else None
        _finish(engine, request_id, "begin", "", counts, actor, detail)
    return summary


def _same_person(engine: Engine, request_id: str) -> list[str] | None:
    """The person's other requests, by identity hash; None without ``TRACEO_DSR_IDENTITY_KEY``."""
    if privacy_settings().identity_key is None:
        return None
    return link_same_person(engine, request_id, identity_key())


def _plan(engine: Engine, request_id: str) -> Plan:
    row = _done(engine, request_id, "plan")
    if row is None:
        raise PermanentError(f"request {request_id}: no plan recorded")
    return Plan.model_validate(row.detail)


def plan(engine: Engine, request_id: str, actor: str) -> dict[str, int]:
    """Find the subject's rows everywhere (once); counts of rows per collection."""
    row = _done(engine, request_id, "plan")
    if row is not None:
        return dict(row.counts)
    request = _request(engine, request_id)
    datamap = resolve_datamap()
    progress.start_step(engine, request_id, "plan")
    found = build_plan(datamap, dict(request.identities), _Stores(datamap))
    return _finish(engine, request_id, "plan", "", found.counts(), actor, found.model_dump())


def apply_step(engine: Engine, request_id: str, datastore: str, actor: str) -> dict[str, Any]:
    """Export, erase, correct or opt out on one datastore (once); counts per collection."""
    request = _request(engine, request_id)
    step = ACTIONS[request.request_type]
    row = _done(engine, request_id, step, datastore)
    if row is not None:
        return dict(row.counts)
    datamap = resolve_datamap()
    found = _plan(engine, request_id)
    progress.start_step(engine, request_id, step, datastore)
    store = open_datastore(datamap, datastore)
    detail: dict[str, Any] | None = None
    try:
        if step == "export":
            sink = sink_for(datamap, request_id, hash_key(datamap))
            counts, files = export_datastore(datamap, datastore, store, found, sink)
            detail = {"files": files}
        elif step == "erase":
            counts = erase_datastore(datamap, datastore, store, found, hash_key(datamap))
        elif step == "correct":
            fixes = request.corrections or {}
            counts = correct_datastore(datamap, datastore, store, found, fixes)
        else:
            counts = opt_out_datastore(datamap, datastore, store, found)
    except (TransientError, PermanentError) as exc:
        progress.finish_step(engine, request_id, step, datastore, status="failed", error=str(exc))
        raise
    return _finish(engine, request_id, step, datastore, counts, actor, detail)


def verify(engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Query every datastore again; raises if any row is not in the expected state."""
    row = _done(engine, request_id, "verify")
    if row is not None:
        return dict(row.counts)
    request = _request(engine, request_id)
    datamap = resolve_datamap()
    found = _plan(engine, request_id)
    progress.start_step(engine, request_id, "verify")
    stores = _Stores(datamap)
    checked = problems = 0
    for name in datastores_for(datamap, request.request_type):
        report = verify_datastore(
            datamap, name, stores(name), found, request.request_type, request.corrections
        )
        checked += sum(r["checked"] for r in report.values())
        problems += sum(r["problems"] for r in report.values())
    counts = {"checked": checked, "problems": problems}
    if problems:
        progress.finish_step(engine, request_id, "verify", "", counts, status="failed")
        audit.append_entry(engine, request_id, "verify_failed", "", counts, actor)
        raise PermanentError(f"request {request_id}: verification found {problems} rows not done")
    return _finish(engine, request_id, "verify", "", counts, actor)


def package(engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Build the access bundle from the exports; counts and the link's expiry."""
    row = _done(engine, request_id, "package")
    if row is not None:
        return dict(row.counts)
    datamap = resolve_datamap()
    files: dict[str, dict[str, Any]] = {}
    for name in datastores_for(datamap, "access"):
        export = _done(engine, request_id, "export", name)
        if export is None:
            raise PermanentError(f"request {request_id}: datastore {name!r} was not exported")
        files.update(export.detail.get("files", {}))
    progress.start_step(engine, request_id, "package")
    sink = sink_for(datamap, request_id, hash_key(datamap))
    bundle = build_bundle(sink, request_id, files, datamap.access.link_ttl_hours)
    counts = {k: bundle[k] for k in ("files", "expires_at", "manifest_sha256")}
    return _finish(engine, request_id, "package", "", counts, actor, {"link": bundle["link"]})


def close(engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Report the outcome to the ticket, mark the request completed, forget the row keys."""
    from tasks.privacy.tickets import ticket_client_for

    row = _done(engine, request_id, "close")
    if row is not None:
        return dict(row.counts)
    request = _request(engine, request_id)
    step = ACTIONS[request.request_type]
    rows = sum(
        sum(v for v in s.counts.values() if isinstance(v, int))
        for s in progress.steps_for(engine, request_id)
        if s.step == step and s.status == "done"
    )
    head = audit.verify_chain(engine).head
    text = (
        f"Data-subject request {request_id} ({request.request_type}) completed: "
        f"{rows} records ({step}). Audit chain head {head[:16]}."
    )
    begun = _done(engine, request_id, "begin")
    if begun is not None and begun.detail and begun.detail.get("same_person"):
        text += f" Other requests from the same person: {', '.join(begun.detail['same_person'])}."
    if request.request_type == "access":
        packaged = _done(engine, request_id, "package")
        if packaged is not None:
            expiry = packaged.counts.get("expires_at")
            text += f" Bundle (expires {expiry}): {packaged.detail.get('link')}"
    client = ticket_client_for(request.source)
    client.comment(request.ticket_id, text)
    client.set_status(request.ticket_id, "completed")
    _set_status(engine, request_id, "completed")
    progress.clear_detail(engine, request_id, "plan")
    return _finish(engine, request_id, "close", "", {"records": rows}, actor)


def hold(engine: Engine, request_id: str, error: BaseException, actor: str) -> str:
    """After a failed step: ``waiting`` (transient, retried later) or ``failed``; the new status."""
    status = "waiting" if isinstance(error, TransientError) else "failed"
    reason = type(error).__name__
    try:
        _set_status(engine, request_id, status, reason)
        audit.append_entry(engine, request_id, status, "", {"error": reason}, actor)
        request = _request(engine, request_id)
        from tasks.privacy.tickets import ticket_client_for

        client = ticket_client_for(request.source)
        note = f"Data-subject request {request_id} is {status} ({reason})"
        client.comment(request.ticket_id, f"{note}; a rerun resumes where it stopped.")
        client.set_status(request.ticket_id, status)
    except Exception:  # the original error matters more; the next run reports again
        return status
    return status


def run_request(engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Every step in order, without Prefect (the CLI's local runs, tests, the demo's fallback).

    A failure leaves the request ``waiting`` or ``failed`` and re-raises, like the flow.
    """
    try:
        started = begin(engine, request_id, actor)
        if started["done"]:
            return {"request_id": request_id, "status": "completed", "rerun": True}
        plan(engine, request_id, actor)
        for name in started["datastores"]:
            apply_step(engine, request_id, name, actor)
        if started["request_type"] == "access":
            package(engine, request_id, actor)
        else:
            verify(engine, request_id, actor)
        closed = close(engine, request_id, actor)
    except (TransientError, PermanentError) as exc:
        hold(engine, request_id, exc, actor)
        raise
    return {"request_id": request_id, "status": "completed", "records": closed["records"]}
