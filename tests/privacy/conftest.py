"""Fixtures for fulfilment tests: a data map over real PostgreSQL, MariaDB, Redis and moto S3.

Every table, key and bucket is ``dsr_``-prefixed with a per-session suffix and removed afterwards.
Two customers: Alice (the subject, EU) and Bob (who must stay untouched, US).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.services import POSTGRES_URL, require_service

MARIA_URL = os.environ.get("TRACEO_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("TRACEO_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
HASH_KEY = "dsr-test-hash-key-0123456789"
ALICE = {"email": "alice@example.com", "phone": "+15550001111", "customer_id": "1"}

DATAMAP = """
hash_key: {{env: TRACEO_DSR_HASH_KEY}}
datastores:
  pg: {{kind: postgresql, connection: {{env: DSR_TEST_PG_URL}}}}
  maria: {{kind: mysql, connection: {{env: DSR_TEST_MARIA_URL}}}}
  cache: {{kind: redis, connection: {{env: DSR_TEST_REDIS_URL}}}}
  lake: {{kind: s3, connection: {{env: DSR_TEST_S3_ENDPOINT}}, bucket: {bucket}}}
collections:
  customers:
    datastore: pg
    table: {p}customers
    primary_key: [id]
    identities: {{email: email, phone: phone, customer_id: id}}
    opt_out_field: marketing_opt_out
    fields:
      email: {{categories: [contact], erase: hmac}}
      phone: {{categories: [contact], erase: nullify}}
      name: {{categories: [name], erase: {{fixed: "[erased]"}}}}
  orders:
    datastore: pg
    table: {p}orders
    primary_key: [id]
    references: [{{field: customer_id, collection: customers, to: id}}]
    fields:
      shipping_address: {{categories: [address], erase: nullify}}
  marketing_events:
    datastore: pg
    table: {p}marketing_events
    primary_key: [id]
    references: [{{field: customer_id, collection: customers, to: id}}]
    erase: delete
    region_field: region
    timestamp_field: sent_at
    fields:
      campaign: {{categories: [marketing]}}
  tickets:
    datastore: maria
    table: {p}tickets
    primary_key: [id]
    identities: {{email: email}}
    references: [{{field: customer_id, collection: customers, to: id}}]
    erase: delete
    fields:
      body: {{categories: [support]}}
  sessions:
    datastore: cache
    key: "{p}:session:{{customer_id}}"
    identities: {{customer_id: customer_id}}
    fields:
      email: {{categories: [contact], erase: hmac}}
      ip: {{categories: [network], erase: nullify}}
  carts:
    datastore: cache
    key: "{p}:cart:{{customer_id}}:{{cart_id}}"
    type: string
    references: [{{field: customer_id, collection: customers, to: id}}]
    erase: delete
  events:
    datastore: lake
    prefix: events/
    primary_key: [event_id]
    references: [{{field: customer_id, collection: customers, to: id}}]
    erase: delete
    fields:
      page: {{categories: [behaviour]}}
  contacts:
    datastore: lake
    prefix: crm/
    format: csv
    primary_key: [row_id]
    identities: {{email: email}}
    fields:
      email: {{categories: [contact], erase: hmac}}
      name: {{categories: [name], erase: {{fixed: "[erased]"}}}}
retention:
  - {{region: EU, category: marketing, days: 30}}
  - {{region: US, category: marketing, days: 90}}
opt_out:
  - {{datastore: cache, set: "{p}:optout", member: customer_id}}
