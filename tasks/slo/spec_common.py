"""Shared pieces of the OpenSLO models: a strict base model, spec errors, object metadata."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["ANNOTATION_PREFIX", "Metadata", "Strict", "not_supported", "spec_error"]

ANNOTATION_PREFIX = "traceo.dev/"
_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")


def spec_error(message: str) -> PydanticCustomError:
    # Custom errors keep the message as written (no "Value error, " prefix) in spec issues.
    return PydanticCustomError("traceo_spec", message.replace("{", "(").replace("}", ")"))


def not_supported(value: Any, what: str) -> Any:
    if value is not None:
        raise spec_error(f"{what} is not supported")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        # OpenSLO files write optional keys with no value (`alertPolicies:`): same as absent.
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            k: v
            for k, v in data.items()
            if v is not None or k not in fields or fields[k].is_required()
        }


class Metadata(Strict):
    """``metadata`` of any document; ``traceo.dev/`` annotations are only allowed on an SLO."""

    name: str
    displayName: str | None = None
    labels: dict[str, str | list[str]] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise spec_error(
                f"invalid name {value!r}: use lowercase letters, digits, '-' and '.' "
                "(RFC 1123), starting and ending with a letter or digit"
            )
        return value

    @field_validator("annotations")
    @classmethod
    def _no_traceo_annotations(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key.startswith(ANNOTATION_PREFIX):
                raise spec_error(f"{key} is not supported here (only an SLO takes traceo.dev/)")
        return value
