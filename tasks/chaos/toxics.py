"""Toxic definitions, shaped like Toxiproxy's, and their validation.

A toxic is ``{name, type, stream, toxicity, attributes}``. ``stream`` is ``upstream``
(client -> server) or ``downstream`` (server -> client, the default); ``toxicity`` is the
probability that the toxic applies to a given connection, drawn once per connection.

Attributes per type (all non-negative numbers; missing ones take the defaults below):

==========  ===========================  ====================================================
type        attributes                   effect
==========  ===========================  ====================================================
latency     latency ms, jitter ms        delay every chunk by latency +- jitter
bandwidth   rate KB/s                    pace the stream to ``rate`` * 1000 bytes a second
slow_close  delay ms                     wait ``delay`` before passing on a close
timeout     timeout ms                   hold all data; close after ``timeout`` (0 = never)
reset_peer  timeout ms                   reset both sockets (RST) after ``timeout``
limit_data  bytes                        close once ``bytes`` have gone through the stream
http_error  status, rate (0-1)           answer ``rate`` of requests with a canned error
==========  ===========================  ====================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.errors import ConfigurationError

__all__ = [
    "STREAMS",
    "TOXIC_TYPES",
    "ProxyConflictError",
    "Toxic",
    "ToxicSpecError",
    "parse_toxic",
]

STREAMS = ("upstream", "downstream")

# type -> {attribute: default}
TOXIC_TYPES: dict[str, dict[str, float]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "limit_data": {"bytes": 0},
    "http_error": {"status": 503, "rate": 1.0},
}


class ToxicSpecError(ConfigurationError):
    """A proxy or toxic definition is invalid; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ProxyConflictError(ConfigurationError):
    """A proxy or toxic name, or a listen address, is already taken."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass
class Toxic:
    """One toxic on a proxy; ``attributes`` is complete (defaults filled in)."""

    name: str
    type: str
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }

    def attr(self, key: str) -> float:
        return float(self.attributes[key])


def _number(value: Any, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToxicSpecError(field_name, f"must be a number, got {value!r}")
    if value < 0:
        raise ToxicSpecError(field_name, f"must be >= 0, got {value!r}")
    return value


def _check_attributes(kind: str, raw: Any, base: dict[str, float]) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ToxicSpecError("attributes", "must be an object")
    attrs = dict(base)
    for key, value in raw.items():
        if key not in attrs:
            known = ", ".join(sorted(attrs))
            raise ToxicSpecError(f"attributes.{key}", f"unknown for {kind} (known: {known})")
        attrs[key] = _number(value, f"attributes.{key}")
    if kind == "http_error":
        status = attrs["status"]
        if status != int(status) or not 400 <= status <= 599:
            raise ToxicSpecError("attributes.status", "must be an HTTP error status 400-599")
        attrs["status"] = int(status)
        if attrs["rate"] > 1:
            raise ToxicSpecError("attributes.rate", "must be between 0 and 1")
    if kind == "limit_data":
        attrs["bytes"] = int(attrs["bytes"])
    return attrs


def parse_toxic(body: Any, existing: Toxic | None = None) -> Toxic:
    """Validate a toxic definition (create, or update ``existing``) and return the toxic.

    Raises:
        ToxicSpecError: a field is missing, unknown or out of range.
    """
    if not isinstance(body, dict):
        raise ToxicSpecError("body", "must be a JSON object")
    if existing is None:
        kind = body.get("type")
        if kind not in TOXIC_TYPES:
            known = ", ".join(TOXIC_TYPES)
            raise ToxicSpecError("type", f"unknown toxic type {kind!r} (known: {known})")
        stream = body.get("stream", "downstream")
        base = TOXIC_TYPES[kind]
    else:
        kind, stream, base = existing.type, existing.stream, existing.attributes
        if body.get("type", kind) != kind:
            raise ToxicSpecError("type", "cannot change the type of an existing toxic")
        stream = body.get("stream", stream)
    if stream not in STREAMS:
        raise ToxicSpecError("stream", f"must be 'upstream' or 'downstream', got {stream!r}")
    default_toxicity = existing.toxicity if existing else 1.0
    toxicity = _number(body.get("toxicity", default_toxicity), "toxicity")
    if toxicity > 1:
        raise ToxicSpecError("toxicity", "must be between 0 and 1")
    name = body.get("name") or (existing.name if existing else f"{kind}_{stream}")
    if not isinstance(name, str):
        raise ToxicSpecError("name", "must be a string")
    attributes = _check_attributes(kind, body.get("attributes", {}), base)
    return Toxic(name=name, type=kind, stream=stream, toxicity=toxicity, attributes=attributes)
