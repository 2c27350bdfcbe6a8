"""The allowlist of deployments a signed request may run, and the parameters each accepts.

``deployments/intake/allowlist.yaml``::

    deployments:
      cost-ingestion/cost-ingestion-aws:      # <flow name>/<deployment name>
        sources: [jira, generic]            # optional; default: every signed source
        parameters:
          start: {type: date, required: true}
          end: {type: date, required: true}
          account: {type: string, pattern: "^[0-9]{12}$"}

Parameter types: ``string`` (``pattern``, ``choices``, ``max_length``), ``date`` (ISO
``YYYY-MM-DD``), ``integer`` / ``number`` (``minimum``, ``maximum``), ``boolean``. A deployment not
listed, or a source not allowed for it, is refused (403); an unknown, missing or ill-typed parameter
is a 422 naming the parameter. Values are passed to Prefect as JSON (dates as ISO strings).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tasks.errors import PermanentError, SpecError, SpecIssue
from tasks.privacy.requests import InvalidRequestError
from tasks.specs import load_specs

__all__ = [
    "DEFAULT_ALLOWLIST",
    "AllowedDeployment",
    "Allowlist",
    "NotAllowedError",
    "ParameterSpec",
    "load_allowlist",
]

DEFAULT_ALLOWLIST = Path(__file__).with_name("allowlist.yaml")


class NotAllowedError(PermanentError):
    """The deployment (or the source for it) is not on the allowlist."""


class ParameterSpec(BaseModel):
    """What one parameter may be."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["string", "date", "integer", "number", "boolean"] = "string"
    required: bool = False
    pattern: str | None = None
    choices: list[str | int | float] | None = None
    max_length: int = Field(default=200, ge=1, le=10_000)
    minimum: float | None = None
    maximum: float | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    def check(self, value: Any) -> Any:
        """The value to pass to Prefect, or ``ValueError`` saying what is wrong (not echoing)."""
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value
        if self.type in ("integer", "number"):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric or (self.type == "integer" and not isinstance(value, int)):
                raise ValueError(
                    f"must be an {self.type}" if self.type == "integer" else "must be a number"
                )
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"must be at least {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"must be at most {self.maximum:g}")
        elif not isinstance(value, str):
            raise ValueError("must be a string")
        elif self.type == "date":
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise ValueError("must be a date (YYYY-MM-DD)") from None
        elif len(value) > self.max_length:
            raise ValueError(f"longer than {self.max_length} characters")
        elif self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ValueError(f"does not match {self.pattern}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"must be one of {self.choices}")
        return value


class AllowedDeployment(BaseModel):
    """One deployment a signed request may run."""

    model_config = ConfigDict(extra="forbid")

    sources: list[Literal["jira", "servicenow", "zendesk", "generic"]] | None = None
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)

    def validate_parameters(self, given: dict[str, Any]) -> dict[str, Any]:
        issues: list[tuple[str, str]] = []
        out: dict[str, Any] = {}
        for name in sorted(set(given) - set(self.parameters)):
            issues.append((f"parameters.{name}", "not an allowed parameter"))
        for name, spec in self.parameters.items():
            if name not in given or given[name] is None:
                if spec.required:
                    issues.append((f"parameters.{name}", "required"))
                continue
            try:
                out[name] = spec.check(given[name])
            except ValueError as exc:
                issues.append((f"parameters.{name}", str(exc)))
        if issues:
            raise InvalidRequestError(issues)
        return out


class Allowlist(BaseModel):
    """Every deployment a signed run request may start."""

    model_config = ConfigDict(extra="forbid")

    deployments: dict[str, AllowedDeployment] = Field(default_factory=dict)

    @field_validator("deployments")
    @classmethod
    def _names(cls, value: dict[str, AllowedDeployment]) -> dict[str, AllowedDeployment]:
        bad = [name for name in value if name.count("/") != 1 or name.startswith("/")]
        if bad:
            raise ValueError(f"deployment names must be '<flow>/<deployment>': {bad}")
        return value

    def check(self, source: str, deployment: str, parameters: Any) -> dict[str, Any]:
        """Validated parameters for running ``deployment`` from ``source``, or raise."""
        allowed = self.deployments.get(deployment)
        if allowed is None:
            raise NotAllowedError(f"deployment {deployment} is not on the allowlist")
        if allowed.sources is not None and source not in allowed.sources:
            raise NotAllowedError(f"source {source} may not run {deployment}")
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            raise InvalidRequestError([("parameters", "must be a JSON object")])
        return allowed.validate_parameters(parameters)


def load_allowlist(path: Path | str = DEFAULT_ALLOWLIST) -> Allowlist:
    """Load and validate the allowlist file (errors name the file, deployment and field)."""

    def whole(file: Path, document: Any) -> list[tuple[str | None, Any, tuple[int | str, ...]]]:
        return [(None, document, ())]

    loaded = load_specs([Path(path)], whole, Allowlist)
    if len(loaded) != 1:
        raise SpecError([SpecIssue(str(path), None, None, "expected exactly one YAML document")])
    return loaded[0]
