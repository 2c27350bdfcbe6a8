"""Reporting a request's progress and outcome back to its ticket (a comment and a status).

One :class:`TicketClient` per ticketing system, all over httpx:

- Jira: ``POST /rest/api/2/issue/{key}/comment`` (v2 takes plain text; v3 wants ADF) and a
  transition chosen by name from ``GET /rest/api/2/issue/{key}/transitions``.
- ServiceNow: ``PATCH /api/now/table/{table}/{sys_id}`` with ``work_notes`` or ``state``.
- Zendesk: ``PUT /api/v2/tickets/{id}.json`` with a private ``comment`` or a ``status``.

Our statuses (``in_progress``, ``waiting``, ``completed``, ...) map to each system's own names;
the maps are attributes, override them per instance. Texts must carry no personal data: a
comment that looks like it contains an e-mail address is refused before anything is sent.
Configuration comes from the settings (``TRACEO_JIRA_URL`` ..., :mod:`tasks.settings.areas`),
secrets from there or a Prefect ``Secret`` block (:func:`resolve_secret`), read when a client is
built, not at import.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from tasks.errors import (
    ConfigurationError,
    NotFoundError,
    PermanentError,
    ServiceUnavailableError,
    ThrottledError,
)
from tasks.settings import load
from tasks.settings.areas import JiraSettings, ServiceNowSettings, ZendeskSettings
from tasks.settings.loading import env_name

__all__ = [
    "JiraClient",
    "NullTicketClient",
    "ServiceNowClient",
    "TicketClient",
    "ZendeskClient",
    "resolve_secret",
    "ticket_client_for",
]

_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@runtime_checkable
class TicketClient(Protocol):
    """Posts progress to one ticketing system."""

    def comment(self, ticket_id: str, text: str) -> None: ...

    def set_status(self, ticket_id: str, status: str) -> None: ...


def resolve_secret(setting: SecretStr | None, block_name: str | None = None) -> str | None:
    """A secret from its setting, else from the Prefect ``Secret`` block ``block_name``.

    Blocks are only consulted when a Prefect API is configured (``PREFECT_API_URL``): without
    one, Prefect would start a throwaway server just to find nothing.
    """
    if setting is not None and setting.get_secret_value():
        return setting.get_secret_value()
    if block_name is None:
        return None
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return None
    try:
        block: Any = Secret.load(block_name)
        return str(block.get())
    except ValueError:  # Prefect raises ValueError for a block that does not exist
        return None
    except httpx.HTTPError as exc:
        raise ServiceUnavailableError(
            f"Prefect API unreachable loading block {block_name}: {exc.__class__.__name__}"
        ) from None


def _check(response: httpx.Response, system: str, ticket_id: str) -> None:
    status = response.status_code
    if status < 400:
        return
    where = f"{system} ticket {ticket_id}"
    if status == 429:
        raise ThrottledError(f"{where}: throttled (429)")
    if status >= 500:
        raise ServiceUnavailableError(f"{where}: {system} answered {status}")
    if status in (401, 403):
        raise ConfigurationError(f"{where}: {system} refused the credentials ({status})")
    if status == 404:
        raise NotFoundError(f"{where}: not found")
    raise PermanentError(f"{where}: {system} answered {status}")


def _clean(text: str) -> str:
    if _EMAIL_LIKE.search(text):
        raise PermanentError("ticket text looks like it contains an e-mail address; not sent")
    return text


class _HttpTicketClient:
    system = "ticketing"

    def __init__(self, base_url: str, auth: tuple[str, str], timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), auth=auth, timeout=timeout)

    def _send(self, method: str, path: str, ticket_id: str, json: object = None) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(
                f"{self.system} ticket {ticket_id}: {exc.__class__.__name__}"
            ) from None
        _check(response, self.system, ticket_id)
        return response

    def close(self) -> None:
        self._http.close()


class JiraClient(_HttpTicketClient):
    """Jira Cloud / Data Center through REST v2, basic auth with a user and an API token."""

    system = "jira"
    transitions: dict[str, str] = {
        "in_progress": "In Progress",
        "waiting": "In Progress",
        "completed": "Done",
        "failed": "Blocked",
        "rejected": "Won't Do",
    }

    def comment(self, ticket_id: str, text: str) -> None:
        self._send(
            "POST", f"/rest/api/2/issue/{ticket_id}/comment", ticket_id, {"body": _clean(text)}
        )

    def set_status(self, ticket_id: str, status: str) -> None:
        wanted = self.transitions.get(status)
        if wanted is None:
            return
        path = f"/rest/api/2/issue/{ticket_id}/transitions"
        available = self._send("GET", path, ticket_id).json().get("transitions", [])
        for transition in available:
            names = {transition.get("name"), (transition.get("to") or {}).get("name")}
            if wanted in names:
                self._send("POST", path, ticket_id, {"transition": {"id": transition["id"]}})
                return
        raise ConfigurationError(f"jira ticket {ticket_id}: no transition to {wanted!r} available")


class ServiceNowClient(_HttpTicketClient):
    """ServiceNow Table API; ``ticket_id`` is the record's ``sys_id`` in ``table``."""

    system = "servicenow"
    states: dict[str, str] = {
        "in_progress": "2",
        "waiting": "3",
        "completed": "6",
        "failed": "3",
        "rejected": "7",
    }

    def __init__(
        self, base_url: str, auth: tuple[str, str], table: str = "incident", timeout: float = 10.0
    ) -> None:
        super().__init__(base_url, auth, timeout)
        self.table = table

    def _patch(self, ticket_id: str, fields: dict[str, str]) -> None:
        self._send("PATCH", f"/api/now/table/{self.table}/{ticket_id}", ticket_id, fields)

    def comment(self, ticket_id: str, text: str) -> None:
        self._patch(ticket_id, {"work_notes": _clean(text)})

    def set_status(self, ticket_id: str, status: str) -> None:
        state = self.states.get(status)
        if state is not None:
            self._patch(ticket_id, {"state": state})


