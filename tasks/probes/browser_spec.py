"""Pydantic models of browser checks (``type: browser``): ordered page actions and assertions.

A step is a mapping with exactly one action key, so an error's location is the YAML path itself
(``steps[2].fill.selector``)::

    steps:
      - goto: ${SAMPLE_URL}/login                       # shorthand for {url: ...}
      - fill: {selector: "#username", value: demo}
      - fill: {selector: "#password", value: "${SAMPLE_PASSWORD}"}
      - name: sign in                                   # optional; names the failing step
        click: "#submit"
        timeout_seconds: 5
      - assert_text: {selector: "#message", contains: "Welcome, demo"}

``${VAR}`` expands (when the check runs) in ``goto.url``, ``fill.value``, ``select`` values and
the expected text of assertions; selectors are literal. Filled values are never recorded.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tasks.probes.spec import _CheckBase

__all__ = [
    "ACTIONS",
    "ATTEMPT_OVERHEAD_SECONDS",
    "AssertText",
    "AssertTitle",
    "AssertUrl",
    "AssertVisible",
    "BrowserCheck",
    "BrowserStep",
    "Click",
    "Fill",
    "Goto",
    "Press",
    "Select",
    "Viewport",
    "WaitFor",
]

_STEP_VAR = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}")
_LABEL_MAX = 80
# Opening a context, a screenshot and a trace for a failed attempt, closing the context.
ATTEMPT_OVERHEAD_SECONDS = 5.0


def _bad(message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("check_spec", message, ctx or None)


def _as_text(value: Any) -> Any:
    # YAML reads `value: 42` or `key: 1` as numbers; what a browser types is text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _no_step_variables(value: str | None) -> str | None:
    if value is not None and _STEP_VAR.search(value):
        raise _bad("{{ variables }} are not available in browser checks (use ${ENV_VAR})")
    return value


Text = Annotated[str, BeforeValidator(_as_text)]
Selector = Annotated[str, Field(min_length=1, max_length=1000)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def target(self) -> str:
        """What the step acts on, for its default name (never a filled value)."""
        return str(getattr(self, "selector", "") or "")


class Goto(_Action):
    """Navigate; fails on a network error or an HTTP status >= 400 (or not ``expect_status``)."""

    url: str
    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load"
    expect_status: int | None = Field(default=None, ge=100, le=599)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "${")):
            raise _bad("url must start with http://, https:// or a ${VARIABLE}")
        _no_step_variables(value)
        return value

    def target(self) -> str:
        return self.url


class Click(_Action):
    selector: Selector


class Fill(_Action):
    """Type ``value`` into a field; the value is never recorded (results, traces, screenshots)."""

    selector: Selector
    value: Text

    check_value = field_validator("value")(_no_step_variables)


class Select(_Action):
    """Choose an option of a ``<select>`` by its ``value`` or its visible ``label``."""

    selector: Selector
    value: Text | None = None
    label: Text | None = None

    check_text = field_validator("value", "label")(_no_step_variables)

    @model_validator(mode="after")
    def _one_choice(self) -> Select:
        if (self.value is None) == (self.label is None):
            raise _bad("select needs exactly one of value or label")
        return self


class Press(_Action):
    """Press a key (``Enter``, ``Tab``, ``Control+A``) in ``selector`` or on the page."""

    key: str = Field(min_length=1, max_length=100)
    selector: Selector | None = None

    def target(self) -> str:
        return f"{self.key} in {self.selector}" if self.selector else self.key


class WaitFor(_Action):
    """Wait until an element (``selector``) or a ``text`` reaches ``state``."""

    selector: Selector | None = None
    text: str | None = Field(default=None, min_length=1)
    state: Literal["attached", "detached", "visible", "hidden"] = "visible"

    @model_validator(mode="after")
    def _one_target(self) -> WaitFor:
        if (self.selector is None) == (self.text is None):
            raise _bad("wait_for needs exactly one of selector or text")
        return self

    def target(self) -> str:
        return self.selector or f"text {self.text!r}"


class _TextMatch(_Action):
    equals: Text | None = None
    contains: Text | None = None
    matches: str | None = None

    check_text = field_validator("equals", "contains", "matches")(_no_step_variables)

    @field_validator("matches")
    @classmethod
    def _check_regex(cls, value: str | None) -> str | None:
        if value is not None and "${" not in value:
            try:
                re.compile(value)
            except re.error as exc:
                raise _bad("invalid regular expression: {error}", error=str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_operator(self) -> _TextMatch:
        given = [k for k in ("equals", "contains", "matches") if getattr(self, k) is not None]
        if len(given) != 1:
            raise _bad("give exactly one of equals, contains or matches")
        return self

    @property
    def operator(self) -> Literal["equals", "contains", "matches"]:
        if self.equals is not None:
            return "equals"
        return "contains" if self.contains is not None else "matches"

    @property
    def expected(self) -> str:
        value = getattr(self, self.operator)
        assert isinstance(value, str)
        return value

    def target(self) -> str:
        subject = getattr(self, "selector", None)
        expectation = f"{self.operator} {self.expected!r}"
        return f"{subject} {expectation}" if subject else expectation


class AssertText(_TextMatch):
    """The first element matching ``selector`` has text that equals/contains/matches."""

    selector: Selector


class AssertVisible(_Action):
    selector: Selector


class AssertUrl(_TextMatch):
    """The page URL equals/contains/matches (waits for it within the step's timeout)."""


class AssertTitle(_TextMatch):
    """The page title equals/contains/matches (waits for it within the step's timeout)."""


ACTIONS: dict[str, type[_Action]] = {
    "goto": Goto,
    "click": Click,
    "fill": Fill,
    "select": Select,
    "press": Press,
    "wait_for": WaitFor,
    "assert_text": AssertText,
    "assert_visible": AssertVisible,
    "assert_url": AssertUrl,
    "assert_title": AssertTitle,
}
# `goto: URL`, `click: SELECTOR`, ... as shorthands for the one-field mapping
_SHORTHAND = {
    "goto": "url",
    "click": "selector",
    "wait_for": "selector",
    "assert_visible": "selector",
}


class BrowserStep(BaseModel):
    """One step: exactly one action key, an optional ``name`` and a ``timeout_seconds``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    goto: Goto | None = None
    click: Click | None = None
    fill: Fill | None = None
    select: Select | None = None
    press: Press | None = None
    wait_for: WaitFor | None = None
    assert_text: AssertText | None = None
    assert_visible: AssertVisible | None = None
    assert_url: AssertUrl | None = None
    assert_title: AssertTitle | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key, field in _SHORTHAND.items():
                if isinstance(data.get(key), str):
                    data[key] = {field: data[key]}
        return data

    @model_validator(mode="after")
    def _one_action(self) -> BrowserStep:
        given = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(given) != 1:
            found = f"; found {', '.join(given)}" if given else ""
            raise _bad(
                "a step needs exactly one action ({allowed}){found}",
                allowed=", ".join(ACTIONS),
                found=found,
            )
        return self

    @property
    def action(self) -> str:
        """The step's action name (``goto``, ``fill``, ...)."""
        return next(name for name in ACTIONS if getattr(self, name) is not None)

    @property
    def params(self) -> _Action:
        params = getattr(self, self.action)
        assert isinstance(params, _Action)
        return params

    @property
    def label(self) -> str:
        """The step's name, or ``action target`` (e.g. ``click #submit``)."""
        if self.name:
            return self.name
        text = f"{self.action} {self.params.target()}".strip()
        return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 3] + "..."


