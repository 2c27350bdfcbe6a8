"""Every ``TRACEO_*`` setting, read from the environment when asked for, never at import.

One pydantic-settings model per area (:mod:`tasks.settings.core`, :mod:`tasks.settings.areas`);
:mod:`tasks.settings.catalogue` lists them all, says where each value came from, and finds
variables that are no setting (typos). A bad value fails in one line (:mod:`.loading`).
"""

from __future__ import annotations

from functools import lru_cache

from tasks.settings.core import Settings
from tasks.settings.loading import load

__all__ = ["Settings", "get_settings", "load"]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings (cached; ``get_settings.cache_clear()`` re-reads the env).

    Raises:
        ConfigurationError: a variable has a value of the wrong form; the line names it.
    """
    return load(Settings)
