"""Run-time variables in requests: ``${ENV}``, ``${ENV:-default}`` and multi-step ``{{ var }}``.

Expansion happens when a check runs, never when it is loaded, so secrets (API tokens, passwords)
reach a check through the environment of the worker and are not stored in YAML, in Prefect
parameters or in results. Every expanded environment value, and every extracted variable whose
name looks like a credential, is remembered by a :class:`RenderContext` so :meth:`scrub` can
remove it from anything that is recorded.

Both syntaxes are matched in one pass, so a value substituted for one placeholder is never
expanded again (a server cannot inject ``${AWS_SECRET}`` through an extracted variable).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.errors import PermanentError
from tasks.probes.assertions import looks_secret
from tasks.redaction import REDACTED, redact

__all__ = ["JsonTemplate", "RenderContext", "Template", "TemplateError", "compile_json"]

_PLACEHOLDER = re.compile(
    r"\$\{(?P<env>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\{\{\s*(?P<var>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}"
)
# Values shorter than this are not scrubbed: replacing "1" or "on" everywhere would garble results.
_MIN_SECRET_LEN = 4


class TemplateError(PermanentError):
    """A placeholder cannot be expanded (an unset environment variable, an unknown variable)."""


@dataclass(frozen=True)
class _Env:
    name: str
    default: str | None


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass
class RenderContext:
    """Values for one check run, and the secrets seen while expanding them."""

    env: Mapping[str, str]
    variables: dict[str, Any] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)

    def env_value(self, ref: _Env) -> str:
        value = self.env.get(ref.name)
        if value is None:
            if ref.default is None:
                raise TemplateError(
                    f"environment variable {ref.name} is not set and has no default "
                    f"(write ${{{ref.name}:-default}} to give one)"
                )
            value = ref.default
        self._remember(value)
        return value

    def var_value(self, ref: _Var) -> Any:
        try:
            return self.variables[ref.name]
        except KeyError:
            raise TemplateError(
                f"variable {ref.name!r} was not extracted by an earlier step"
            ) from None

    def set_variable(self, name: str, value: Any) -> None:
        """Store an extracted variable; values of credential-like names become secrets."""
        self.variables[name] = value
        if looks_secret(name):
            self._remember(_as_text(value))

    def _remember(self, value: str) -> None:
        if len(value) >= _MIN_SECRET_LEN:
            self.secrets.add(value)

    def scrub(self, text: str) -> str:
        """``text`` without any secret seen in this run, then through :func:`redact`."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return redact(text)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Template:
    """A string split once into literal text and placeholders."""

    source: str
    parts: tuple[str | _Env | _Var, ...]

    @classmethod
    def compile(cls, text: str) -> Template:
        parts: list[str | _Env | _Var] = []
        pos = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > pos:
                parts.append(text[pos : match.start()])
            if match.group("env"):
                parts.append(_Env(match.group("env"), match.group("default")))
            else:
                parts.append(_Var(match.group("var")))
            pos = match.end()
        if pos < len(text):
            parts.append(text[pos:])
        return cls(text, tuple(parts))

    @property
    def is_static(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def single_variable(self) -> _Var | None:
        """The variable when the whole template is exactly ``{{ var }}`` (keeps its JSON type)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], _Var):
            return self.parts[0]
        return None

    def render(self, ctx: RenderContext) -> str:
        if self.is_static:
            return self.source
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, _Env):
                out.append(ctx.env_value(part))
            else:
                out.append(_as_text(ctx.var_value(part)))
        return "".join(out)


@dataclass(frozen=True)
class JsonTemplate:
    """A JSON body whose string leaves may hold placeholders; static bodies are encoded once."""

    value: Any
    static_bytes: bytes | None

    def render(self, ctx: RenderContext) -> bytes:
        if self.static_bytes is not None:
            return self.static_bytes
        return json.dumps(_render_json(self.value, ctx), separators=(",", ":")).encode()


def compile_json(value: Any) -> JsonTemplate:
    """Compile a JSON request body, replacing templated strings by :class:`Template` objects."""
    compiled = _compile_json(value)
    if _has_template(compiled):
        return JsonTemplate(compiled, None)
    return JsonTemplate(value, json.dumps(value, separators=(",", ":")).encode())


def _compile_json(value: Any) -> Any:
    if isinstance(value, str):
        template = Template.compile(value)
        return value if template.is_static else template
    if isinstance(value, dict):
        return {k: _compile_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compile_json(v) for v in value]
    return value


def _has_template(value: Any) -> bool:
    if isinstance(value, Template):
        return True
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _render_json(value: Any, ctx: RenderContext) -> Any:
    if isinstance(value, Template):
        single = value.single_variable
        # "{{ product_id }}" alone keeps the extracted value's type (a number stays a number)
        return ctx.var_value(single) if single is not None else value.render(ctx)
    if isinstance(value, dict):
        return {k: _render_json(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(v, ctx) for v in value]
    return value
