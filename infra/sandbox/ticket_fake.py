"""A local fake of the Jira, ServiceNow and Zendesk REST endpoints that ticket updates use.

Records every call (:attr:`TicketFake.calls`) and keeps each ticket's comments and status, so tests
and the demo can assert what a ticket would show. Every call needs HTTP basic auth (401 without);
``fail_with`` makes every call answer that status (e.g. 503) to exercise error handling.

- Jira: ``POST /rest/api/2/issue/{key}/comment``, ``GET|POST /rest/api/2/issue/{key}/transitions``
- ServiceNow: ``PATCH /api/now/table/{table}/{sys_id}`` (``work_notes``, ``state``)
- Zendesk: ``PUT /api/v2/tickets/{id}.json`` (``ticket.comment``, ``ticket.status``)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tasks.local_server import ThreadedApp

__all__ = ["JIRA_TRANSITIONS", "TicketCall", "TicketFake", "TicketState"]

JIRA_TRANSITIONS: list[dict[str, Any]] = [
    {"id": "11", "name": "Start", "to": {"name": "In Progress"}},
    {"id": "21", "name": "Done", "to": {"name": "Done"}},
    {"id": "31", "name": "Block", "to": {"name": "Blocked"}},
    {"id": "41", "name": "Won't Do", "to": {"name": "Won't Do"}},
]


@dataclass(frozen=True)
class TicketCall:
    """One request the fake received."""

    system: str
    method: str
    ticket_id: str
    body: dict[str, Any] | None


@dataclass
class TicketState:
    """What a ticket shows: its comments (or work notes) and its current status."""

    comments: list[str] = field(default_factory=list)
    status: str | None = None


class TicketFake(ThreadedApp):
    """Serve the fake on a free loopback port; use as a context manager."""

    def __init__(self) -> None:
        self.calls: list[TicketCall] = []
        self.tickets: dict[tuple[str, str], TicketState] = defaultdict(TicketState)
        self.fail_with: int | None = None
        super().__init__(self._build(), "ticket-fake")

    def ticket(self, system: str, ticket_id: str) -> TicketState:
        return self.tickets[(system, ticket_id)]

    def _record(self, request: Request, system: str, ticket_id: str, body: Any) -> Any:
        """None when the call may proceed, else the error response to send."""
        self.calls.append(TicketCall(system, request.method, ticket_id, body))
        if not request.headers.get("authorization", "").startswith("Basic "):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if self.fail_with:
            return JSONResponse({"error": "injected failure"}, status_code=self.fail_with)
        return None

    def _build(self) -> FastAPI:
        app = FastAPI()
        fake = self

        @app.post("/rest/api/2/issue/{key}/comment")
        async def jira_comment(key: str, request: Request) -> Any:
            body = await request.json()
            if (error := fake._record(request, "jira", key, body)) is not None:
                return error
            fake.ticket("jira", key).comments.append(body["body"])
            return JSONResponse({"id": str(len(fake.calls))}, status_code=201)

        @app.get("/rest/api/2/issue/{key}/transitions")
        async def jira_transitions(key: str, request: Request) -> Any:
            if (error := fake._record(request, "jira", key, None)) is not None:
                return error
            return {"transitions": JIRA_TRANSITIONS}

        @app.post("/rest/api/2/issue/{key}/transitions")
        async def jira_transition(key: str, request: Request) -> Any:
            body = await request.json()
            if (error := fake._record(request, "jira", key, body)) is not None:
                return error
            wanted = body.get("transition", {}).get("id")
            match = [t for t in JIRA_TRANSITIONS if t["id"] == wanted]
            if not match:
                return JSONResponse({"errorMessages": ["no such transition"]}, status_code=400)
            fake.ticket("jira", key).status = match[0]["to"]["name"]
            return Response(status_code=204)

        @app.patch("/api/now/table/{table}/{sys_id}")
        async def servicenow_patch(table: str, sys_id: str, request: Request) -> Any:
            body = await request.json()
            if (error := fake._record(request, "servicenow", sys_id, body)) is not None:
                return error
            state = fake.ticket("servicenow", sys_id)
            if "work_notes" in body:
                state.comments.append(body["work_notes"])
            if "state" in body:
                state.status = body["state"]
            return {"result": {"sys_id": sys_id, "table": table}}

        @app.put("/api/v2/tickets/{ticket_id}.json")
        async def zendesk_put(ticket_id: str, request: Request) -> Any:
            body = await request.json()
            if (error := fake._record(request, "zendesk", ticket_id, body)) is not None:
                return error
            ticket, state = body.get("ticket", {}), fake.ticket("zendesk", ticket_id)
            if "comment" in ticket:
                state.comments.append(ticket["comment"]["body"])
            if "status" in ticket:
                state.status = ticket["status"]
            return {"ticket": {"id": ticket_id, "status": state.status}}

        return app
