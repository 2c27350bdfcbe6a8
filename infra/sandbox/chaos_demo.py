"""The chaos part of ``traceo demo``: two experiments on the sample shop through the fault proxy.

:func:`run_chaos_demo` starts the sample shop and the fault proxy (its Toxiproxy-shaped API on a
free port, a proxy ``shop`` in front of the shop), then runs the example experiments in
``deployments/experiments``: 100 ms of added latency (the SLO holds: passed) and 2 s (the
safeguard aborts; rolled back, verified clean). It prints each verdict and the service's
resilience score, and stops what it started. About 20 seconds.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

__all__ = ["EXPERIMENTS", "run_chaos_demo"]

_DIR = Path(__file__).resolve().parents[2] / "deployments" / "experiments"
EXPERIMENTS = (_DIR / "shop-latency-100ms.yaml", _DIR / "shop-latency-2s.yaml")


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    """Set env vars for the block; quiet Chaos Toolkit's log lines (the demo prints its own)."""
    saved = {k: os.environ.get(k) for k in values}
    loggers = [logging.getLogger(name) for name in ("chaostoolkit", "traceo.chaos")]
    levels = [logger.level for logger in loggers]
    os.environ.update(values)
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_chaos_demo(
    echo: Callable[[str], None], engine: Engine, experiments: tuple[Path, ...] = EXPERIMENTS
) -> dict[str, Any]:
    """Run ``experiments`` against a fresh sample shop behind the fault proxy; print verdicts."""
    import httpx

    from infra.sandbox.sample_service.server import SampleService
    from tasks.chaos import FaultProxyServer
    from tasks.chaos.experiment import load_experiment
    from tasks.chaos.records import service_resilience
    from tasks.chaos.runner import execute
    from tasks.local_server import free_port

    verdicts: dict[str, str] = {}
    with SampleService() as shop, FaultProxyServer() as proxy:
        listen = f"127.0.0.1:{free_port()}"
        body = {"name": "shop", "listen": listen, "upstream": f"{shop.host}:{shop.port}"}
        httpx.post(f"{proxy.url}/proxies", json=body, timeout=10).raise_for_status()
        echo(f"Chaos: fault proxy API {proxy.url}; proxy shop {listen} -> shop {shop.url}")
        env = {
            "CHAOS_PROXY_API": proxy.url,
            "CHAOS_PROXY_LISTEN": listen,
            "CHAOS_PROXY_NAME": "shop",
        }
        with _env(env):
            service = "shop-api"
            for path in experiments:
                started = time.perf_counter()
                loaded = load_experiment(path)
                service = loaded.traceo.service
                outcome = execute(loaded, engine)
                clean = all(f["verified_clean"] for f in outcome.faults)
                echo(
                    f"  {path.name}: {outcome.verdict.upper()} in "
                    f"{time.perf_counter() - started:.1f} s: {outcome.reason}; "
                    f"{len(outcome.faults)} fault(s) rolled back, "
                    + ("verified clean" if clean else "NOT verified clean")
                )
                verdicts[path.name] = outcome.verdict
            score = service_resilience(engine, service)
            echo(f"  resilience score of {service}: {'-' if score is None else f'{score:.1f}'}")
    return {"verdicts": verdicts, "resilience_score": score}
