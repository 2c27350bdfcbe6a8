"""Pydantic models of checks-as-code: HTTP and multi-step API checks, assertions, retries.

Every model forbids unknown fields, so a typo in a YAML file is an error, never silently ignored.
Validators raise :class:`~pydantic_core.PydanticCustomError` on the offending field so
:mod:`tasks.specs` can report the exact field path (``steps[1].assertions[0].target``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "DEFAULT_REGIONS",
    "OPERATORS",
    "SOURCES",
    "Assertion",
    "CheckDefaults",
    "Extraction",
    "HttpCheck",
    "MultistepCheck",
    "Operator",
    "RequestSpec",
    "RetrySpec",
    "Source",
    "Step",
]

DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")

Source = Literal["status_code", "json_body", "headers", "text_body", "response_time"]
Operator = Literal[
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "less_than",
    "greater_than",
    "has_key",
    "not_has_key",
    "has_value",
    "not_has_value",
    "is_empty",
    "not_empty",
    "is_null",
    "not_null",
    "matches",
]
SOURCES: tuple[str, ...] = Source.__args__  # type: ignore[attr-defined]
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]

_NO_TARGET = frozenset({"is_empty", "not_empty", "is_null", "not_null"})
_NUMERIC = frozenset({"less_than", "greater_than"})
_SOURCE_OPERATORS: dict[str, frozenset[str]] = {
    "status_code": frozenset({"equals", "not_equals", "less_than", "greater_than"}),
    "response_time": frozenset({"less_than", "greater_than"}),
    "text_body": frozenset(
        {"equals", "not_equals", "contains", "not_contains", "matches", "is_empty", "not_empty"}
    ),
    "headers": frozenset(OPERATORS) - {"has_value", "not_has_value", "less_than", "greater_than"},
    "json_body": frozenset(OPERATORS),
}
_SLUG = r"^[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?$"
_REGION = r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$"
_VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_STEP_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_FREQUENCY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def _bad(message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("check_spec", message, ctx or None)


def _parse_frequency(value: Any) -> Any:
    """Accept ``30s``, ``1m``, ``1h`` or a number of seconds; return whole seconds."""
    if isinstance(value, bool):
        raise _bad("frequency must be a duration like 30s, 1m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _FREQUENCY.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise _bad("frequency must be a duration like 30s, 1m or 1h")
    if not 1 <= seconds <= 3600 or seconds != int(seconds):
        raise _bad("frequency must be a whole number of seconds between 1s and 1h")
    return int(seconds)


def _scalar_to_str(value: Any) -> Any:
    # YAML turns `X-Retry: 3` or `page: 2` into numbers; headers and query values are text.
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, int | float):
                item = str(item)
            out[key] = item
        return out
    return value


Frequency = Annotated[int, BeforeValidator(_parse_frequency)]
TextMap = Annotated[dict[str, str], BeforeValidator(_scalar_to_str)]


def _matching(pattern: str, message: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise _bad(message, value=value)
        return value

    return AfterValidator(check)


Slug = Annotated[
    str,
    _matching(_SLUG, "'{value}' is not a valid id: use lowercase letters, digits, - and _"),
]
Region = Annotated[
    str, _matching(_REGION, "'{value}' is not a region name like us-east-1 or eu-west-1")
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Assertion(_Spec):
    """One condition on a response: ``source`` [``property``] ``operator`` ``target``."""

    source: Source
    property: str | None = Field(default=None, validate_default=True)
    operator: Operator
    target: JsonValue = Field(default=None, validate_default=True)

    @field_validator("property")
    @classmethod
    def _check_property(cls, value: str | None, info: ValidationInfo) -> str | None:
        source = info.data.get("source")
        if source in ("status_code", "response_time", "text_body") and value is not None:
            raise _bad("source {source} takes no property", source=source)
        if source == "json_body":
            from tasks.probes.assertions import JsonPath, JsonPathError

            try:
                JsonPath.parse(value or "$")
            except JsonPathError as exc:
                raise _bad("invalid JSON path: {error}", error=str(exc)) from None
            return value or "$"
        return value

    @field_validator("operator")
    @classmethod
    def _check_operator(cls, value: str, info: ValidationInfo) -> str:
        source = info.data.get("source")
        if source and value not in _SOURCE_OPERATORS[source]:
            allowed = ", ".join(sorted(_SOURCE_OPERATORS[source]))
            raise _bad(
                "operator {op} is not supported for source {source} (use one of: {allowed})",
                op=value,
                source=source,
                allowed=allowed,
            )
        return value

    @field_validator("target")
    @classmethod
    def _check_target(cls, value: Any, info: ValidationInfo) -> Any:
        operator = info.data.get("operator")
        if operator is None:
            return value
        if operator in _NO_TARGET:
            if value is not None:
                raise _bad("operator {op} takes no target", op=operator)
            return value
        if value is None:
            raise _bad("operator {op} needs a target", op=operator)
        if operator in _NUMERIC and not _is_number(value):
            raise _bad("operator {op} needs a numeric target", op=operator)
        if operator == "matches":
            if not isinstance(value, str):
                raise _bad("operator matches needs a regular expression (text)")
            try:
                re.compile(value)
            except re.error as exc:
                raise _bad("invalid regular expression: {error}", error=str(exc)) from None
        return value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


class Extraction(_Spec):
    """Where a multi-step variable comes from: a JSON path or a response header."""

    source: Literal["json_body", "headers"]
    property: str

    @field_validator("property")
    @classmethod
    def _check_property(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("source") == "json_body":
            from tasks.probes.assertions import JsonPath, JsonPathError

            try:
                JsonPath.parse(value)
            except JsonPathError as exc:
                raise _bad("invalid JSON path: {error}", error=str(exc)) from None
        return value


class RequestSpec(_Spec):
    """The HTTP request a check (or a step) sends; ``${VAR}`` and ``{{ var }}`` expand at run."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    url: str
    headers: TextMap = Field(default_factory=dict)
    query: TextMap = Field(default_factory=dict)
    body: str | None = None
    json_body: JsonValue = Field(default=None, alias="json")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    follow_redirects: bool = True

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "${", "{{")):
            raise _bad("url must start with http://, https:// or a ${VARIABLE}")
        return value

    @field_validator("json_body")
    @classmethod
    def _one_body(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("body") is not None:
            raise _bad("give either body (text) or json, not both")
        return value


class RetrySpec(_Spec):
    """Retry policy; by default only network errors (not failed assertions) are retried."""

    strategy: Literal["none", "fixed", "linear", "exponential"] = "none"
    max_attempts: int | None = Field(default=None, ge=1, le=10, validate_default=True)
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    on: Literal["network_error", "any_failure"] = "network_error"

    @model_validator(mode="before")
    @classmethod
    def _yaml_on_key(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare `on:` key as the boolean True (the GitHub Actions trap).
        if isinstance(data, dict) and True in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data

    @field_validator("max_attempts")
    @classmethod
    def _check_attempts(cls, value: int | None, info: ValidationInfo) -> int:
        if info.data.get("strategy", "none") == "none":
            if value not in (None, 1):
                raise _bad("max_attempts > 1 needs a retry strategy (fixed, linear, exponential)")
            return 1
        return 2 if value is None else value


class Step(_Spec):
    """One request of a multi-step check, with assertions and variables to extract."""

    name: str = Field(min_length=1, max_length=200)
    request: RequestSpec
    assertions: list[Assertion] = Field(default_factory=list)
    extract: dict[Annotated[str, Field(pattern=_VAR_NAME)], Extraction] = Field(
        default_factory=dict
    )


class CheckDefaults(_Spec):
    """Fields a file's ``defaults:`` block may set for every check in that file."""

    service: str | None = None
    regions: list[Region] | None = None
    frequency: Frequency | None = None
    tags: list[str] | None = None
    private: bool | None = None
    degraded_ms: int | None = Field(default=None, ge=1)
    failed_ms: int | None = Field(default=None, ge=1)
    tls_expiry_days: int | None = Field(default=None, ge=0, le=3650)
    retry: RetrySpec | None = None
    verify_tls: bool | None = None
    ca_bundle: str | None = None


class _CheckBase(_Spec):
    id: Slug
    name: str | None = None
    service: str = Field(min_length=1, max_length=200)
    regions: list[Region] = Field(default_factory=lambda: list(DEFAULT_REGIONS), min_length=1)
    frequency: Frequency = 60
    tags: list[str] = Field(default_factory=list)
    # Never on a public status page (its name, target or account are internal).
    private: bool = False
    degraded_ms: int = Field(default=10_000, ge=1)
    failed_ms: int = Field(default=20_000, ge=1)
    tls_expiry_days: int = Field(default=14, ge=0, le=3650)
    retry: RetrySpec = Field(default_factory=RetrySpec)
    verify_tls: bool = True
    ca_bundle: str | None = Field(default=None, validate_default=True)

    _source_file: str | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any) -> None:
        if isinstance(context, dict):
            self._source_file = context.get("file")

    @property
    def source_file(self) -> str | None:
        """The spec file this check was loaded from (None when built in code)."""
        return self._source_file

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise _bad("regions must not repeat")
        return value

    @field_validator("failed_ms")
    @classmethod
    def _thresholds(cls, value: int, info: ValidationInfo) -> int:
        degraded = info.data.get("degraded_ms")
        if degraded is not None and degraded >= value:
            raise _bad(
                "degraded_ms ({degraded}) must be lower than failed_ms ({failed})",
                degraded=degraded,
                failed=value,
            )
        return value

    @field_validator("ca_bundle")
    @classmethod
    def _resolve_ca_bundle(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("verify_tls") is False:
            raise _bad("ca_bundle needs verify_tls: true")
        path = Path(value).expanduser()
        source = (info.context or {}).get("file") if isinstance(info.context, dict) else None
        if not path.is_absolute() and source:
            # relative to the spec file, so a repo can ship its own CA next to its checks
            path = Path(source).parent / path
        return str(path)


def _step_variables(text: str | None) -> set[str]:
    return set(_STEP_VAR.findall(text)) if text else set()


def _request_variables(request: RequestSpec) -> set[str]:
    names = _step_variables(request.url) | _step_variables(request.body)
    for mapping in (request.headers, request.query):
        for value in mapping.values():
            names |= _step_variables(value)
    names |= _json_variables(request.json_body)
    return names


def _json_variables(value: Any) -> set[str]:
    if isinstance(value, str):
        return _step_variables(value)
    if isinstance(value, dict):
        return set().union(*(_json_variables(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_json_variables(v) for v in value))
    return set()


class HttpCheck(_CheckBase):
    """A single HTTP request with assertions (``type: http``)."""

    type: Literal["http"] = "http"
    request: RequestSpec
    assertions: list[Assertion] = Field(default_factory=list)

    @field_validator("request")
    @classmethod
    def _no_step_variables(cls, value: RequestSpec) -> RequestSpec:
        if names := _request_variables(value):
            raise _bad(
                "{{ variables }} are only available in multistep checks (found {names})",
                names=", ".join(sorted(names)),
            )
        return value

    @property
    def steps(self) -> list[Step]:
        """The check as one step named ``request`` (the engine runs everything as steps)."""
        return [Step(name="request", request=self.request, assertions=self.assertions)]


class MultistepCheck(_CheckBase):
    """Ordered requests sharing extracted variables (``type: multistep``)."""

    type: Literal["multistep"]
    steps: list[Step] = Field(min_length=1, max_length=10)

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, steps: list[Step]) -> list[Step]:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise _bad("step names must be unique")
        defined: set[str] = set()
        for index, step in enumerate(steps):
            missing = _request_variables(step.request) - defined
            if missing:
                raise _bad(
                    "step {index} ({step}) uses {names}, not extracted by an earlier step",
                    index=index,
                    step=step.name,
                    names=", ".join(sorted(missing)),
                )
            defined |= set(step.extract)
        return steps
