"""Local fault injection: a Toxiproxy-compatible TCP proxy with an HTTP error toxic.

- :mod:`tasks.chaos.toxics` - toxic definitions and their validation;
- :mod:`tasks.chaos.proxy` - the asyncio TCP proxy that applies toxics per direction;
- :mod:`tasks.chaos.proxy_api` - the control API shaped like Toxiproxy's, and
  :class:`FaultProxyServer` to run API and proxies in a background thread.
"""

from __future__ import annotations

from tasks.chaos.proxy import Proxy, ProxyRegistry
from tasks.chaos.proxy_api import FaultProxyServer, create_app
from tasks.chaos.toxics import (
    TOXIC_TYPES,
    ProxyConflictError,
    Toxic,
    ToxicSpecError,
    parse_toxic,
)

__all__ = [
    "TOXIC_TYPES",
    "FaultProxyServer",
    "Proxy",
    "ProxyConflictError",
    "ProxyRegistry",
    "Toxic",
    "ToxicSpecError",
    "create_app",
    "parse_toxic",
]
