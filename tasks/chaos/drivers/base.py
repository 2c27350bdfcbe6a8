"""The fault driver interface shared by the proxy, process and Chaos Mesh drivers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["FaultDriver", "FaultHandle", "Verification"]


@dataclass(frozen=True)
class FaultHandle:
    """What undoing one injected fault needs: the driver's name, the target and plain details.

    ``details`` holds only JSON-serialisable values (names, ids, paths; never secrets) so a
    handle can be written to the journal and used by a later process to roll back.
    """

    driver: str
    target: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"driver": self.driver, "target": self.target, "details": dict(self.details)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultHandle:
        return cls(str(data["driver"]), str(data["target"]), dict(data.get("details") or {}))


@dataclass(frozen=True)
class Verification:
    """Whether a removed fault is really gone, and what was looked at to decide."""

    clean: bool
    detail: str


@runtime_checkable
class FaultDriver(Protocol):
    """Inject a fault, remove it (idempotently: twice is not an error), verify it is gone."""

    name: str

    def inject(self, fault: Mapping[str, Any]) -> FaultHandle: ...

    def remove(self, handle: FaultHandle) -> None: ...

    def verify_removed(self, handle: FaultHandle) -> Verification: ...
