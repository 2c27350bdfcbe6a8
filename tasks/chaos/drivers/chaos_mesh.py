"""The ``chaos-mesh`` fault driver: Chaos Mesh resources applied and deleted through Kubernetes.

``inject`` builds a NetworkChaos / HTTPChaos / PodChaos / StressChaos manifest from the fault spec
(:mod:`tasks.chaos.drivers.chaos_mesh_manifests`), creates it with the ``kubernetes`` client's
``CustomObjectsApi`` and waits until Chaos Mesh reports it injected (conditions ``Selected`` and
``AllInjected`` true, or every container record in phase ``Injected``). ``remove`` deletes it and
waits until the API answers 404 (Chaos Mesh's finalizer recovers the pods first); removing twice is
fine. The API calls are exactly create / get / list / delete on the four resources, which is what
``infra/kubernetes/chaos-mesh-rbac.yaml`` grants. A handle's ``target`` is the fault's ``target``
(the allowlist name); its details name the resource.

Configuration (experiment configuration/secrets, else ``TRACEO_CHAOS_MESH_*`` env): ``host`` (API
URL), ``token`` (bearer token; a secret, never logged or put in errors), ``namespace`` (where the
resources live), ``verify_ssl``, ``ca_cert``, and the timeouts below. In an experiment either
nest them (``chaos_mesh: {host: ...}``) or prefix them (``chaos_mesh_host: ...``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from tasks.chaos.drivers.base import FaultHandle, Verification
from tasks.chaos.drivers.chaos_mesh_manifests import (
    GROUP,
    KINDS,
    MANAGED_BY,
    TARGET_ANNOTATION,
    VERSION,
    build_manifest,
    parse_fault,
)
from tasks.errors import (
    ConfigurationError,
    NotFoundError,
    ServiceUnavailableError,
    SpecError,
    SpecIssue,
    ThrottledError,
    TraceoError,
)
from tasks.settings.areas import ChaosMeshSettings

__all__ = ["ChaosMeshDriver", "ChaosMeshSettings", "ChaosMeshTimeoutError"]

log = logging.getLogger(__name__)
RBAC_FILE = "infra/kubernetes/chaos-mesh-rbac.yaml"


class ChaosMeshTimeoutError(ServiceUnavailableError):
    """Chaos Mesh did not report the fault injected (or gone) in time; ``handle`` names it."""

    def __init__(self, message: str, handle: FaultHandle) -> None:
        super().__init__(message)
        self.handle = handle


class ChaosMeshDriver:
    """Inject, remove and verify Chaos Mesh faults (see the module docstring)."""

    name = "chaos-mesh"

    def __init__(self, settings: ChaosMeshSettings) -> None:
        self.settings = settings
        self._api: Any = None

    @classmethod
    def from_configuration(cls, config: Mapping[str, Any]) -> ChaosMeshDriver:
        """Build from an experiment's resolved configuration and secrets, falling back to env."""
        nested = config.get("chaos_mesh")
        values: dict[str, Any] = dict(nested) if isinstance(nested, Mapping) else {}
        for key, value in config.items():
            if key.startswith("chaos_mesh_"):
                values.setdefault(key.removeprefix("chaos_mesh_"), value)
        unknown = sorted(set(values) - set(ChaosMeshSettings.model_fields))
        if unknown:  # a typo would otherwise fall back to env or a default without a word
            raise ConfigurationError(
                f"chaos-mesh driver configuration: unknown key(s) "
                f"{', '.join('chaos_mesh_' + k for k in unknown)}"
            )
        try:
            settings = ChaosMeshSettings(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"chaos_mesh_{'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise ConfigurationError(
                f"chaos-mesh driver configuration: {problems} "
                "(set it in the experiment's configuration or TRACEO_CHAOS_MESH_*)"
            ) from None
        if not settings.host:
            raise ConfigurationError(
                "chaos-mesh driver configuration: chaos_mesh_host: Field required "
                "(set it in the experiment's configuration or TRACEO_CHAOS_MESH_HOST)"
            )
        return cls(settings)

    # --- the FaultDriver interface ---------------------------------------------------------

    def inject(self, fault: Mapping[str, Any]) -> FaultHandle:
        """Create the resource and wait until Chaos Mesh reports it injected.

        Raises:
            SpecError: the fault spec (or the built manifest) is invalid; names the field.
            ChaosMeshTimeoutError: not injected in time (the resource is deleted again).
            ConfigurationError / NotFoundError: 401/403 or Chaos Mesh not installed.
        """
        spec = parse_fault(fault)
        manifest = build_manifest(spec, self.settings.namespace)
        meta = manifest["metadata"]
        plural = KINDS[manifest["kind"]]
        handle = FaultHandle(
            self.name,
            spec.target,
            {
                "resource": f"{manifest['kind']}/{meta['namespace']}/{meta['name']}",
                "kind": manifest["kind"],
                "plural": plural,
                "namespace": meta["namespace"],
                "name": meta["name"],
            },
        )
        self._create(manifest, handle)
        try:
            self._wait(
                lambda: _injected(self._get(handle)),
                self.settings.inject_timeout_seconds,
                f"{_resource(handle)} was not injected",
                handle,
            )
        except TraceoError:
            self._remove_after_failed_inject(handle)
            raise
        log.info("Injected %s", _resource(handle))
        return handle

    def remove(self, handle: FaultHandle) -> None:
        """Delete the resource (a missing one is fine) and wait until the API answers 404."""
        ns, plural, name = _where(handle)
        try:
            self._call("delete", plural, ns, name)
        except _Gone:
            log.info("%s is already gone", _resource(handle))
            return
        self._wait(
            lambda: self._get(handle) is None,
            self.settings.delete_timeout_seconds,
            f"{_resource(handle)} was not deleted (Chaos Mesh's finalizer did not finish)",
            handle,
        )
        log.info("Removed %s", _resource(handle))

    def verify_removed(self, handle: FaultHandle) -> Verification:
        """Clean when the API answers 404 for the resource; any other answer is not clean."""
        try:
            body = self._get(handle)
        except TraceoError as exc:
            return Verification(False, f"cannot verify {_resource(handle)}: {exc}")
        if body is None:
            return Verification(True, f"{_resource(handle)} is gone (404)")
        deleting = body.get("metadata", {}).get("deletionTimestamp")
        state = f"being deleted since {deleting}" if deleting else "still present"
        return Verification(False, f"{_resource(handle)} is {state}")

    def leftovers(self, namespace: str | None = None) -> list[FaultHandle]:
        """Handles of every resource Traceo created in ``namespace`` (default: the configured).

        A run that crashed between create and writing its journal has no handle; this finds
        what it left so the flow can remove it.
        """
        ns = namespace or self.settings.namespace
        handles = []
        for kind, plural in KINDS.items():
            selector = f"app.kubernetes.io/managed-by={MANAGED_BY}"
            listing = self._call("list", plural, ns, None, label_selector=selector)
            for item in listing.get("items", []):
                name = item["metadata"]["name"]
                resource = f"{kind}/{ns}/{name}"
                annotations = item["metadata"].get("annotations") or {}
                details = {
                    "resource": resource,
                    "kind": kind,
                    "plural": plural,
                    "namespace": ns,
                    "name": name,
                }
                target = str(annotations.get(TARGET_ANNOTATION) or resource)
                handles.append(FaultHandle(self.name, target, details))
        return handles

    # --- API calls ---------------------------------------------------------------------------

    @property
    def _timeout(self) -> float:
        return self.settings.request_timeout_seconds

    def _client(self) -> Any:
        if self._api is None:
            from kubernetes import client as k8s

            config = k8s.Configuration(
                host=(self.settings.host or "").rstrip("/"),
                verify_ssl=self.settings.verify_ssl,
                ssl_ca_cert=str(self.settings.ca_cert) if self.settings.ca_cert else None,
                retries=1,
            )
            if self.settings.token is not None:
                config.api_key = {"authorization": self.settings.token.get_secret_value()}
                config.api_key_prefix = {"authorization": "Bearer"}
            self._api = k8s.CustomObjectsApi(k8s.ApiClient(config))
        return self._api

    def _create(self, manifest: dict[str, Any], handle: FaultHandle) -> None:
        ns, plural, name = _where(handle)
        for _ in range(2):
            try:
                self._call("create", plural, ns, name, body=manifest)
                log.info("Created %s", _resource(handle))
                return
            except _Exists:
                existing = self._get(handle)
                if existing is None:  # deleted in between: create again
                    continue
                if existing["metadata"].get("deletionTimestamp"):
                    # a previous run's copy is still being recovered; wait, then create ours
                    self._wait(
                        lambda: self._get(handle) is None,
                        self.settings.delete_timeout_seconds,
                        f"{_resource(handle)} (left by an earlier run) was not deleted",
                        handle,
                    )
                    continue
                labels = existing["metadata"].get("labels") or {}
                if labels.get("app.kubernetes.io/managed-by") == MANAGED_BY and (
                    existing.get("spec") == manifest["spec"]
                ):
                    log.info("%s already exists with this spec; adopting it", _resource(handle))
                    return
                raise ConfigurationError(
                    f"{_resource(handle)} already exists and is not this fault (created by someone "
                    "else or with another spec); give the fault another name"
                ) from None
        raise ServiceUnavailableError(f"{_resource(handle)}: create kept conflicting; retry later")

    def _get(self, handle: FaultHandle) -> dict[str, Any] | None:
        ns, plural, name = _where(handle)
        try:
            return self._call("get", plural, ns, name)
        except _Gone:
            return None

    def _call(self, verb: str, plural: str, namespace: str, name: str | None, **kwargs: Any) -> Any:
        """One ``CustomObjectsApi`` call as RBAC names it (create/get/list/delete).

        Client errors become the project's errors, whose messages never hold the token.
        """
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        what = f"{verb} {plural}.{GROUP}" + (f" {namespace}/{name}" if name else f" in {namespace}")
        method = getattr(self._client(), f"{verb}_namespaced_custom_object")
        args = (GROUP, VERSION, namespace, plural) + ((name,) if verb in ("get", "delete") else ())
        try:
            return method(*args, _request_timeout=self._timeout, **kwargs)
        except ApiException as exc:
            raise _api_error(exc, verb, plural, namespace, name, what) from None
        except HTTPError as exc:
            raise ServiceUnavailableError(
                f"cannot reach the Kubernetes API at {self.settings.host} ({what}): "
                f"{type(exc).__name__}"
            ) from None

    def _wait(
        self, done: Callable[[], bool | str], timeout: float, message: str, handle: FaultHandle
    ) -> None:
        """Poll ``done`` until true; it may return a str saying why not, used in the error."""
        deadline = time.monotonic() + timeout
        while True:
            result = done()
            if result is True:
                return
            if time.monotonic() >= deadline:
                why = f": {result}" if isinstance(result, str) else ""
                raise ChaosMeshTimeoutError(f"{message} within {timeout:g}s{why}", handle)
            time.sleep(self.settings.poll_interval_seconds)

    def _remove_after_failed_inject(self, handle: FaultHandle) -> None:
        try:
            self.remove(handle)
        except TraceoError as exc:
            log.warning("Could not delete %s after a failed injection: %s", _resource(handle), exc)


