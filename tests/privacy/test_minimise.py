"""Keep less: closed requests drop their plaintext identities, bundles are sealed and expire."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from infra.sandbox.ticket_fake import TicketFake
from tasks.errors import PermanentError
from tasks.privacy import audit, progress
from tasks.privacy.minimise import expire_bundles, forget_identities, identity_hashes
from tasks.privacy.package import LocalSink
from tasks.privacy.requests import create_request, load_request, parse_new_request, set_status
from tasks.store import session_scope
from tasks.store.privacy_models import DsrRequest

KEY = b"identity-key-0123456789"
EMAIL, PHONE = "jane.doe@example.com", "+442079460958"


def _request(engine, ticket: str, request_type: str = "erasure", **extra) -> str:
    new = parse_new_request(
        {
            "source": "jira",
            "ticket_id": ticket,
            "request_type": request_type,
            "jurisdiction": "GDPR",
            "identities": {"email": EMAIL, "phone": PHONE},
            **extra,
        }
    )
    return create_request(engine, new).public_id


def _stored_text(engine, public_id: str) -> str:
    with session_scope(engine) as session:
        row = session.scalars(select(DsrRequest).where(DsrRequest.public_id == public_id)).one()
        return json.dumps([row.identities, row.corrections, row.identity_hashes])


def test_closing_a_request_records_when_it_closed(store_engine):
    request_id = _request(store_engine, "PRIV-1")
    assert load_request(store_engine, request_id).closed_at is None
    set_status(store_engine, request_id, "completed")
    closed_at = load_request(store_engine, request_id).closed_at
    assert closed_at is not None and closed_at <= datetime.now(UTC)


def test_closed_requests_keep_keyed_hashes_instead_of_identities_once(store_engine):
    closed = _request(store_engine, "PRIV-1", "correction", corrections={"customers.city": "Oslo"})
    rejected = _request(store_engine, "PRIV-2")
    still_open = _request(store_engine, "PRIV-3")
    set_status(store_engine, closed, "completed")
    set_status(store_engine, rejected, "rejected")
    now = datetime.now(UTC)

    # closed less than the retention period ago: kept as they are
    assert forget_identities(store_engine, KEY, now - timedelta(days=30), now, "test") == 0
    assert EMAIL in _stored_text(store_engine, closed)

    later = now + timedelta(days=31)
    assert forget_identities(store_engine, KEY, later - timedelta(days=30), later, "test") == 2
    for request_id in (closed, rejected):
        row = load_request(store_engine, request_id)
        assert row.identities == {} and row.identities_dropped_at is not None
        text = _stored_text(store_engine, request_id)
        assert EMAIL not in text and PHONE not in text and "Oslo" not in text
        expected = hmac.new(KEY, f"email:{EMAIL}".encode(), hashlib.sha256).hexdigest()
        assert row.identity_hashes == {
            "email": expected,
            "phone": identity_hashes({"phone": PHONE}, KEY)["phone"],
        }
        # what proves compliance stays
        assert row.ticket_id.startswith("PRIV-") and row.jurisdiction == "GDPR"
        assert row.closed_at is not None and row.status in {"completed", "rejected"}
    assert load_request(store_engine, closed).corrections == {"customers.city": None}
    assert load_request(store_engine, still_open).identities["email"] == EMAIL

    # audited once, and a rerun changes nothing
    steps = [e.step for e in audit.entries_for(store_engine, closed)]
    assert steps == ["forget_identities"]
    assert forget_identities(store_engine, KEY, later, later, "test") == 0
    assert len(audit.entries_for(store_engine)) == 2
    assert audit.verify_chain(store_engine).ok


def test_the_same_identity_hashes_alike_for_de_duplication():
    first = identity_hashes({"email": EMAIL, "phone": None}, KEY)
    assert first == identity_hashes({"email": EMAIL}, KEY)
    assert first != identity_hashes({"email": EMAIL}, b"another-key-0123456789")
    assert EMAIL not in json.dumps(first)


def test_local_bundle_files_are_sealed_at_rest(tmp_path: Path):
    sink = LocalSink(tmp_path / "req", KEY)
    sink.put("customers.json", json.dumps([{"email": EMAIL}]).encode())
    on_disk = (tmp_path / "req" / "customers.json").read_bytes()
    assert EMAIL.encode() not in on_disk
    assert json.loads(sink.get("customers.json")) == [{"email": EMAIL}]
    (tmp_path / "req" / "customers.json").write_bytes(on_disk[:-1] + bytes([on_disk[-1] ^ 1]))
    with pytest.raises(PermanentError, match="cannot be decrypted"):
        sink.get("customers.json")
    with pytest.raises(PermanentError, match="cannot be decrypted"):
        LocalSink(tmp_path / "req", b"another-key-0123456789").get("customers.json")


def test_expired_bundles_are_removed_once_and_audited(store_engine, tmp_path: Path):
    now = datetime.now(UTC)
    sinks: dict[str, LocalSink] = {}
    for ticket, hours in (("PRIV-1", -1), ("PRIV-2", 24)):
        request_id = _request(store_engine, ticket, "access")
        sinks[request_id] = LocalSink(tmp_path / request_id, KEY)
        sinks[request_id].put("bundle.zip", b"zip")
        sinks[request_id].put("manifest.json", b"{}")
        expires = (now + timedelta(hours=hours)).isoformat()
        progress.finish_step(
            store_engine, request_id, "package", "", {"expires_at": expires}, {"link": "x"}
        )
    expired, valid = list(sinks)

    assert expire_bundles(store_engine, sinks.__getitem__, now, "test") == 1
    assert not (tmp_path / expired).exists() and (tmp_path / valid / "bundle.zip").exists()
    assert progress.get_step(store_engine, expired, "package").detail == {}
    assert [e.counts for e in audit.entries_for(store_engine, expired)] == [{"files": 2}]
    assert expire_bundles(store_engine, sinks.__getitem__, now, "test") == 0
    assert len(audit.entries_for(store_engine, expired)) == 1


def test_s3_bundles_are_encrypted_server_side_and_removed_by_prefix(monkeypatch):
    import boto3
    from moto.server import ThreadedMotoServer

    from tasks.local_server import free_port
    from tasks.privacy.package import S3Sink

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}")
        client.create_bucket(Bucket="bundles")
        sink, other = (
            S3Sink(client, "bundles", "access/req-1"),
            S3Sink(client, "bundles", "access/req-10"),
        )
        for target in (sink, other):
            target.put("bundle.zip", b"zip")
        head = client.head_object(Bucket="bundles", Key="access/req-1/bundle.zip")
        assert head["ServerSideEncryption"] == "AES256"
        assert sink.remove() == 1 and sink.remove() == 0
        keys = [o["Key"] for o in client.list_objects_v2(Bucket="bundles")["Contents"]]
        assert keys == ["access/req-10/bundle.zip"]
    finally:
        server.stop()


def test_forgetting_needs_an_identity_key_of_16_characters(monkeypatch):
    from tasks.errors import ConfigurationError
    from tasks.privacy.config import identity_key

    monkeypatch.setenv("TRACEO_DSR_IDENTITY_KEY", "s3cr3t-val")
    with pytest.raises(ConfigurationError, match="TRACEO_DSR_IDENTITY_KEY") as caught:
        identity_key()
    assert "s3cr3t-val" not in str(caught.value)
    monkeypatch.setenv("TRACEO_DSR_IDENTITY_KEY", KEY.decode())
    assert identity_key() == KEY


def test_a_request_left_failed_past_the_retention_period_is_minimised_too(store_engine):
    from tasks.privacy import fulfil

    failed = _request(store_engine, "PRIV-1")
    retried = _request(store_engine, "PRIV-2")
    waiting = _request(store_engine, "PRIV-3")
    for request_id in (failed, retried):
        set_status(store_engine, request_id, "failed", "PermanentError")
    set_status(store_engine, waiting, "waiting", "ServiceUnavailableError")
    later = datetime.now(UTC) + timedelta(days=31)
    set_status(store_engine, retried, "in_progress")  # on-call reran it: active again

    # last activity less than the retention period ago: kept as it is
    assert forget_identities(store_engine, KEY, later - timedelta(days=32), later, "test") == 0
    assert forget_identities(store_engine, KEY, later - timedelta(days=30), later, "test") == 1
    row = load_request(store_engine, failed)
    assert row.identities == {} and row.status == "failed" and row.closed_at is None
    assert row.identity_hashes == identity_hashes({"email": EMAIL, "phone": PHONE}, KEY)
    assert EMAIL not in _stored_text(store_engine, failed)
    assert [e.step for e in audit.entries_for(store_engine, failed)] == ["forget_identities"]
    # a request rerun since keeps its identities, and so does a waiting one (an outage: it is
    # retried once the datastore is back, and the deadline watch keeps reporting it)
    assert load_request(store_engine, retried).identities["email"] == EMAIL
    assert load_request(store_engine, waiting).identities["email"] == EMAIL

    # a rerun of the minimised request is refused with a reason, not a search for nothing
    with pytest.raises(PermanentError, match="retention period"):
        fulfil.begin(store_engine, failed, "test")


def test_a_new_request_is_matched_to_the_same_persons_minimised_one(store_engine, monkeypatch):
    from tasks.privacy import fulfil

    monkeypatch.setenv("TRACEO_DSR_DATAMAP", str(Path("deployments/datamaps/demo.yaml").resolve()))
    monkeypatch.setenv("TRACEO_DSR_IDENTITY_KEY", KEY.decode())
    old = _request(store_engine, "PRIV-1")
    fulfil.begin(store_engine, old, "test")
    set_status(store_engine, old, "completed")
    later = datetime.now(UTC) + timedelta(days=31)
    assert forget_identities(store_engine, KEY, later - timedelta(days=30), later, "test") == 1
    stranger = parse_new_request(
        {
            "source": "zendesk",
            "ticket_id": "77",
            "request_type": "access",
            "jurisdiction": "GDPR",
            "identities": {"email": "someone.else@example.com"},
        }
    )
    other = create_request(store_engine, stranger).public_id
    fulfil.begin(store_engine, other, "test")

    # the same person again, from another ticket and with the phone only
    new = parse_new_request(
        {
            "source": "zendesk",
            "ticket_id": "78",
            "request_type": "access",
            "jurisdiction": "GDPR",
            "identities": {"phone": PHONE},
        }
    )
    again = create_request(store_engine, new).public_id
    fulfil.begin(store_engine, again, "test")

    begun = progress.get_step(store_engine, again, "begin")
    assert begun is not None and begun.detail == {"same_person": [old]}
    assert begun.counts["same_person"] == 1
    (entry,) = audit.entries_for(store_engine, again)
    assert entry.counts == {"datastores": begun.counts["datastores"], "same_person": 1}
    # matched by hash: the old request still holds no plaintext, the new one no other identity
    assert EMAIL not in _stored_text(store_engine, old)
    assert load_request(store_engine, again).identity_hashes == identity_hashes(
        {"phone": PHONE}, KEY
    )
    assert progress.get_step(store_engine, other, "begin").detail in (None, {})

    # the closing comment names the earlier request by id, and nothing that identifies the person
    with TicketFake() as fake:
        monkeypatch.setenv("TRACEO_ZENDESK_URL", fake.url)
        monkeypatch.setenv("TRACEO_ZENDESK_EMAIL", "bot@corp.test")
        monkeypatch.setenv("TRACEO_ZENDESK_TOKEN", "zd-token")
        fulfil.close(store_engine, again, "test")
        (comment,) = fake.ticket("zendesk", "78").comments
    assert f"Other requests from the same person: {old}." in comment
    hashes = identity_hashes({"email": EMAIL, "phone": PHONE}, KEY).values()
    assert not any(secret in comment for secret in (EMAIL, PHONE, "2079460958", *hashes))
