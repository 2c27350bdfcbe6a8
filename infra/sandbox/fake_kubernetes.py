"""A local fake of the Kubernetes API for custom objects (Chaos Mesh), for tests and demos.

Serves, on 127.0.0.1, what the ``kubernetes`` client's ``CustomObjectsApi`` calls:

- ``POST   /apis/{group}/{version}/namespaces/{ns}/{plural}``         create
- ``GET    /apis/{group}/{version}/namespaces/{ns}/{plural}``         list (``labelSelector``)
- ``GET    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}``  get
- ``DELETE /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}``  delete
- ``GET /version`` and ``GET /apis/{group}/{version}`` (discovery)

Every resource request is recorded as a :class:`Call` (the RBAC verb, resource and namespace
it needs) so tests can assert the exact sequence and check it against a Role. A simulated Chaos Mesh
controller marks a resource injected ``inject_delay`` seconds after creation and removes a
deleted one ``delete_delay`` seconds after the delete (finalizer), computed when the object is
read. Switches simulate a missing CRD, a forbidden verb, injection that never happens, and a
selector that matches no pods. Requests must carry ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tasks.local_server import ThreadedApp

__all__ = ["Call", "FakeKubernetes"]

CHAOS_GROUP = "chaos-mesh.org"
CHAOS_KINDS = {
    "networkchaos": "NetworkChaos",
    "httpchaos": "HTTPChaos",
    "podchaos": "PodChaos",
    "stresschaos": "StressChaos",
}


@dataclass(frozen=True)
class Call:
    """One request as RBAC sees it: ``verb`` (create/get/list/delete) on ``group/resource``."""

    verb: str
    group: str
    resource: str
    namespace: str
    name: str | None
    status: int


@dataclass
class _Object:
    body: dict[str, Any]
    created: float
    deleted: float | None = None


@dataclass
class FakeKubernetes(ThreadedApp):
    """The fake API server; attributes are the switches, :attr:`calls` the record."""

    token: str = "fake-token"
    inject_delay: float = 0.05
    delete_delay: float = 0.05
    never_inject: bool = False
    select_nothing: bool = False
    forbidden_verbs: set[str] = field(default_factory=set)
    installed: set[str] = field(default_factory=lambda: set(CHAOS_KINDS))
    calls: list[Call] = field(default_factory=list)
    service_account: str = "system:serviceaccount:chaos-testing:traceo-chaos"
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str, str], _Object] = {}
        super().__init__(_build_app(self), "fake-kubernetes", self.host, self.port)

    def objects(self, plural: str | None = None) -> list[dict[str, Any]]:
        """Every stored object (optionally of one plural), as the API would return it now."""
        with self._lock:
            keys = [k for k in self._objects if plural in (None, k[0])]
            return [o for k in keys if (o := self._current(k)) is not None]

    def reset(self) -> None:
        """Forget objects and calls; restore the default switches."""
        with self._lock:
            self._objects.clear()
            self.calls.clear()
        self.never_inject = self.select_nothing = False
        self.forbidden_verbs = set()
        self.installed = set(CHAOS_KINDS)

    # the simulated controller, evaluated lazily under the lock
    def _current(self, key: tuple[str, str, str]) -> dict[str, Any] | None:
        obj = self._objects.get(key)
        if obj is None:
            return None
        now = time.monotonic()
        if obj.deleted is not None and now - obj.deleted >= self.delete_delay:
            del self._objects[key]
            return None
        body = obj.body
        selected = not self.select_nothing
        injected = selected and not self.never_inject and now - obj.created >= self.inject_delay
        body["status"] = {
            "conditions": [
                {"type": "Selected", "status": str(selected)},
                {"type": "AllInjected", "status": str(injected)},
                {"type": "AllRecovered", "status": str(obj.deleted is not None)},
                {"type": "Paused", "status": "False"},
            ],
            "experiment": {
                "desiredPhase": "Stop" if obj.deleted is not None else "Run",
                "containerRecords": [
                    {
                        "id": f"{key[1]}/target-0",
                        "selectorKey": ".",
                        "phase": "Injected" if injected else "Not Injected",
                        "injectedCount": int(injected),
                        "recoveredCount": 0,
                    }
                ]
                if selected
                else [],
            },
        }
        return body


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Any:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details or {},
        "code": code,
    }
    return JSONResponse(body, status_code=code)


def _build_app(fake: FakeKubernetes) -> FastAPI:
    app = FastAPI(title="fake-kubernetes")
    base = "/apis/{group}/{version}/namespaces/{namespace}/{plural}"

    def gate(
        request: Request, verb: str, group: str, plural: str, namespace: str, name: str | None
    ) -> Any:
        """Auth, RBAC and CRD checks shared by every resource endpoint; None when allowed."""
        if request.headers.get("authorization") != f"Bearer {fake.token}":
            response = _status(401, "Unauthorized", "Unauthorized")
        elif verb in fake.forbidden_verbs:
            what = f'{plural}.{group} "{name}"' if name else f"{plural}.{group}"
            response = _status(
                403,
                "Forbidden",
                f'{what} is forbidden: User "{fake.service_account}" cannot {verb} resource '
                f'"{plural}" in API group "{group}" in the namespace "{namespace}"',
                {"name": name or "", "group": group, "kind": plural},
            )
        elif group != CHAOS_GROUP or plural not in fake.installed:
            response = _status(404, "NotFound", "the server could not find the requested resource")
        else:
            return None
        record(verb, group, plural, namespace, name, response.status_code)
        return response

    def record(
        verb: str, group: str, plural: str, namespace: str, name: str | None, status: int
    ) -> None:
        with fake._lock:
            fake.calls.append(Call(verb, group, plural, namespace, name, status))

    def not_found(verb: str, group: str, plural: str, namespace: str, name: str) -> Any:
        record(verb, group, plural, namespace, name, 404)
        details = {"name": name, "group": group, "kind": plural}
        return _status(404, "NotFound", f'{plural}.{group} "{name}" not found', details)

    @app.get("/version")
    def version() -> dict[str, str]:
        return {"major": "1", "minor": "31", "gitVersion": "v1.31.0-traceo-fake"}

    @app.get("/apis/{group}/{version}")
    def discovery(group: str, version: str) -> Any:
        resources = [
            {
                "name": p,
                "namespaced": True,
                "kind": CHAOS_KINDS[p],
                "verbs": ["create", "delete", "get", "list"],
            }
            for p in sorted(fake.installed)
        ]
        body = {
            "kind": "APIResourceList",
            "groupVersion": f"{group}/{version}",
            "resources": resources,
        }
        return JSONResponse(body) if group == CHAOS_GROUP else _status(404, "NotFound", "")

    @app.post(base)
    async def create(request: Request, group: str, version: str, namespace: str, plural: str):
        body = await request.json()
        name = (body.get("metadata") or {}).get("name")
        if (denied := gate(request, "create", group, plural, namespace, name)) is not None:
            return denied
        if body.get("kind") != CHAOS_KINDS[plural] or not name:
            record("create", group, plural, namespace, name, 400)
            return _status(400, "BadRequest", f"body is not a {CHAOS_KINDS[plural]} with a name")
        with fake._lock:
            key = (plural, namespace, name)
            if fake._current(key) is not None:
                fake.calls.append(Call("create", group, plural, namespace, name, 409))
                return _status(
                    409,
                    "AlreadyExists",
                    f'{plural}.{group} "{name}" already exists',
                    {"name": name, "group": group, "kind": plural},
                )
            body["metadata"] |= {
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "finalizers": ["chaos-mesh/records"],
                "generation": 1,
            }
            fake._objects[key] = _Object(body, time.monotonic())
            fake.calls.append(Call("create", group, plural, namespace, name, 201))
            return JSONResponse(fake._current(key), status_code=201)

    @app.get(base)
    def list_objects(request: Request, group: str, version: str, namespace: str, plural: str):
        if (denied := gate(request, "list", group, plural, namespace, None)) is not None:
            return denied
        wanted = dict(
            part.split("=", 1)
            for part in request.query_params.get("labelSelector", "").split(",")
            if "=" in part
        )
        with fake._lock:
            items = [
                body
                for key in list(fake._objects)
                if key[:2] == (plural, namespace)
                and (body := fake._current(key)) is not None
                and wanted.items() <= (body["metadata"].get("labels") or {}).items()
            ]
        record("list", group, plural, namespace, None, 200)
        return {
            "apiVersion": f"{group}/{version}",
            "kind": f"{CHAOS_KINDS[plural]}List",
            "metadata": {},
            "items": items,
        }

    @app.get(base + "/{name}")
    def get(request: Request, group: str, version: str, namespace: str, plural: str, name: str):
        if (denied := gate(request, "get", group, plural, namespace, name)) is not None:
            return denied
        with fake._lock:
            body = fake._current((plural, namespace, name))
        if body is None:
            return not_found("get", group, plural, namespace, name)
        record("get", group, plural, namespace, name, 200)
        return body

    @app.delete(base + "/{name}")
    def delete(request: Request, group: str, version: str, namespace: str, plural: str, name: str):
        if (denied := gate(request, "delete", group, plural, namespace, name)) is not None:
            return denied
        with fake._lock:
            key = (plural, namespace, name)
            body = fake._current(key)
            if body is None:
                fake.calls.append(Call("delete", group, plural, namespace, name, 404))
                details = {"name": name, "group": group, "kind": plural}
                return _status(404, "NotFound", f'{plural}.{group} "{name}" not found', details)
            obj = fake._objects[key]
            if obj.deleted is None:
                obj.deleted = time.monotonic()
                body["metadata"]["deletionTimestamp"] = datetime.now(UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
            fake.calls.append(Call("delete", group, plural, namespace, name, 200))
        return body

    return app
