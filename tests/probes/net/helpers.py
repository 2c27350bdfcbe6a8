"""Builders for network checks and a synchronous way to run them."""

from __future__ import annotations

import asyncio
from typing import Any

from tasks.probes.http import ProbeResult
from tasks.probes.net import run_checks
from tasks.probes.net_spec import CertificateCheck, TcpCheck
from tests.probes.helpers import SLOT

FAST_RETRY = {"strategy": "fixed", "max_attempts": 3, "backoff_seconds": 0.01}


def tcp_check(port: int | str, **fields: Any) -> TcpCheck:
    raw = {"id": "tcp-1", "service": "svc", "type": "tcp", "host": "127.0.0.1", "port": port}
    return TcpCheck.model_validate({**raw, **fields})


def cert_check(port: int | str, **fields: Any) -> CertificateCheck:
    raw = {"id": "cert-1", "service": "svc", "type": "certificate", "host": "127.0.0.1"}
    return CertificateCheck.model_validate({**raw, "port": port, **fields})


def run_net(checks: list[Any], **kwargs: Any) -> list[ProbeResult]:
    kwargs.setdefault("env", {})
    return asyncio.run(run_checks(checks, "eu-west-1", SLOT, **kwargs))


def run_net_one(check: Any, **kwargs: Any) -> ProbeResult:
    return run_net([check], **kwargs)[0]
