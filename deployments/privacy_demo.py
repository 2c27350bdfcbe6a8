"""The data-subject request part of ``traceo demo``.

:func:`run_privacy_demo` seeds a SQLite shop database and a local S3 (moto) data lake with three
customers, sends two signed Jira-style webhooks to the intake app (an access request for one
customer, an erasure for another; plus a forged one, refused), fulfils both, and prints the
access bundle, the erasure's verification and the audit trail with its chain check. It runs on
the demo's store and restores the environment it changes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

__all__ = ["DEMO_SECRET", "run_privacy_demo"]

_REPO = Path(__file__).resolve().parents[1]
DEMO_SECRET = "traceo-demo-jira-secret"
_HASH_KEY = "traceo-demo-hash-key-not-for-production"
_CUSTOMERS = [
    (1, "ada@example.com", "+441110000001", "Ada", "London"),
    (2, "grace@example.com", "+15550000002", "Grace", "Arlington"),
    (3, "linus@example.com", "+358400000003", "Linus", "Helsinki"),
]


class _RecordingStarter:
    """Stands in for the Prefect deployment: remembers which requests the intake started."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.event = threading.Event()

    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str:
        self.started.append(parameters["request_id"])
        self.event.set()
        return str(uuid.uuid4())


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _seed(database: Path, s3: Any) -> None:
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, phone TEXT, name TEXT)"
        )
        conn.execute("CREATE INDEX ix_customers_email ON customers (email)")
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, address TEXT, "
            "total REAL)"
        )
        conn.execute("CREATE INDEX ix_orders_customer ON orders (customer_id)")
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", [c[:4] for c in _CUSTOMERS])
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [
                (10 + i, c[0], f"{i} High Street, {c[4]}", 20.0 + i)
                for i, c in enumerate(_CUSTOMERS)
            ],
        )
    s3.create_bucket(Bucket="dsr-demo-lake")
    events = [
        {"event_id": f"e{c[0]}{n}", "customer_id": c[0], "page": f"/p/{n}"}
        for c in _CUSTOMERS
        for n in range(2)
    ]
    s3.put_object(
        Bucket="dsr-demo-lake", Key="clickstream/day1.json", Body=json.dumps(events).encode()
    )


def _send_webhooks(echo: Callable[[str], None], engine: Engine) -> list[str]:
    """Post signed Jira webhooks to the intake app; the ids of the requests it started."""
    import httpx

    from deployments.intake import sign_request
    from deployments.intake.app import create_app
    from tasks.local_server import ThreadedApp

    starter = _RecordingStarter()
    app = create_app(engine, starter, {"jira": DEMO_SECRET})
    tickets = [("PRIV-1", "access", _CUSTOMERS[0][1]), ("PRIV-2", "erasure", _CUSTOMERS[1][1])]
    with ThreadedApp(app, "dsr-demo-intake") as intake, httpx.Client(timeout=10) as http:
        url = f"{intake.url}/v1/dsr/jira"
        for key, kind, email in tickets:
            fields = {"dsr_type": kind, "dsr_jurisdiction": "GDPR", "dsr_email": email}
            body = json.dumps({"issue": {"key": key, "fields": fields}}).encode()
            headers = {
                "Content-Type": "application/json",
                **sign_request("jira", body, DEMO_SECRET),
            }
            answer = http.post(url, content=body, headers=headers)
            request_id = answer.json().get("request_id")
            echo(f"  {key} {kind:<8} -> {answer.status_code} request {request_id}")
        forged = sign_request("jira", b"{}", "wrong-secret")
        refused = http.post(
            url, content=body, headers={"Content-Type": "application/json", **forged}
        )
        echo(f"  forged signature  -> {refused.status_code} (nothing stored)")
        for _ in range(100):
            if len(starter.started) == len(tickets):
                break
            starter.event.wait(0.05)
    return starter.started


def run_privacy_demo(
    echo: Callable[[str], None],
    engine: Engine,
    home: Path,
    fulfil: Callable[[str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run the demo; ``fulfil(request_id)`` defaults to the ``fulfil_request`` flow."""
    from infra.sandbox.moto_server import MotoServer
    from infra.sandbox.ticket_fake import TicketFake
    from tasks.privacy import audit, progress

    work = home / "privacy"
    work.mkdir(parents=True, exist_ok=True)
    with MotoServer() as aws, TicketFake() as jira:
        env = {
            **aws.environment(),
            "TRACEO_JIRA_URL": jira.url,
            "TRACEO_JIRA_USER": "traceo-demo",
            "TRACEO_JIRA_TOKEN": "demo-token",
            "TRACEO_DSR_DATAMAP": str(_REPO / "deployments" / "datamaps" / "demo.yaml"),
            "TRACEO_DSR_HASH_KEY": _HASH_KEY,
            "TRACEO_DSR_BUNDLE_DIR": str(work / "bundles"),
            "TRACEO_DEMO_SHOP_URL": f"sqlite:///{work / 'shop.db'}",
            "TRACEO_DEMO_S3_ENDPOINT": aws.url,
        }
        with _environment(env):
            _seed(work / "shop.db", aws.client("s3"))
            where = f"SQLite + S3 (moto {aws.url})"
            echo(f"Data-subject requests: {len(_CUSTOMERS)} customers in {where}.")
            echo("Signed Jira webhooks to the intake:")
            request_ids = _send_webhooks(echo, engine)
            if fulfil is None:
                from flows.privacy import fulfil_request

                fulfil = fulfil_request.with_options(retries=0)
            outcomes = {rid: fulfil(rid) for rid in request_ids}
        echo("Jira tickets (local fake):")
        for key in ("PRIV-1", "PRIV-2"):
            ticket = jira.ticket("jira", key)
            last = ticket.comments[-1] if ticket.comments else "(no comment)"
            echo(f"  {key} [{ticket.status}] {last[:110]}")
    echo("Fulfilment:")
    for rid, outcome in outcomes.items():
        steps = {(s.step, s.datastore): s for s in progress.steps_for(engine, rid)}
        echo(f"  {rid}: {outcome['status']}, {outcome.get('records', 0)} records")
        if ("package", "") in steps:
            bundle = steps[("package", "")].counts
            echo(
                f"    access bundle: {bundle['files']} files, manifest sha256 "
                f"{bundle['manifest_sha256'][:16]}..., link expires {bundle['expires_at']}"
            )
        if ("verify", "") in steps:
            checked = steps[("verify", "")].counts
            echo(
                f"    verification: {checked['checked']} rows queried again, "
                f"{checked['problems']} not erased"
            )
    echo("Audit trail:")
    for entry in audit.entries_for(engine):
        if entry.request_id in outcomes:
            where = f"@{entry.datastore}" if entry.datastore else ""
            counts = ", ".join(f"{k}={v}" for k, v in sorted(entry.counts.items()))
            step = entry.step + where
            echo(f"  {entry.seq:>3} {entry.request_id[:8]} {step:<14} {counts}  {entry.hash[:12]}")
    report = audit.verify_chain(engine)
    state = "intact" if report.ok else "TAMPERED"
    echo(f"Audit chain: {state} ({report.entries} entries, head {report.head[:16]})")
    return {"requests": outcomes, "chain_ok": report.ok}
