from __future__ import annotations

import os

import pytest

from tasks.errors import PermanentError, ServiceUnavailableError
from tasks.privacy import audit, fulfil, progress
from tasks.privacy.config import resolve_datamap
from tasks.privacy.datastores import open_datastore
from tasks.privacy.plan import build_plan
from tasks.privacy.requests import load_request
from tasks.store import get_engine
from tests.privacy.conftest import ALICE, new_request

ACTOR = "test"


def _run(engine, request_id: str) -> dict:
    started = fulfil.begin(engine, request_id, ACTOR)
    fulfil.plan(engine, request_id, ACTOR)
    for name in started["datastores"]:
        fulfil.apply_step(engine, request_id, name, ACTOR)
    if started["request_type"] == "access":
        fulfil.package(engine, request_id, ACTOR)
    else:
        fulfil.verify(engine, request_id, ACTOR)
    return fulfil.close(engine, request_id, ACTOR)


def test_plan_traverses_references_across_every_datastore(stores):
    datamap = resolve_datamap()
    opened = {}
    plan = build_plan(
        datamap,
        {"email": ALICE["email"]},
        lambda n: opened.setdefault(n, open_datastore(datamap, n)),
    )
    assert plan.counts() == {
        "carts": 1,
        "contacts": 1,
        "customers": 1,
        "events": 2,
        "marketing_events": 2,
        "orders": 2,
        "sessions": 1,
        "tickets": 2,
    }
    # the customer id (the matched row's key) was discovered and searched for as an identity
    assert plan.identities == {"customer_id": ["1"], "email": [ALICE["email"]]}


def test_a_phone_shared_with_someone_else_does_not_pull_in_their_rows(stores):
    from sqlalchemy import text

    with stores.pg.begin() as conn:
        conn.execute(text(f"UPDATE {stores.prefix}customers SET phone = :p"), {"p": ALICE["phone"]})
    datamap = resolve_datamap()
    plan = build_plan(datamap, {"email": ALICE["email"]}, lambda n: open_datastore(datamap, n))
    assert plan.keys["customers"] == [[1]] and plan.counts()["orders"] == 2


