"""Pure assertion evaluation: a small JSON path evaluator, the operators, and their results.

Semantics worth knowing:

- A property that does not exist (a missing key, an index out of range) fails every operator
  except ``is_null`` and ``is_empty``; asserting on something absent is a failure unless you
  assert its absence.
- ``equals`` compares numbers numerically when either side is a number (``200`` equals ``"200"``),
  structures structurally, and everything else as text.
- A path with ``[*]`` yields a list of the matched values; ``contains``/``has_value`` then test
  membership.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import httpx

from tasks.redaction import REDACTED

if TYPE_CHECKING:
    from tasks.probes.spec import Assertion

__all__ = [
    "MISSING",
    "AssertionResult",
    "CompiledAssertion",
    "JsonPath",
    "JsonPathError",
    "ResponseView",
    "compile_assertion",
    "evaluate",
    "looks_secret",
    "preview",
]

PREVIEW_CHARS = 200
# Header values that carry credentials are never copied into results.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
_SECRET_NAME = re.compile(
    r"(?i)token|secret|passw|pwd|api_?key|authori[sz]ation|session|cookie|jwt|credential"
)


def looks_secret(name: str | None) -> bool:
    """Whether a property, header or variable name suggests its value is a credential."""
    return bool(name) and _SECRET_NAME.search(name or "") is not None


class _Missing:
    """Marks a property that does not exist (distinct from JSON ``null``)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
_WILDCARD = object()
_UNPARSED = object()


class JsonPathError(ValueError):
    """A JSON path expression cannot be parsed."""


