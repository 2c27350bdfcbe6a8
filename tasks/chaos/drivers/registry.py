"""Driver name -> driver class, imported only when used (the Kubernetes client is heavy)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from tasks.chaos.drivers.base import FaultDriver
from tasks.errors import ConfigurationError

__all__ = ["DRIVERS", "build_driver", "driver_class"]

DRIVERS: dict[str, str] = {
    "proxy": "tasks.chaos.drivers.proxy:ProxyDriver",
    "process": "tasks.chaos.drivers.process:ProcessDriver",
    "chaos-mesh": "tasks.chaos.drivers.chaos_mesh:ChaosMeshDriver",
}


def driver_class(name: str) -> Any:
    """The class registered as ``name``.

    Raises:
        ConfigurationError: no driver has that name.
    """
    if name not in DRIVERS:
        raise ConfigurationError(
            f"unknown fault driver {name!r} (expected one of: {', '.join(sorted(DRIVERS))})"
        )
    module, attribute = DRIVERS[name].split(":")
    return getattr(importlib.import_module(module), attribute)


def build_driver(name: str, config: Mapping[str, Any]) -> FaultDriver:
    """``driver_class(name).from_configuration(config)``."""
    driver: FaultDriver = driver_class(name).from_configuration(config)
    return driver
