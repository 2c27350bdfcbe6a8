"""Fault drivers: one interface (:class:`FaultDriver`) over the ways a fault can be injected.

- :mod:`tasks.chaos.drivers.proxy` - toxics on the local fault-injecting proxy;
- :mod:`tasks.chaos.drivers.process` - stop or kill a local process named by a pid file;
- :mod:`tasks.chaos.drivers.chaos_mesh` - Chaos Mesh resources through the Kubernetes API.

Every driver injects a fault described by a plain mapping, returns a :class:`FaultHandle` that is
enough to undo it (it is stored in the experiment's journal and survives a crashed run), removes it
idempotently, and verifies afterwards that the fault is really gone.
"""

from __future__ import annotations

from tasks.chaos.drivers.base import FaultDriver, FaultHandle, Verification

__all__ = ["FaultDriver", "FaultHandle", "Verification"]
