"""The Traceo exception tree.

Every error the suite raises on purpose derives from :class:`TraceoError`. Retries key off the
transient/permanent split: only :class:`TransientError` is worth another attempt.

    TraceoError
    ├── PermanentError            retrying cannot help
    │   ├── SpecError             a YAML spec (check, SLO, ...) is malformed; names file/item/field
    │   ├── ConfigurationError    settings, blocks or wiring are wrong
    │   ├── NotFoundError         a named thing (check, SLO, service) does not exist
    │   └── TemplateError         a check's ${VAR} / {{ var }} cannot be filled (tasks.probes)
    └── TransientError            the same call may succeed later
        ├── ServiceUnavailableError  a datastore, API or server is down or unreachable
        └── ThrottledError        a remote API asked us to slow down

Messages never contain personal data or secrets; context travels in attributes.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "NotFoundError",
    "PermanentError",
    "ServiceUnavailableError",
    "SpecError",
    "SpecIssue",
    "ThrottledError",
    "TraceoError",
    "TransientError",
]

from dataclasses import dataclass


class TraceoError(Exception):
    """Root of every error Traceo raises on purpose."""


class PermanentError(TraceoError):
    """Retrying will not help: fix the input or the configuration."""


class TransientError(TraceoError):
    """The operation may succeed if retried later."""


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec file: where it is and what is wrong."""

    file: str
    item: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.item:
            parts.append(self.item)
        if self.field:
            parts.append(self.field)
        return f"{': '.join(parts)}: {self.reason}"


class SpecError(PermanentError):
    """One or more spec files are invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues) or "invalid spec")


class ConfigurationError(PermanentError):
    """Settings, blocks or deployment wiring are wrong."""


class NotFoundError(PermanentError):
    """A named object (check, SLO, service) does not exist."""


class ServiceUnavailableError(TransientError):
    """A datastore, API or server could not be reached."""


class ThrottledError(TransientError):
    """A remote API throttled the request."""