class _Gone(NotFoundError):
    """The object (not the CRD) answered 404."""


class _Exists(ConfigurationError):
    """Create answered 409 AlreadyExists."""


def _resource(handle: FaultHandle) -> str:
    return str(handle.details.get("resource") or handle.target)


def _where(handle: FaultHandle) -> tuple[str, str, str]:
    details = handle.details
    try:
        return str(details["namespace"]), str(details["plural"]), str(details["name"])
    except KeyError as exc:
        raise ConfigurationError(f"chaos-mesh handle {handle.target!r} lacks {exc}") from None


def _injected(body: dict[str, Any] | None) -> bool | str:
    """True when Chaos Mesh reports the fault injected, else why not (for the timeout error)."""
    if body is None:
        return "the resource disappeared"
    status = body.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Selected") == "True" and conditions.get("AllInjected") == "True":
        return True
    records = (status.get("experiment") or {}).get("containerRecords") or []
    if not conditions and records and all(r.get("phase") == "Injected" for r in records):
        return True
    if conditions.get("Selected") == "False":
        return "Selected=False (the selector matched no pods)"
    shown = ", ".join(f"{k}={v}" for k, v in conditions.items()) or "no status yet"
    return f"status {shown}"


def _api_error(
    exc: Any, verb: str, plural: str, namespace: str, name: str | None, what: str
) -> TraceoError:
    status = exc.status
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    message = str(body.get("message") or exc.reason or "")
    if status == 401:
        return ConfigurationError(
            f"the Kubernetes API rejected the credentials (401) on {what}; check chaos_mesh_token"
        )
    if status == 403:
        return ConfigurationError(
            f"forbidden (403) on {what}: the account needs RBAC verb {verb!r} on resource "
            f"{plural!r} in apiGroup {GROUP!r} in namespace {namespace!r} (see {RBAC_FILE})"
        )
    if status == 404:
        if (body.get("details") or {}).get("name"):
            return _Gone(f"{plural}.{GROUP} {namespace}/{name} not found")
        return NotFoundError(
            f"Chaos Mesh is not installed: the API has no {plural}.{GROUP}/{VERSION} "
            f"(404 on {what}); install Chaos Mesh's CRDs"
        )
    if status == 409:
        return _Exists(f"{what}: already exists")
    if status == 429:
        return ThrottledError(f"the Kubernetes API throttled {what} (429)")
    if status in (400, 422):
        return SpecError([SpecIssue(f"{plural} manifest", name, None, f"rejected: {message}")])
    if status is not None and status >= 500:
        return ServiceUnavailableError(f"the Kubernetes API failed {what} ({status}): {message}")
    return ConfigurationError(f"unexpected answer {status} to {what}: {message}")
