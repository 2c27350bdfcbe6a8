"""The proxy driver: toxics on the fault-injecting proxy, through its Toxiproxy-shaped HTTP API.

A fault is a mapping::

    {"target": "shop",                       # the proxy's name
     "type": "latency",                      # a toxic type (see tasks.chaos.toxics)
     "attributes": {"latency": 100},
     "stream": "downstream", "toxicity": 1.0, # optional
     "listen": "127.0.0.1:8666",             # optional: create the proxy when it is missing
     "upstream": "127.0.0.1:8000",           #   (and delete it again on removal)
     "verify_path": "/health"}               # optional: what clean traffic means (HTTP GET)

Removal deletes the toxic (a 404 is fine: removing twice is not an error). Verification looks
at the proxy's toxic list, then sends traffic through the proxy: an HTTP GET of
``verify_path`` (no injected-error header, faster than ``verify_max_ms``) or, without a path, a
TCP connection.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from tasks.chaos.drivers.base import FaultHandle, Verification
from tasks.errors import ConfigurationError, ServiceUnavailableError

__all__ = ["ProxyDriver"]

DEFAULT_VERIFY_MAX_MS = 1000.0
# Requests sent through a proxy to verify a fault is gone (clean when one is fast enough).
PROBES = 3


class ProxyDriver:
    """Drive the local fault proxy (or a real Toxiproxy) at ``api_url``."""

    name = "proxy"

    def __init__(
        self,
        api_url: str | None,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = (api_url or "").rstrip("/")
        self.timeout = timeout
        self._transport = transport

    @classmethod
    def from_configuration(cls, config: Mapping[str, Any]) -> ProxyDriver:
        """Build from the experiment's configuration: ``proxy_api_url`` (e.g. ...:8474).

        Without it the driver can still remove and verify faults (each handle names its API),
        so a rollback never depends on the experiment file; injecting then raises.
        """
        url = config.get("proxy_api_url")
        return cls(
            url if isinstance(url, str) else None, float(config.get("proxy_timeout_seconds", 5))
        )

    def _client(self, api_url: str | None = None) -> httpx.Client:
        base = api_url or self.api_url
        if not base:
            raise ConfigurationError(
                "configuration.proxy_api_url: the proxy driver needs the proxy's API URL"
            )
        return httpx.Client(base_url=base, timeout=self.timeout, transport=self._transport)

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(
                f"fault proxy API {client.base_url} unreachable ({exc.__class__.__name__})"
            ) from None

    @staticmethod
    def _refused(response: httpx.Response, what: str) -> ConfigurationError:
        try:
            message = response.json().get("error") or response.text
        except ValueError:
            message = response.text
        return ConfigurationError(f"fault proxy refused to {what}: {message}")

    def inject(self, fault: Mapping[str, Any]) -> FaultHandle:
        """Add the toxic (creating the proxy first when ``listen`` and ``upstream`` are given)."""
        target = fault.get("target")
        if not isinstance(target, str) or not target:
            raise ConfigurationError("fault.target: name the proxy to add the toxic to")
        toxic_name = str(fault.get("name") or f"traceo-{fault.get('type')}-{uuid.uuid4().hex[:8]}")
        body = {
            "name": toxic_name,
            "type": fault.get("type"),
            "stream": fault.get("stream", "downstream"),
            "toxicity": fault.get("toxicity", 1.0),
            "attributes": dict(fault.get("attributes") or {}),
        }
        created = False
        with self._client() as client:
            proxy = self._call(client, "GET", f"/proxies/{target}")
            if proxy.status_code == 404 and fault.get("listen") and fault.get("upstream"):
                spec = {"name": target, "listen": fault["listen"], "upstream": fault["upstream"]}
                proxy = self._call(client, "POST", "/proxies", json=spec)
                if proxy.status_code != 201:
                    raise self._refused(proxy, f"create proxy {target!r}")
                created = True
            elif proxy.status_code != 200:
                raise self._refused(proxy, f"find proxy {target!r}")
            listen = proxy.json().get("listen")
            added = self._call(client, "POST", f"/proxies/{target}/toxics", json=body)
            if added.status_code not in (200, 201):
                if created:
                    self._call(client, "DELETE", f"/proxies/{target}")
                raise self._refused(added, f"add a {body['type']} toxic to {target!r}")
        return FaultHandle(
            self.name,
            target,
            {
                "api_url": self.api_url,
                "toxic": toxic_name,
                "type": body["type"],
                "listen": listen,
                "created_proxy": created,
                "verify_path": fault.get("verify_path"),
                "verify_max_ms": float(fault.get("verify_max_ms", DEFAULT_VERIFY_MAX_MS)),
            },
        )

    def remove(self, handle: FaultHandle) -> None:
        """Delete the toxic (and the proxy when this driver created it); missing is fine."""
        details = handle.details
        with self._client(details.get("api_url")) as client:
            path = f"/proxies/{handle.target}/toxics/{details['toxic']}"
            response = self._call(client, "DELETE", path)
            if response.status_code not in (200, 204, 404):
                raise self._refused(response, f"remove toxic {details['toxic']!r}")
            if details.get("created_proxy"):
                response = self._call(client, "DELETE", f"/proxies/{handle.target}")
                if response.status_code not in (200, 204, 404):
                    raise self._refused(response, f"delete proxy {handle.target!r}")

    def verify_removed(self, handle: FaultHandle) -> Verification:
        """Clean when the toxic is gone and traffic through the proxy is clean again."""
        details = handle.details
        with self._client(details.get("api_url")) as client:
            response = self._call(client, "GET", f"/proxies/{handle.target}")
        if response.status_code == 404:
            return Verification(True, f"proxy {handle.target!r} is gone, and its toxics with it")
        if response.status_code != 200:
            return Verification(False, f"cannot read proxy {handle.target!r}: {response.text}")
        names = [t.get("name") for t in response.json().get("toxics") or []]
        if details["toxic"] in names:
            return Verification(False, f"toxic {details['toxic']!r} still on {handle.target!r}")
        listen = details.get("listen") or response.json().get("listen")
        if not listen:
            return Verification(True, f"toxic {details['toxic']!r} removed")
        return _probe_traffic(
            listen, details.get("verify_path"), float(details.get("verify_max_ms", 1000.0))
        )


def _probe_traffic(listen: str, path: str | None, max_ms: float) -> Verification:
    """Send traffic through the proxy at ``listen`` and judge it clean or not.

    Up to :data:`PROBES` requests: a latency toxic slows every one of them, a busy machine only
    some, so the traffic is clean as soon as one answers within ``max_ms``.
    """
    host, _, port = listen.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    try:
        if path:
            timings = []
            for _ in range(PROBES):
                started = time.perf_counter()
                response = httpx.get(f"http://{host}:{port}{path}", timeout=max(max_ms / 1000, 1.0))
                elapsed = (time.perf_counter() - started) * 1000
                if "x-fault-proxy" in response.headers:
                    return Verification(False, f"GET {path} through {listen}: an injected error")
                timings.append(elapsed)
                if elapsed <= max_ms:
                    return Verification(
                        True,
                        f"GET {path} through {listen}: {response.status_code} in {elapsed:.0f} ms",
                    )
            slowest = ", ".join(f"{t:.0f}" for t in timings)
            return Verification(False, f"GET {path} through {listen} took {slowest} ms")
        started = time.perf_counter()
        with socket.create_connection((host, int(port)), timeout=max_ms / 1000):
            elapsed = (time.perf_counter() - started) * 1000
        return Verification(True, f"TCP connect through {listen} in {elapsed:.0f} ms")
    except (httpx.HTTPError, OSError) as exc:
        return Verification(False, f"traffic through {listen} failed ({exc.__class__.__name__})")
