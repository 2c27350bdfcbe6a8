"""Builders for checks in tests and a synchronous way to run them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from tasks.probes.http import ProbeResult, run_checks
from tasks.probes.spec import HttpCheck, MultistepCheck

SLOT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def http_check(
    url: str, assertions: list[dict[str, Any]] | None = None, **fields: Any
) -> HttpCheck:
    request = {"url": url, **fields.pop("request", {})}
    raw = {"id": fields.pop("id", "check-1"), "service": "svc", "request": request, **fields}
    if assertions is not None:
        raw["assertions"] = assertions
    return HttpCheck.model_validate(raw)


def multistep_check(steps: list[dict[str, Any]], **fields: Any) -> MultistepCheck:
    raw = {"id": fields.pop("id", "flow-1"), "service": "svc", "type": "multistep", "steps": steps}
    return MultistepCheck.model_validate({**raw, **fields})


def run(checks: list[Any], **kwargs: Any) -> list[ProbeResult]:
    kwargs.setdefault("env", {})
    return asyncio.run(run_checks(checks, "eu-west-1", SLOT, **kwargs))


def run_one(check: Any, **kwargs: Any) -> ProbeResult:
    return run([check], **kwargs)[0]
