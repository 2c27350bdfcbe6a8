"""Serving the intake: uvicorn as ``traceo intake serve`` runs it, and as the benchmarks do.

One process, uvloop and httptools (``uvicorn[standard]``), no access log unless asked: the app
logs one line per request it stores, carrying the request id only, so uvicorn's line per
request (client address, path, status) is optional.
"""

from __future__ import annotations

from typing import Any

__all__ = ["serve_app"]


def serve_app(
    app: Any, host: str, port: int, *, access_log: bool = False, log_level: str = "info"
) -> None:
    """Serve ``app`` on ``host``:``port`` until the process is told to stop."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level=log_level,
    )
