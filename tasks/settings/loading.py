"""Build a settings model from the environment; a bad value is one line naming the variable.

pydantic's own report is several lines, repeats the input (which may be a secret) and names the
field, not the variable someone set. :func:`load` says ``TRACEO_<NAME>: what is wrong (expected
what)`` instead, without the value.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from tasks.errors import ConfigurationError

__all__ = ["env_name", "expected_form", "load"]

S = TypeVar("S", bound=BaseSettings)

_FORMS: dict[Any, str] = {
    int: "an integer",
    float: "a number",
    bool: "true or false (also 1/0, yes/no)",
    Path: "a path",
    str: "text",
    SecretStr: "text",
}
_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def env_name(model: type[BaseSettings], field: str) -> str:
    """The environment variable of ``model.field``, e.g. ``TRACEO_CHAOS_MAX_DURATION_SECONDS``."""
    return f"{model.model_config.get('env_prefix', '')}{field}".upper()


def expected_form(info: FieldInfo) -> str:
    """What a valid value looks like, e.g. ``an integer, >= 1 and <= 16``."""
    kinds = [a for a in typing.get_args(info.annotation) if a is not type(None)]
    origin = typing.get_origin(info.annotation)
    base = kinds[0] if origin in (typing.Union, types.UnionType) and kinds else info.annotation
    form = _FORMS.get(base, getattr(base, "__name__", str(base)))
    bounds = [
        f"{sign} {getattr(meta, key):g}"
        for meta in info.metadata
        for key, sign in _BOUNDS
        if getattr(meta, key, None) is not None
    ]
    return ", ".join([form, " and ".join(bounds)]) if bounds else form


def _problem(model: type[BaseSettings], error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    info = model.model_fields.get(field)
    message = error["msg"][:1].lower() + error["msg"][1:]
    if info is None:
        return message
    return f"{env_name(model, field)}: {message} (expected {expected_form(info)})"


def load(model: type[S]) -> S:
    """``model`` read from the environment now.

    Raises:
        ConfigurationError: one line naming each bad variable and the form it expects.
    """
    try:
        return model()
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        raise ConfigurationError("; ".join(_problem(model, e) for e in errors)) from None