class ZendeskClient(_HttpTicketClient):
    """Zendesk Support API, API-token auth (``{email}/token`` as the user)."""

    system = "zendesk"
    statuses: dict[str, str] = {
        "in_progress": "open",
        "waiting": "hold",
        "completed": "solved",
        "failed": "hold",
        "rejected": "solved",
    }

    def _put(self, ticket_id: str, ticket: dict[str, object]) -> None:
        self._send("PUT", f"/api/v2/tickets/{ticket_id}.json", ticket_id, {"ticket": ticket})

    def comment(self, ticket_id: str, text: str) -> None:
        self._put(ticket_id, {"comment": {"body": _clean(text), "public": False}})

    def set_status(self, ticket_id: str, status: str) -> None:
        value = self.statuses.get(status)
        if value is not None:
            self._put(ticket_id, {"status": value})


class NullTicketClient:
    """For requests without a ticketing system (``generic`` webhooks, ``cli``): does nothing."""

    def comment(self, ticket_id: str, text: str) -> None:
        _clean(text)

    def set_status(self, ticket_id: str, status: str) -> None:
        return None


def _required(settings: BaseSettings, field: str, source: str) -> str:
    value = getattr(settings, field)
    if not value:
        raise ConfigurationError(f"{source} tickets: set {env_name(type(settings), field)}")
    return str(value)


def ticket_client_for(source: str) -> TicketClient:
    """The client for a request's ``source``, configured from the environment / Prefect blocks.

    jira: ``TRACEO_JIRA_URL``, ``TRACEO_JIRA_USER``, token ``TRACEO_JIRA_TOKEN`` or block
    ``traceo-jira-token``; servicenow: ``TRACEO_SERVICENOW_URL``, ``TRACEO_SERVICENOW_USER``,
    ``TRACEO_SERVICENOW_PASSWORD`` or block ``traceo-servicenow-password``, optional
    ``TRACEO_SERVICENOW_TABLE`` (default ``incident``); zendesk: ``TRACEO_ZENDESK_URL``,
    ``TRACEO_ZENDESK_EMAIL``, ``TRACEO_ZENDESK_TOKEN`` or block ``traceo-zendesk-token``.
    """
    if source in ("generic", "cli"):
        return NullTicketClient()
    if source not in ("jira", "servicenow", "zendesk"):
        raise ConfigurationError(f"no ticketing system for source {source!r}")
    model: dict[str, type[JiraSettings | ServiceNowSettings | ZendeskSettings]] = {
        "jira": JiraSettings,
        "servicenow": ServiceNowSettings,
        "zendesk": ZendeskSettings,
    }
    settings: Any = load(model[source])
    url = _required(settings, "url", source)
    secret_field = "password" if source == "servicenow" else "token"
    secret = resolve_secret(getattr(settings, secret_field), f"traceo-{source}-{secret_field}")
    if not secret:
        raise ConfigurationError(
            f"{source} tickets: set {env_name(type(settings), secret_field)} or its block"
        )
    if source == "jira":
        return JiraClient(url, (_required(settings, "user", source), secret))
    if source == "servicenow":
        user = _required(settings, "user", source)
        return ServiceNowClient(url, (user, secret), settings.table)
    return ZendeskClient(url, (f"{_required(settings, 'email', source)}/token", secret))
