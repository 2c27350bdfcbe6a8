"""Every check type, and validation of one raw check by its ``type`` (default ``http``).

A new check type adds its model (a subclass of ``_CheckBase`` in its own ``*_spec`` module) to
:data:`CHECK_TYPES` and :data:`AnyCheck`, and its runner to ``tasks.probes.runner``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from tasks.probes.browser_spec import BrowserCheck
from tasks.probes.net_spec import CertificateCheck, TcpCheck
from tasks.probes.schedule import schedule_problem
from tasks.probes.spec import HttpCheck, MultistepCheck

__all__ = ["CHECK_TYPES", "AnyCheck", "parse_check"]

AnyCheck = HttpCheck | MultistepCheck | BrowserCheck | TcpCheck | CertificateCheck

CHECK_TYPES: dict[str, type[AnyCheck]] = {
    "http": HttpCheck,
    "multistep": MultistepCheck,
    "browser": BrowserCheck,
    "tcp": TcpCheck,
    "certificate": CertificateCheck,
}


def parse_check(raw: Any, context: dict[str, Any] | None = None) -> AnyCheck:
    """Validate one raw check, dispatching on ``type`` (default ``http``).

    Dispatching here rather than through a pydantic tagged union keeps the type tag out of error
    locations, so problems read ``request.url`` rather than ``http.request.url``.

    Raises:
        ValidationError: the check is invalid; every problem is listed.
    """
    if not isinstance(raw, dict):
        return HttpCheck.model_validate(raw, context=context)  # "should be a valid dictionary"
    kind = raw.get("type", "http")
    model = CHECK_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        error = PydanticCustomError(
            "check_spec",
            "unknown check type '{kind}' (expected one of: {allowed})",
            {"kind": str(kind), "allowed": ", ".join(CHECK_TYPES)},
        )
        raise ValidationError.from_exception_data(
            "Check", [InitErrorDetails(type=error, loc=("type",), input=kind)]
        )
    check = model.model_validate(raw, context=context)
    if problem := schedule_problem(check):  # a check must never overlap its own next run
        error = PydanticCustomError("check_spec", problem, None)
        raise ValidationError.from_exception_data(
            "Check", [InitErrorDetails(type=error, loc=("frequency",), input=check.frequency)]
        )
    return check
