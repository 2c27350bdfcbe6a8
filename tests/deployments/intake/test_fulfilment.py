"""Fulfilment starts never hold up request handling; a full queue is a 503, stored exactly once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from deployments.intake.app import RETRY_AFTER_S
from deployments.intake.fulfilment import DEFAULT_WORKERS
from deployments.intake.starter import start_pending
from tasks.store import get_engine, session_scope
from tasks.store.privacy_models import DsrRequest
from tests.deployments.intake.conftest import FakeStarter, dsr_payload, running_intake

# Only keeps a broken build from hanging the test run; no assertion depends on how long it takes.
HANG_GUARD_S = 20


@dataclass
class StalledStarter(FakeStarter):
    """A Prefect API that does not answer: each start waits until ``release`` is set."""

    entered: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    release: threading.Event = field(default_factory=threading.Event)

    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str:
        self.entered.release()
        self.release.wait(HANG_GUARD_S)
        return super().start(deployment, parameters, idempotency_key)


def _stored(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(DsrRequest))


def test_a_stalled_prefect_api_does_not_hold_up_answers_and_a_full_queue_is_503(tmp_path):
    starter = StalledStarter()
    engine = get_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    with running_intake(engine, starter, queue_capacity=1) as intake:
        intake.wait_for_starts = False
        for n in range(DEFAULT_WORKERS):
            answer = intake.dsr("jira", dsr_payload("jira", f"PRIV-{n}"))
            # Answered while its start is still stalled: the start runs off the request path.
            assert answer.status_code == 202 and starter.calls == []
            # A worker took it off the one-place queue and is now stuck in its start (waiting
            # here, not racing the workers, keeps the queue's one place free for the next).
            assert starter.entered.acquire(timeout=HANG_GUARD_S)
        queued = intake.dsr("jira", dsr_payload("jira", "PRIV-Q"))
        assert queued.status_code == 202  # waits in the queue behind the stalled starts

        refused = intake.dsr("jira", dsr_payload("jira", "PRIV-R"), delivery_id="d-r")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == str(RETRY_AFTER_S)
        total = DEFAULT_WORKERS + 2
        assert _stored(engine) == total  # recorded even so

        # Jira retries with the same delivery id: a duplicate, not a replay, not a new request.
        retry = intake.dsr("jira", dsr_payload("jira", "PRIV-R"), delivery_id="d-r")
        assert retry.status_code == 200 and retry.json() == {"duplicate": True}
        assert _stored(engine) == total

        starter.release.set()
        intake.client.app.state.fulfilment.join()
    assert len(starter.calls) == total - 1  # PRIV-R is left to the sweep
    assert start_pending(engine, starter) == (1, 0)
    started = [parameters["request_id"] for _, parameters, _ in starter.calls]
    assert len(set(started)) == total


def test_a_start_that_fails_to_be_recorded_does_not_kill_the_worker(intake, monkeypatch):
    calls = []

    def store_down(engine: Any, runs: dict[str, str]) -> None:
        calls.extend(runs)
        raise ConnectionError("store down")

    monkeypatch.setattr("deployments.intake.starter.record_flow_runs", store_down)
    assert intake.dsr("generic", dsr_payload("generic", "T-1")).status_code == 202
    assert intake.dsr("generic", dsr_payload("generic", "T-2")).status_code == 202
    assert len(calls) == 2 and len(intake.starter.calls) == 2