class Viewport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(default=1280, ge=200, le=7680)
    height: int = Field(default=720, ge=200, le=4320)


class BrowserCheck(_CheckBase):
    """A scripted journey in Chromium (``type: browser``); each run gets a fresh context.

    ``degraded_ms``/``failed_ms`` compare against the sum of the steps' durations.
    """

    type: Literal["browser"]
    steps: list[BrowserStep] = Field(min_length=1, max_length=50)
    viewport: Viewport = Field(default_factory=Viewport)

    @field_validator("steps")
    @classmethod
    def _unique_names(cls, steps: list[BrowserStep]) -> list[BrowserStep]:
        names = [s.name for s in steps if s.name]
        if len(set(names)) != len(names):
            raise _bad("step names must be unique")
        return steps

    @field_validator("ca_bundle")
    @classmethod
    def _no_ca_bundle(cls, value: str | None) -> str | None:
        if value is not None:
            raise _bad(
                "browser checks cannot use ca_bundle (Chromium uses the system trust store); "
                "install the CA there or set verify_tls: false"
            )
        return value

    @property
    def steps_deadline_seconds(self) -> float:
        """How long one attempt's steps may run: the sum of their timeouts, but never past
        ``failed_ms`` (from then on the verdict is ``fail`` whatever the page does)."""
        return min(sum(s.timeout_seconds for s in self.steps), self.failed_ms / 1000)

    @property
    def attempt_timeout_seconds(self) -> float:
        """The longest one attempt may take, evidence included (what the scheduler plans with)."""
        return self.steps_deadline_seconds + ATTEMPT_OVERHEAD_SECONDS

    @property
    def step_labels(self) -> list[str]:
        """A unique label per step (unnamed repeats get ``#2``, ``#3``): what failing_step says."""
        labels: list[str] = []
        seen: dict[str, int] = {}
        for step in self.steps:
            label = step.label
            seen[label] = seen.get(label, 0) + 1
            labels.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
        return labels