def _hmac(value: str) -> str:
    import hashlib
    import hmac

    from tests.privacy.conftest import HASH_KEY

    return hmac.new(HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_erasure_applies_each_strategy_everywhere_and_leaves_others_alone(stores):
    engine = get_engine()
    request_id = new_request(engine, "erasure")
    _run(engine, request_id)
    p = stores.prefix

    alice, bob = stores.pg_rows("customers")
    assert (alice["email"], alice["phone"], alice["name"]) == (
        _hmac(ALICE["email"]),
        None,
        "[erased]",
    )
    assert (bob["email"], bob["name"]) == ("bob@example.com", "Bob")
    orders = {o["id"]: o["shipping_address"] for o in stores.pg_rows("orders")}
    assert orders == {10: None, 11: None, 12: "2 Main St"}
    assert [e["customer_id"] for e in stores.pg_rows("marketing_events")] == [2, 2]
    assert [t["id"] for t in stores.maria_rows()] == [102]
    assert stores.redis.hgetall(f"{p}:session:1") == {"email": _hmac(ALICE["email"])}
    assert stores.redis.hgetall(f"{p}:session:2")["ip"] == "10.0.0.2"
    assert not stores.redis.exists(f"{p}:cart:1:abc") and stores.redis.exists(f"{p}:cart:2:def")
    assert '"e2"' in stores.s3_text("events/day1.json") and '"e1"' not in stores.s3_text(
        "events/day1.json"
    )
    assert stores.s3_text("events/day2.jsonl") == ""
    contacts = stores.s3_text("crm/contacts.csv")
    assert "alice" not in contacts.lower() and "bob@example.com,Bob" in contacts

    assert load_request(engine, request_id).status == "completed"
    steps = {(s.step, s.datastore): s for s in progress.steps_for(engine, request_id)}
    assert steps[("erase", "pg")].counts == {"customers": 1, "marketing_events": 2, "orders": 2}
    assert steps[("verify", "")].counts["problems"] == 0
    assert steps[("plan", "")].detail == {}  # row keys forgotten once closed
    report = audit.verify_chain(engine)
    assert report.ok, report.problems
    trail = " ".join(
        f"{e.step} {e.datastore} {e.counts} {e.actor}"
        for e in audit.entries_for(engine, request_id)
    )
    assert "alice" not in trail.lower() and "5550001111" not in trail
    assert [e.step for e in audit.entries_for(engine, request_id)][:2] == ["begin", "plan"]


def test_a_rerun_of_a_closed_request_does_nothing(stores):
    engine = get_engine()
    request_id = new_request(engine, "erasure")
    _run(engine, request_id)
    entries = len(audit.entries_for(engine, request_id))
    assert fulfil.begin(engine, request_id, ACTOR)["done"] is True
    assert fulfil.close(engine, request_id, ACTOR) == {"records": 12}
    assert len(audit.entries_for(engine, request_id)) == entries


def test_access_bundle_holds_json_and_csv_per_collection_with_checksums(stores):
    import hashlib
    import io
    import json
    import zipfile
    from datetime import UTC, datetime, timedelta

    from tasks.privacy.package import open_sealed, verify_local_link
    from tests.privacy.conftest import HASH_KEY

    engine = get_engine()
    request_id = new_request(engine, "access", identities={"phone": ALICE["phone"]})
    _run(engine, request_id)
    link = progress.get_step(engine, request_id, "package").detail["link"]
    path = verify_local_link(link, HASH_KEY.encode())
    with zipfile.ZipFile(io.BytesIO(open_sealed(HASH_KEY.encode(), path.read_bytes()))) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
        customers = json.loads(zf.read("customers.json"))
        events_csv = zf.read("events.csv").decode()
    assert {"customers.json", "customers.csv", "tickets.json", "contacts.csv"} <= names
    assert [c["email"] for c in customers] == [ALICE["email"]]
    assert events_csv.splitlines()[0] == "event_id,customer_id,page" and "e2" not in events_csv
    # nothing was changed by an access request, and the link expires / cannot be forged
    assert stores.pg_rows("customers")[0]["email"] == ALICE["email"]
    with pytest.raises(PermanentError, match="expired"):
        verify_local_link(link, HASH_KEY.encode(), now=datetime.now(UTC) + timedelta(days=4))
    with pytest.raises(PermanentError, match="signature"):
        verify_local_link(link.replace("expires=", "expires=9"), HASH_KEY.encode())


def test_correction_sets_new_values_and_verifies_them(stores):
    engine = get_engine()
    request_id = new_request(engine, "correction", corrections={"customers.name": "Alicia"})
    _run(engine, request_id)
    assert [c["name"] for c in stores.pg_rows("customers")] == ["Alicia", "Bob"]
    assert progress.get_step(engine, request_id, "verify").counts == {"checked": 1, "problems": 0}


def test_correction_of_an_unknown_field_is_refused_naming_the_field_only(stores):
    engine = get_engine()
    request_id = new_request(engine, "correction", corrections={"customers.salary": "1"})
    with pytest.raises(PermanentError, match=r"customers\.salary") as info:
        fulfil.begin(engine, request_id, ACTOR)
    assert "1" not in str(info.value).replace("customers.salary", "")


def test_opt_out_sets_the_flag_and_the_redis_set(stores):
    engine = get_engine()
    request_id = new_request(engine, "opt-out")
    _run(engine, request_id)
    assert [c["marketing_opt_out"] for c in stores.pg_rows("customers")] == [True, False]
    assert stores.redis.smembers(f"{stores.prefix}:optout") == {"1"}
    assert stores.pg_rows("customers")[0]["email"] == ALICE["email"]


def test_a_failure_part_way_resumes_without_erasing_twice(stores, monkeypatch):
    from tasks.privacy.datastores.redis_store import RedisDatastore
    from tasks.privacy.datastores.s3 import S3Datastore
    from tasks.privacy.datastores.sql import SqlDatastore

    engine = get_engine()
    request_id = new_request(engine, "erasure")
    calls: list[str] = []
    broken = {"pg"}

    def spy(cls):
        real = cls.erase

        def erase(self, col, keys, key):
            if self.name in broken:
                raise ServiceUnavailableError(f"datastore {self.name!r} is unavailable (injected)")
            calls.append(self.name)
            return real(self, col, keys, key)

        monkeypatch.setattr(cls, "erase", erase)

    for cls in (SqlDatastore, RedisDatastore, S3Datastore):
        spy(cls)
    with pytest.raises(ServiceUnavailableError) as info:
        _run(engine, request_id)
    assert fulfil.hold(engine, request_id, info.value, ACTOR) == "waiting"
    assert load_request(engine, request_id).status == "waiting"
    assert progress.get_step(engine, request_id, "erase", "pg").status == "failed"
    assert sorted(set(calls)) == ["cache", "lake", "maria"]
    first = len(calls)

    broken.clear()
    _run(engine, request_id)
    assert set(calls[first:]) == {"pg"}  # cache, lake and maria were not erased again
    assert stores.redis.hgetall(f"{stores.prefix}:session:1") == {"email": _hmac(ALICE["email"])}
    assert stores.pg_rows("customers")[0]["email"] == _hmac(ALICE["email"])
    assert load_request(engine, request_id).status == "completed"
    erase_entries = [
        e.datastore for e in audit.entries_for(engine, request_id) if e.step == "erase"
    ]
    assert sorted(erase_entries) == ["cache", "lake", "maria", "pg"]


def test_a_datastore_that_is_down_makes_the_request_wait_not_succeed(stores, monkeypatch):
    from tasks.local_server import free_port

    engine = get_engine()
    request_id = new_request(engine, "erasure")
    monkeypatch.setenv("DSR_TEST_REDIS_URL", f"redis://127.0.0.1:{free_port('127.0.0.1')}/0")
    with pytest.raises(ServiceUnavailableError, match="'cache' is unavailable") as info:
        _run(engine, request_id)
    assert "alice" not in str(info.value)
    fulfil.hold(engine, request_id, info.value, ACTOR)
    request = load_request(engine, request_id)
    assert request.status == "waiting"
    assert progress.get_step(engine, request_id, "close") is None
    assert [e.step for e in audit.entries_for(engine, request_id)][-1] == "waiting"


def test_access_bundle_on_s3_is_shared_as_a_presigned_link(stores, monkeypatch, tmp_path):
    import io
    import json
    import zipfile

    import httpx

    datamap = tmp_path / "datamap.yaml"
    access = f"access: {{destination: 's3://{stores.bucket}/bundles', datastore: lake}}\n"
    datamap.write_text(stores.datamap.read_text() + access, encoding="utf-8")
    monkeypatch.setenv("TRACEO_DSR_DATAMAP", str(datamap))
    engine = get_engine()
    request_id = new_request(engine, "access")
    _run(engine, request_id)
    link = progress.get_step(engine, request_id, "package").detail["link"]
    assert link.startswith(os.environ["DSR_TEST_S3_ENDPOINT"]) and "Expires=" in link
    answer = httpx.get(link, timeout=10)
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["request_id"] == request_id and len(manifest["files"]) == 16
    listed = stores.s3.list_objects_v2(Bucket=stores.bucket, Prefix=f"bundles/{request_id}/")
    assert {"bundle.zip", "manifest.json", "customers.json"} <= {
        o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]
    }


def test_retention_rewrites_s3_objects_without_expired_records(stores):
    import json
    from datetime import UTC, datetime, timedelta

    from tasks.privacy.datamap import Collection

    store = open_datastore(resolve_datamap(), "lake")
    now = datetime.now(UTC)
    records = [
        {"event_id": "old-eu", "region": "EU", "at": (now - timedelta(days=40)).isoformat()},
        {"event_id": "new-eu", "region": "EU", "at": (now - timedelta(days=5)).isoformat()},
        {"event_id": "old-us", "region": "US", "at": (now - timedelta(days=40)).isoformat()},
    ]
    body = json.dumps(records).encode()
    stores.s3.put_object(Bucket=stores.bucket, Key="clicks/day.json", Body=body)
    col = Collection(
        datastore="lake",
        prefix="clicks/",
        primary_key=["event_id"],
        region_field="region",
        timestamp_field="at",
        identities={"customer_id": "customer_id"},
    )
    assert store.purge_older(col, now - timedelta(days=30), "EU", False) == 1
    kept = [r["event_id"] for r in json.loads(stores.s3_text("clicks/day.json"))]
    assert kept == ["new-eu", "old-us"]
