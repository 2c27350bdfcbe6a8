"""The intake app wired to the store (SQLite and PostgreSQL), a fake starter and known secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deployments.intake.allowlist import load_allowlist
from deployments.intake.app import create_app
from deployments.intake.signing import sign_request
from tasks.errors import TraceoError
from tasks.store import get_engine

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
SECRETS = {
    "jira": "jira-secret",
    "servicenow": "servicenow-secret",
    "zendesk": "zendesk-secret",
    "generic": "generic-secret",
}
EMAIL = "Jane.Doe@Example.com"
PHONE = "+44 20 7946 0958"


@dataclass
class FakeStarter:
    """Records every start; ``fail`` makes the next starts raise it (Prefect down)."""

    calls: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    fail: TraceoError | None = None

    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str:
        if self.fail is not None:
            raise self.fail
        self.calls.append((deployment, parameters, idempotency_key))
        return f"00000000-0000-4000-8000-{len(self.calls):012d}"


def dsr_payload(source: str, ticket: str = "T-1", **fields: Any) -> dict[str, Any]:
    """A webhook body in ``source``'s shape; ``fields`` use our names (request_type, email...)."""
    values = {"request_type": "erasure", "jurisdiction": "GDPR", "email": EMAIL, "phone": PHONE}
    values.update(fields)
    values = {k: v for k, v in values.items() if v is not None}
    if source == "jira":
        names = {"request_type": "dsr_type", "jurisdiction": "dsr_jurisdiction"}
        issue_fields = {names.get(k, f"dsr_{k}"): v for k, v in values.items()}
        issue_fields["summary"] = "Data-subject request"
        if "dsr_type" in issue_fields:
            issue_fields["dsr_type"] = {"value": issue_fields["dsr_type"], "id": "10100"}
        return {
            "webhookEvent": "jira:issue_created",
            "issue": {"id": "10001", "key": ticket, "fields": issue_fields},
        }
    if source == "servicenow":
        return {"sys_id": ticket, "number": "RITM0010001", "variables": values}
    if source == "zendesk":
        return {"ticket": {"id": ticket, **values}}
    identities = {k: values.pop(k) for k in ("email", "phone", "customer_id") if k in values}
    return {"ticket_id": ticket, "identities": identities, **values}


@dataclass
class Intake:
    client: TestClient
    starter: FakeStarter
    engine: Any
    wait_for_starts: bool = True  # after each post, until the background start is done

    def post(
        self,
        path: str,
        source: str,
        payload: Any,
        *,
        secret: str | None = None,
        at: datetime = NOW,
        delivery_id: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if headers is None:
            headers = sign_request(
                source, body, secret or SECRETS[source], at, delivery_id=delivery_id
            )
        headers = {"Content-Type": "application/json", **headers}
        response = self.client.post(f"{path}/{source}", content=body, headers=headers)
        if self.wait_for_starts:
            self.client.app.state.fulfilment.join()
        return response

    def dsr(self, source: str, payload: Any, **kwargs: Any):
        return self.post("/v1/dsr", source, payload, **kwargs)

    def run(self, source: str, payload: Any, **kwargs: Any):
        return self.post("/v1/runs", source, payload, **kwargs)


@contextmanager
def running_intake(engine: Any, starter: Any = None, **options: Any) -> Iterator[Intake]:
    """The app on ``engine`` (``options``: more ``create_app`` arguments), started and stopped."""
    starter = starter or FakeStarter()
    app = create_app(
        engine, starter, SECRETS, allowlist=load_allowlist(), clock=lambda: NOW, **options
    )
    with TestClient(app) as client:
        yield Intake(client, starter, engine)


@pytest.fixture
def intake(tmp_path) -> Iterator[Intake]:
    """The app on a SQLite store (most behaviour does not depend on the backend)."""
    with running_intake(get_engine(f"sqlite:///{tmp_path / 'intake.db'}")) as app:
        yield app


@pytest.fixture
def intake_any_store(store_engine) -> Iterator[Intake]:
    """The app on SQLite and on PostgreSQL."""
    with running_intake(store_engine) as app:
        yield app