"""


@dataclass
class Stores:
    prefix: str
    bucket: str
    pg: Any
    maria: Any
    redis: Any
    s3: Any
    datamap: Path

    def pg_rows(self, table: str, where: str = "1=1") -> list[dict[str, Any]]:
        with self.pg.connect() as conn:
            query = f"SELECT * FROM {self.prefix}{table} WHERE {where} ORDER BY id"
            return [dict(r._mapping) for r in conn.execute(text(query))]

    def maria_rows(self, where: str = "1=1") -> list[dict[str, Any]]:
        with self.maria.connect() as conn:
            query = f"SELECT * FROM {self.prefix}tickets WHERE {where} ORDER BY id"
            return [dict(r._mapping) for r in conn.execute(text(query))]

    def s3_text(self, key: str) -> str:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()


@pytest.fixture(scope="session")
def dsr_services(tmp_path_factory) -> Iterator[Stores]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("MariaDB", "127.0.0.1", 3306)
    require_service("Redis", "127.0.0.1", 6379)
    import redis

    from infra.sandbox.moto_server import MotoServer

    suffix = uuid.uuid4().hex[:6]
    prefix, bucket = f"dsr_t{suffix}_", f"dsr-t{suffix}"
    path = tmp_path_factory.mktemp("dsr") / "datamap.yaml"
    path.write_text(DATAMAP.format(p=prefix, bucket=bucket), encoding="utf-8")
    with MotoServer() as aws:
        stores = Stores(
            prefix=prefix,
            bucket=bucket,
            pg=create_engine(POSTGRES_URL),
            maria=create_engine(MARIA_URL),
            redis=redis.Redis.from_url(REDIS_URL, decode_responses=True),
            s3=aws.client("s3"),
            datamap=path,
        )
        env = {
            "DSR_TEST_PG_URL": POSTGRES_URL,
            "DSR_TEST_MARIA_URL": MARIA_URL,
            "DSR_TEST_REDIS_URL": REDIS_URL,
            "DSR_TEST_S3_ENDPOINT": aws.url,
            **aws.environment(),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        stores.s3.create_bucket(Bucket=bucket)
        try:
            yield stores
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            stores.pg.dispose()
            stores.maria.dispose()


def _drop(stores: Stores) -> None:
    with stores.pg.begin() as conn:
        for table in ("orders", "marketing_events", "customers"):
            conn.execute(text(f"DROP TABLE IF EXISTS {stores.prefix}{table}"))
    with stores.maria.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {stores.prefix}tickets"))
    keys = list(stores.redis.scan_iter(match=f"{stores.prefix}:*"))
    if keys:
        stores.redis.delete(*keys)
    listed = stores.s3.list_objects_v2(Bucket=stores.bucket).get("Contents", [])
    for item in listed:
        stores.s3.delete_object(Bucket=stores.bucket, Key=item["Key"])


def _seed(stores: Stores) -> None:
    p, now = stores.prefix, datetime.now(UTC)
    with stores.pg.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {p}customers (id integer PRIMARY KEY, email text, phone text, "
                "name text, region text, marketing_opt_out boolean DEFAULT false)"
            )
        )
        conn.execute(text(f"CREATE INDEX ON {p}customers (email)"))
        conn.execute(
            text(
                f"INSERT INTO {p}customers VALUES "
                "(1, 'alice@example.com', '+15550001111', 'Alice', 'EU', false), "
                "(2, 'bob@example.com', '+15550002222', 'Bob', 'US', false)"
            )
        )
        conn.execute(
            text(
                f"CREATE TABLE {p}orders (id integer PRIMARY KEY, customer_id integer, "
                "shipping_address text, total numeric)"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO {p}orders VALUES (10, 1, '1 Rue A', 20), (11, 1, '1 Rue A', 5), "
                "(12, 2, '2 Main St', 7)"
            )
        )
        conn.execute(
            text(
                f"CREATE TABLE {p}marketing_events (id integer PRIMARY KEY, customer_id integer, "
                "campaign text, region text, sent_at timestamptz)"
            )
        )
        for i, (cust, region, days) in enumerate(
            [(1, "EU", 40), (1, "EU", 10), (2, "US", 40), (2, "US", 100)], start=1
        ):
            conn.execute(
                text(f"INSERT INTO {p}marketing_events VALUES (:i, :c, 'promo', :r, :t)"),
                {"i": i, "c": cust, "r": region, "t": now - timedelta(days=days)},
            )
    with stores.maria.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {p}tickets (id int PRIMARY KEY, email varchar(200), "
                "customer_id int NULL, body text, INDEX (email), INDEX (customer_id))"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO {p}tickets VALUES (100, 'alice@example.com', 1, 'help'), "
                "(101, 'alice@example.com', NULL, 'again'), (102, 'bob@example.com', 2, 'hi')"
            )
        )
    r = stores.redis
    r.hset(f"{p}:session:1", mapping={"email": "alice@example.com", "ip": "10.0.0.1"})
    r.hset(f"{p}:session:2", mapping={"email": "bob@example.com", "ip": "10.0.0.2"})
    r.set(f"{p}:cart:1:abc", "3 items")
    r.set(f"{p}:cart:2:def", "1 item")
    events = [
        {"event_id": "e1", "customer_id": 1, "page": "/a"},
        {"event_id": "e2", "customer_id": 2, "page": "/b"},
    ]
    s3, bucket = stores.s3, stores.bucket
    s3.put_object(Bucket=bucket, Key="events/day1.json", Body=json.dumps(events).encode())
    lines = json.dumps({"event_id": "e3", "customer_id": 1, "page": "/c"}) + "\n"
    s3.put_object(Bucket=bucket, Key="events/day2.jsonl", Body=lines.encode())
    csv_body = "row_id,email,name\nr1,alice@example.com,Alice\nr2,bob@example.com,Bob\n"
    s3.put_object(Bucket=bucket, Key="crm/contacts.csv", Body=csv_body.encode())


@pytest.fixture
def stores(dsr_services, monkeypatch, traceo_home) -> Iterator[Stores]:
    """Freshly seeded datastores and the data map configured for the flow's steps."""
    monkeypatch.setenv("TRACEO_DSR_DATAMAP", str(dsr_services.datamap))
    monkeypatch.setenv("TRACEO_DSR_HASH_KEY", HASH_KEY)
    _drop(dsr_services)
    _seed(dsr_services)
    yield dsr_services
    _drop(dsr_services)


def new_request(
    engine: Any,
    request_type: str,
    corrections: dict[str, Any] | None = None,
    identities: dict[str, str] | None = None,
    ticket: str | None = None,
) -> str:
    """Store a request from the CLI source; its public id."""
    from tasks.privacy.requests import create_request, parse_new_request

    data = {
        "source": "cli",
        "ticket_id": ticket or uuid.uuid4().hex,
        "request_type": request_type,
        "jurisdiction": "GDPR",
        "identities": identities or {"email": ALICE["email"]},
        "corrections": corrections,
    }
    return create_request(engine, parse_new_request(data)).public_id
