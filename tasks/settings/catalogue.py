"""Every Traceo setting in one list: its variable, default, value in effect and where it came from.

``traceo config`` prints :func:`effective` (secrets masked) and :func:`unknown_variables`;
``traceo config --markdown`` prints :func:`markdown`, the README's configuration table.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from tasks.settings.areas import (
    ChaosMeshSettings,
    ChaosSettings,
    IntakeSettings,
    JiraSettings,
    PrivacySettings,
    ServiceNowSettings,
    ZendeskSettings,
)
from tasks.settings.core import REPO, Settings
from tasks.settings.loading import env_name, load

__all__ = [
    "AREAS",
    "FAMILIES",
    "Effective",
    "Entry",
    "effective",
    "entries",
    "markdown",
    "unknown_variables",
]

AREAS: tuple[type[BaseSettings], ...] = (
    Settings,
    ChaosSettings,
    ChaosMeshSettings,
    PrivacySettings,
    JiraSettings,
    ServiceNowSettings,
    ZendeskSettings,
    IntakeSettings,
)
# Variables that are no setting of Traceo's but are expected: specs name them (a data map's
# connections and hash key, the demo's data map), or the tests and benchmarks read them.
FAMILIES: dict[str, str] = {
    "TRACEO_DSR_HASH_KEY": "the key for keyed hashes, when the data map names this variable",
    "TRACEO_DEMO_*": "connections of the demo's data map (`traceo demo`)",
    "TRACEO_TEST_*": "servers the test suite uses instead of its defaults",
    "TRACEO_BENCH_*": "servers the benchmarks use instead of their defaults",
}
_MASK = "********"
# Names people reach for that mean a setting under another name ("the store" is the database).
_ALSO_CALLED = {"TRACEO_STORE_URL": "TRACEO_DATABASE_URL", "TRACEO_DB_URL": "TRACEO_DATABASE_URL"}


@dataclass(frozen=True)
class Entry:
    """One setting: its variable, the model that reads it and the field."""

    variable: str
    model: type[BaseSettings]
    field: str

    @property
    def info(self) -> FieldInfo:
        return self.model.model_fields[self.field]

    @property
    def secret(self) -> bool:
        return SecretStr in (self.info.annotation, *getattr(self.info.annotation, "__args__", ()))


@dataclass(frozen=True)
class Effective:
    """A setting's value in effect, fit to print, and its source (default or environment)."""

    variable: str
    shown: str
    source: str


def entries() -> Iterator[Entry]:
    for model in AREAS:
        for field in model.model_fields:
            yield Entry(env_name(model, field), model, field)


def _shown(value: Any, secret: bool) -> str:
    """A value fit to print: secrets masked, passwords and tokens in URLs redacted."""
    from tasks.redaction import display_url, redact

    if value is None:
        return "unset"
    if secret:
        return _MASK
    text = str(value)
    if "://" in text:
        try:
            return display_url(text)  # database URLs: userinfo and ?password= hidden
        except Exception:  # not a database URL: the generic patterns still apply
            return redact(text)
    return redact(text)


def effective(environ: Mapping[str, str]) -> list[Effective]:
    """Every setting's value in effect (read from the environment now).

    Raises:
        ConfigurationError: a variable has a value of the wrong form (one line names it).
    """
    rows = []
    for model in AREAS:
        loaded = load(model)
        for field in model.model_fields:
            entry = Entry(env_name(model, field), model, field)
            source = "environment" if entry.variable in environ else "default"
            rows.append(
                Effective(entry.variable, _shown(getattr(loaded, field), entry.secret), source)
            )
    return rows


def _expected(name: str) -> bool:
    return name in FAMILIES or any(f.endswith("*") and name.startswith(f[:-1]) for f in FAMILIES)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line per ``TRACEO_*`` variable that is no setting, with the likely intended name."""
    known = [e.variable for e in entries()]
    intended = {**{name: name for name in known}, **_ALSO_CALLED}
    lines = []
    for name in sorted(n for n in environ if n.upper().startswith("TRACEO_")):
        if name in known or _expected(name):
            continue
        close = difflib.get_close_matches(name.upper(), intended, n=1, cutoff=0.75)
        hint = f" (did you mean {intended[close[0]]}?)" if close else ""
        lines.append(f"{name} is not a Traceo setting and is ignored{hint}")
    return lines


def _default(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, Path):
        for base, shown in ((REPO, ""), (Path.home(), "~/")):
            if value.is_relative_to(base):
                return f"`{shown}{value.relative_to(base)}`"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def markdown() -> str:
    """The README's configuration table: every setting, its default and what it is for."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for entry in entries():
        meaning = entry.info.description or ""
        if entry.secret:
            meaning += " (secret: masked by `traceo config`)"
        lines.append(f"| `{entry.variable}` | {_default(entry.info)} | {meaning} |")
    for name, meaning in FAMILIES.items():
        lines.append(f"| `{name}` | unset | {meaning} |")
    return "\n".join(lines)