_TOKEN = re.compile(
    r"""\.(?P<key>[^.\[\]]+)          # .key (any characters but . [ ])
      | \[\s*(?P<index>-?\d+)\s*\]    # [0] or [-1]
      | \[\s*(?P<star>\*)\s*\]        # [*]
      | \[\s*(?P<q>['"])(?P<qkey>(?:(?!(?P=q)).)*)(?P=q)\s*\]  # ['key with spaces']
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class JsonPath:
    """A parsed JSON path: ``$``, ``$.a.b``, ``$.items[0].id``, ``$.items[*].id``, ``$['a b']``.

    The leading ``$`` is optional (``status`` means ``$.status``); ``.*`` is the same as ``[*]``.
    """

    expression: str
    parts: tuple[Any, ...]

    @property
    def is_multi(self) -> bool:
        return any(p is _WILDCARD for p in self.parts)

    @classmethod
    def parse(cls, expression: str) -> JsonPath:
        """Parse ``expression``; raises :class:`JsonPathError` naming the bad position."""
        text = expression.strip()
        if not text:
            raise JsonPathError("empty path")
        rest = text[1:] if text.startswith("$") else (text if text[0] in ".[" else "." + text)
        parts: list[Any] = []
        pos = 0
        while pos < len(rest):
            match = _TOKEN.match(rest, pos)
            if match is None:
                raise JsonPathError(f"unexpected {rest[pos:]!r} in {expression!r}")
            if match.group("key") is not None:
                key = match.group("key").strip()
                parts.append(_WILDCARD if key == "*" else key)
            elif match.group("index") is not None:
                parts.append(int(match.group("index")))
            elif match.group("star"):
                parts.append(_WILDCARD)
            else:
                parts.append(match.group("qkey"))
            pos = match.end()
        return cls(expression, tuple(parts))

    def find(self, document: Any) -> Any:
        """The value at this path, :data:`MISSING`, or (with ``[*]``) a list of matches."""
        values = [document]
        for part in self.parts:
            nxt: list[Any] = []
            for value in values:
                if part is _WILDCARD:
                    if isinstance(value, list):
                        nxt.extend(value)
                    elif isinstance(value, dict):
                        nxt.extend(value.values())
                elif isinstance(part, int):
                    if isinstance(value, list) and -len(value) <= part < len(value):
                        nxt.append(value[part])
                elif isinstance(value, dict) and part in value:
                    nxt.append(value[part])
            values = nxt
        if self.is_multi:
            return values
        return values[0] if values else MISSING


class ResponseView:
    """What assertions read from a response; the body is decoded and parsed at most once."""

    __slots__ = ("_json", "elapsed_ms", "response")

    def __init__(self, response: httpx.Response, elapsed_ms: float) -> None:
        self.response = response
        self.elapsed_ms = elapsed_ms
        self._json: Any = _UNPARSED

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def text(self) -> str:
        return self.response.text

    @property
    def json(self) -> Any:
        """The parsed body, or :data:`MISSING` when it is not JSON."""
        if self._json is _UNPARSED:
            try:
                self._json = json.loads(self.response.content) if self.response.content else MISSING
            except ValueError:
                self._json = MISSING
        return self._json


@dataclass(frozen=True)
class AssertionResult:
    """The outcome of one assertion; ``actual`` is a truncated, secret-free preview."""

    source: str
    property: str | None
    operator: str
    target: Any
    actual: str | None
    passed: bool
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """A one-line summary: ``json_body $.status equals 'UP' (actual 'DOWN')``."""
        where = f"{self.source} {self.property}" if self.property else self.source
        target = "" if self.target is None else f" {self.target!r}"
        why = f": {self.message}" if self.message else f" (actual {self.actual})"
        return f"{where} {self.operator}{target}{why}"


@dataclass(frozen=True)
class CompiledAssertion:
    """An assertion with its JSON path and regex compiled once per batch."""

    spec: Assertion
    path: JsonPath | None
    regex: re.Pattern[str] | None


def compile_assertion(spec: Assertion) -> CompiledAssertion:
    path = JsonPath.parse(spec.property or "$") if spec.source == "json_body" else None
    regex = re.compile(str(spec.target)) if spec.operator == "matches" else None
    return CompiledAssertion(spec, path, regex)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str | None:
    """A short text form of ``value`` for results (``None`` for a missing value)."""
    if value is MISSING:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value is MISSING:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _equals(actual: Any, target: Any) -> bool:
    if actual is MISSING:
        return False
    if isinstance(actual, dict | list) or isinstance(target, dict | list):
        return bool(actual == target)
    if actual is None or target is None:
        return actual is None and target is None
    if isinstance(actual, bool) or isinstance(target, bool):
        return _text(actual).lower() == _text(target).lower()
    if not (isinstance(actual, str) and isinstance(target, str)):
        a, t = _number(actual), _number(target)
        if a is not None and t is not None:
            return a == t
    return _text(actual) == _text(target)


def _contains(actual: Any, target: Any) -> bool:
    if actual is MISSING or actual is None:
        return False
    if isinstance(actual, list):
        return any(_equals(item, target) for item in actual)
    if isinstance(actual, Mapping):
        return _text(target) in actual
    return _text(target) in _text(actual)


def _compare(actual: Any, target: Any, op: Callable[[float, float], bool]) -> bool | None:
    a, t = _number(actual), _number(target)
    if a is None or t is None:
        return None
    return op(a, t)


def _is_empty(actual: Any) -> bool:
    if actual is MISSING or actual is None:
        return True
    if isinstance(actual, str | list | Mapping):
        return len(actual) == 0
    return False


def _has_key(actual: Any, target: Any) -> bool | None:
    if not isinstance(actual, Mapping):
        return None
    return _text(target) in actual


def _has_value(actual: Any, target: Any) -> bool | None:
    if isinstance(actual, Mapping):
        return any(_equals(v, target) for v in actual.values())
    if isinstance(actual, list):
        return any(_equals(v, target) for v in actual)
    return None


def _last_key(path: JsonPath | None) -> str | None:
    keys = [p for p in path.parts if isinstance(p, str)] if path else []
    return keys[-1] if keys else None


def _actual(assertion: CompiledAssertion, view: ResponseView) -> tuple[Any, str | None]:
    """The value an assertion looks at, plus an explanation when it cannot be read."""
    spec = assertion.spec
    if spec.source == "status_code":
        return view.status_code, None
    if spec.source == "response_time":
        return round(view.elapsed_ms, 3), None
    if spec.source == "text_body":
        return view.text, None
    if spec.source == "headers":
        if spec.property is None:
            return view.headers, None
        value = view.headers.get(spec.property)
        return (MISSING if value is None else value), None
    document = view.json
    if document is MISSING:
        return MISSING, "body is not valid JSON"
    assert assertion.path is not None
    return assertion.path.find(document), None


def _decide(assertion: CompiledAssertion, actual: Any) -> tuple[bool, str | None]:
    op, target = assertion.spec.operator, assertion.spec.target
    if op == "is_null":
        return actual is MISSING or actual is None, None
    if op == "is_empty":
        return _is_empty(actual), None
    if actual is MISSING:
        return False, "property not found"
    outcome: bool | None
    if op == "equals":
        outcome = _equals(actual, target)
    elif op == "not_equals":
        outcome = not _equals(actual, target)
    elif op == "contains":
        outcome = _contains(actual, target)
    elif op == "not_contains":
        outcome = not _contains(actual, target)
    elif op == "less_than":
        outcome = _compare(actual, target, lambda a, t: a < t)
    elif op == "greater_than":
        outcome = _compare(actual, target, lambda a, t: a > t)
    elif op in ("has_key", "not_has_key"):
        found = _has_key(actual, target)
        if found is None:
            return False, "not an object"
        outcome = found if op == "has_key" else not found
    elif op in ("has_value", "not_has_value"):
        found = _has_value(actual, target)
        if found is None:
            return False, "not an object or list"
        outcome = found if op == "has_value" else not found
    elif op == "not_empty":
        outcome = not _is_empty(actual)
    elif op == "not_null":
        outcome = actual is not None
    elif op == "matches":
        assert assertion.regex is not None
        outcome = actual is not None and assertion.regex.search(_text(actual)) is not None
    else:  # pragma: no cover - the spec's Literal makes this unreachable
        raise ValueError(f"unknown operator {op}")
    if outcome is None:
        return False, "not a number"
    return outcome, None


def evaluate(
    assertion: CompiledAssertion,
    view: ResponseView,
    scrub: Callable[[str], str] = lambda text: text,
) -> AssertionResult:
    """Evaluate one assertion against a response.

    Args:
        assertion: the compiled assertion.
        view: the response.
        scrub: removes secrets from the recorded ``actual`` preview.
    """
    spec = assertion.spec
    actual, problem = _actual(assertion, view)
    if problem is None:
        passed, problem = _decide(assertion, actual)
    else:
        passed = spec.operator in ("is_null", "is_empty")
    if isinstance(actual, httpx.Headers):
        shown: str | None = preview(sorted(actual.keys()))  # names only, never values
    elif (spec.source == "headers" and (spec.property or "").lower() in SENSITIVE_HEADERS) or (
        spec.source == "json_body" and looks_secret(_last_key(assertion.path))
    ):
        shown = None if actual is MISSING else REDACTED
    else:
        shown = preview(actual)
    if shown is not None and not isinstance(actual, int | float):
        shown = scrub(shown)
    return AssertionResult(
        spec.source, spec.property, spec.operator, spec.target, shown, passed, problem
    )
