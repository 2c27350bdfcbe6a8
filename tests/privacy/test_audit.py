from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from tasks.privacy.audit import append_entry, entries_for, verify_chain
from tasks.store import session_scope
from tasks.store.fulfilment_models import DsrAuditEntry


@pytest.fixture
def chain(store_engine):
    for i, step in enumerate(["begin", "plan", "erase", "verify", "close"]):
        append_entry(store_engine, "req-1", step, "pg" if step == "erase" else "", {"rows": i})
    assert verify_chain(store_engine).ok
    return store_engine


def _set(engine, seq: int, **values) -> None:
    with session_scope(engine) as session:
        session.execute(update(DsrAuditEntry).where(DsrAuditEntry.seq == seq).values(**values))


def test_an_intact_chain_verifies_and_links_each_entry(chain):
    entries = entries_for(chain)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    report = verify_chain(chain)
    assert report.entries == 5 and report.head == entries[-1].hash


def test_an_edited_entry_is_detected(chain):
    _set(chain, 3, counts={"rows": 0})
    assert verify_chain(chain).problems == ["entry 3: content does not match its hash (edited)"]


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(chain):
    from tasks.privacy.audit import entry_hash

    e = entries_for(chain)[2]
    forged = entry_hash(e.prev_hash, e.seq, e.request_id, e.step, e.datastore, {}, e.actor, e.at)
    _set(chain, 3, counts={}, hash=forged)
    assert verify_chain(chain).problems == ["entry 4: does not link to the entry before it"]


def test_a_removed_entry_is_detected(chain):
    with session_scope(chain) as session:
        session.query(DsrAuditEntry).filter(DsrAuditEntry.seq == 2).delete()
    problems = verify_chain(chain).problems
    assert "entry 3: expected sequence 2 (entry removed?)" in problems
    assert "entry 3: does not link to the entry before it" in problems


def test_reordered_entries_are_detected(chain):
    # swap the contents of entries 2 and 3 (sequence numbers stay in place)
    a, b = entries_for(chain)[1:3]
    fields = ("request_id", "step", "datastore", "counts", "actor", "at", "prev_hash", "hash")
    _set(chain, 2, **{f: getattr(b, f) for f in fields})
    _set(chain, 3, **{f: getattr(a, f) for f in fields})
    assert not verify_chain(chain).ok


def test_concurrent_writers_still_form_one_chain(chain):
    from concurrent.futures import ThreadPoolExecutor

    # Eight writers with their own connections: an optimistic retry loop ran out here.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: append_entry(chain, f"req-{i}", "plan"), range(48)))
    report = verify_chain(chain)
    assert report.ok, report.problems
    assert report.entries == 53
    assert [e.seq for e in entries_for(chain)] == list(range(1, 54))
