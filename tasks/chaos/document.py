"""The Chaos Toolkit experiment format, as pydantic models of the parts Traceo reads.

The models follow the format as chaostoolkit-lib 1.44 validates it: a ``process`` provider's
``arguments`` is a string, a list or a mapping (a ``python`` provider's is a mapping);
``controls`` may stand on the experiment, the steady-state hypothesis and any activity. They
check shapes (so that chaostoolkit-lib's own validator, run after them, never meets a wrong
type) and leave the rest to chaostoolkit-lib.

Traceo refuses, as not supported: unknown keys at the top level and in the steady-state
hypothesis (mostly typos, which chaostoolkit-lib would ignore) and the experiment-level
``runtime`` (Traceo takes the strategies from its ``traceo`` extension).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

__all__ = [
    "Activity",
    "Control",
    "ExperimentSpec",
    "Hypothesis",
    "HypothesisProbe",
    "Provider",
]

_STRICT = ConfigDict(extra="forbid", populate_by_name=True)
_OPEN = ConfigDict(extra="allow")


class Provider(BaseModel):
    """What an activity calls: ``python`` (``module.func``), ``process`` (``path``) or ``http``.

    chaostoolkit-lib checks the rest (``module``, ``path`` or ``url`` present, the function's
    signature); the model checks that ``arguments`` has a shape the provider can take.
    """

    model_config = _OPEN

    type: Literal["python", "process", "http"]
    module: str | None = None
    func: str | None = None
    arguments: dict[str, Any] | list[Any] | str | None = None

    @field_validator("arguments")
    @classmethod
    def _arguments_fit_the_type(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("type") == "python" and not isinstance(value, dict | None):
            raise PydanticCustomError(
                "traceo_arguments",
                "a python provider's arguments are a mapping of the function's parameters",
            )
        return value


class Control(BaseModel):
    """A control: code Chaos Toolkit calls around the experiment, the hypothesis or an activity."""

    model_config = _OPEN

    name: str
    provider: dict[str, Any] | None = None


class Activity(BaseModel):
    model_config = _OPEN

    type: Literal["action", "probe"] | None = None
    name: str | None = None
    ref: str | None = None
    provider: Provider | None = None
    background: bool = False
    pauses: dict[str, float | str] | None = None
    controls: list[Control] = Field(default_factory=list)


class HypothesisProbe(Activity):
    tolerance: Any = None


class Hypothesis(BaseModel):
    model_config = _STRICT

    title: str
    probes: list[HypothesisProbe] = Field(default_factory=list)
    controls: list[Control] = Field(default_factory=list)


class ExperimentSpec(BaseModel):
    """The parts of a Chaos Toolkit experiment Traceo reads (the rest goes to chaostoolkit-lib)."""

    model_config = _STRICT

    version: str | int | float | None = None
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    contributions: dict[str, str] | None = None
    configuration: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict)
    extensions: list[dict[str, Any]] = Field(default_factory=list)
    controls: list[Control] = Field(default_factory=list)
    steady_state_hypothesis: Hypothesis | None = Field(
        default=None, alias="steady-state-hypothesis"
    )
    method: list[Activity]
    rollbacks: list[Activity] = Field(default_factory=list)
    runtime: Any = None

    @field_validator("configuration", "secrets")
    @classmethod
    def _env_references_are_complete(cls, value: dict[str, Any]) -> dict[str, Any]:
        # chaostoolkit-lib reads value["key"] and converts the variable without checking either
        problems = list(_env_reference_problems(value))
        if problems:
            raise PydanticCustomError("traceo_env_reference", "; ".join(problems))
        return value

    @field_validator("runtime")
    @classmethod
    def _no_runtime(cls, value: Any) -> None:
        if value is not None:
            raise PydanticCustomError(  # no "Value error, " prefix in the spec issue
                "traceo_not_supported",
                "not supported: Traceo takes the strategies from extensions.traceo "
                "(hypothesis.strategy, rollback_strategy)",
            )
        return None


_ENV_TYPES = ("str", "string", "int", "integer", "float", "number", "bytes", "bool", "json")


def _env_reference_problems(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """What is wrong with each ``{type: env, key: NAME}`` reference (secrets nest in scopes)."""
    for name, value in values.items():
        if not isinstance(value, dict):
            continue
        where = f"{prefix}{name}"
        if value.get("type") != "env":
            if "type" not in value:  # a scope of secrets
                yield from _env_reference_problems(value, f"{where}.")
            continue
        key, kind, default = value.get("key"), value.get("env_var_type"), value.get("default")
        if not isinstance(key, str) or not key:
            yield f"{where}: an env reference needs key: the name of an environment variable"
        if kind is not None and kind not in _ENV_TYPES:
            yield f"{where}: env_var_type must be one of {', '.join(_ENV_TYPES)}"
        if not isinstance(default, str | int | float | bool | None):
            yield f"{where}: an env reference's default must be a single value"
