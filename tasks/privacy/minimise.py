"""Keep less: what a closed or abandoned request stops holding, and when.

A request closed (completed or rejected) more than ``TRACEO_DSR_IDENTITY_RETENTION_DAYS`` ago,
or left ``failed`` with no activity (no rerun, no status change) for as long, keeps what proves
compliance (ticket, type, jurisdiction, dates, outcome, its audit entries) and
a keyed hash of each identity (HMAC-SHA256 under ``TRACEO_DSR_IDENTITY_KEY``, so a later request
from the same person can be matched without the plaintext); its identities and corrected values
are emptied. Every request gets those hashes when its fulfilment begins
(:func:`link_same_person`, which finds the person's other requests by them). An access bundle
whose link has expired is removed with every file exported for it.
Each change is audited in the transaction that makes it, and done once: a rerun finds nothing
left to do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, or_, select, update

from tasks.privacy import audit, progress
from tasks.privacy.package import BundleSink
from tasks.store.engine import session_scope
from tasks.store.fulfilment_models import DsrStep
from tasks.store.privacy_models import DsrRequest
from tasks.store.sql import json_text

__all__ = [
    "expire_bundles",
    "forget_identities",
    "identity_hashes",
    "link_same_person",
    "same_person",
]


def identity_hashes(identities: dict[str, Any], key: bytes) -> dict[str, str]:
    """``{kind: HMAC-SHA256 hex of "kind:value"}`` for each identity given."""
    return {
        kind: hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        for kind, value in sorted(identities.items())
        if value not in (None, "")
    }


def same_person(hashes: dict[str, str]) -> ColumnElement[bool]:
    """Requests sharing at least one of ``hashes`` (``{kind: digest}``, not empty).

    Written as the indexes on the hashes are (:mod:`tasks.store.privacy_models`), so that each
    kind is looked up in its index instead of every request being read.
    """
    hashed = DsrRequest.identity_hashes.is_not(None)  # in each branch: SQLite's planner wants it
    return or_(
        *(
            hashed & (json_text(DsrRequest.identity_hashes, kind) == json.dumps(digest))
            for kind, digest in hashes.items()
        )
    )


def link_same_person(engine: Engine, public_id: str, key: bytes) -> list[str]:
    """Hash the identities of request ``public_id`` and find the other requests of that person.

    The request keeps its hashes from now on (minimising it later writes the same ones), so any
    request can be matched, open or minimised, without comparing plaintext. Returns the public
    ids of the other requests sharing at least one identity hash, oldest first; neither the
    hashes nor the identities leave this function.
    """
    with session_scope(engine) as session:
        row = session.scalars(select(DsrRequest).where(DsrRequest.public_id == public_id)).one()
        hashes = identity_hashes(dict(row.identities or {}), key)
        if not hashes:  # already minimised: its hashes were kept then
            hashes = dict(row.identity_hashes or {})
        row.identity_hashes = hashes
        if not hashes:
            return []
        same = same_person(hashes)
        others = (
            select(DsrRequest.public_id)
            .where(DsrRequest.public_id != public_id, same)
            .order_by(DsrRequest.received_at, DsrRequest.id)
        )
        return list(session.scalars(others))


def _forgettable(before: datetime) -> ColumnElement[bool]:
    """Closed before ``before``, or failed with no activity since (a rerun makes it in progress)."""
    failed_and_left = (DsrRequest.status == "failed") & (DsrRequest.updated_at < before)
    return DsrRequest.identities_dropped_at.is_(None) & (
        (DsrRequest.closed_at < before) | failed_and_left
    )


def forget_identities(
    engine: Engine, key: bytes, before: datetime, now: datetime, actor: str
) -> int:
    """Swap for keyed hashes the identities of requests closed, or failed and left, by ``before``.

    Returns how many requests were changed; each gets a ``forget_identities`` audit entry.
    """
    due = select(DsrRequest.public_id).where(_forgettable(before)).order_by(DsrRequest.updated_at)
    with session_scope(engine) as session:
        ids = list(session.scalars(due))
    forgotten = 0
    for public_id in ids:
        with session_scope(engine) as session:
            audit.lock_chain(session)
            row = session.scalars(
                select(DsrRequest)
                .where(DsrRequest.public_id == public_id)
                .where(_forgettable(before))  # rerun or already forgotten meanwhile: left alone
            ).first()
            if row is None:
                continue
            hashes = identity_hashes(dict(row.identities or {}), key)
            corrected = sorted(row.corrections or {})
            session.execute(
                update(DsrRequest)
                .where(DsrRequest.id == row.id)
                .values(
                    identities={},
                    identity_hashes=hashes,
                    corrections=dict.fromkeys(corrected) if corrected else None,
                    identities_dropped_at=now,
                )
            )
            counts = {"identities": len(hashes), "corrections": len(corrected)}
            audit.append_in(session, public_id, "forget_identities", "", counts, actor)
        forgotten += 1
    return forgotten


def expire_bundles(
    engine: Engine, sink_of: Callable[[str], BundleSink], now: datetime, actor: str
) -> int:
    """Remove the access bundles (and exports) whose link expired; how many were removed.

    ``sink_of(request_id)`` opens a request's bundle location (only called when one expired).
    """
    packaged = select(DsrStep.request_id, DsrStep.counts).where(
        DsrStep.step == "package", DsrStep.datastore == "", DsrStep.status == "done"
    )
    expired = select(DsrStep.request_id).where(DsrStep.step == "expire_bundle")
    with session_scope(engine) as session:
        gone = set(session.scalars(expired))
        rows = [(r.request_id, r.counts) for r in session.execute(packaged) if r[0] not in gone]
    removed = 0
    for request_id, counts in rows:
        expires_at = counts.get("expires_at")
        if not expires_at or datetime.fromisoformat(expires_at) > now:
            continue
        files = sink_of(request_id).remove()
        # Audited before it is marked done: a crash in between repeats the entry (0 files the
        # second time) rather than losing it.
        audit.append_entry(engine, request_id, "expire_bundle", "", {"files": files}, actor)
        progress.finish_step(engine, request_id, "expire_bundle", "", {"files": files})
        progress.clear_detail(engine, request_id, "package")
        removed += 1
    return removed
