"""Fulfilment settings (``TRACEO_DSR_*``) and the key for keyed hashes and signed links.

Resolved at run time, never at import: the flow's only parameter is the request id, so the data
map and destinations come from here.
"""

from __future__ import annotations

import os
from typing import Any

from tasks.errors import ConfigurationError
from tasks.privacy.datamap import DataMap, load_datamap
from tasks.settings import load
from tasks.settings.areas import PrivacySettings

__all__ = [
    "PrivacySettings",
    "hash_key",
    "identity_key",
    "privacy_settings",
    "resolve_datamap",
]


def privacy_settings() -> PrivacySettings:
    """The ``TRACEO_DSR_*`` settings, read now (a bad value fails in one line)."""
    return load(PrivacySettings)


def resolve_datamap() -> DataMap:
    """The configured data map, validated (a :class:`SpecError` names file and field)."""
    return load_datamap(privacy_settings().datamap)


def hash_key(datamap: DataMap) -> bytes:
    """The HMAC key of the data map (a Prefect ``Secret`` block or an environment variable)."""
    conn = datamap.hash_key
    if conn.block:
        from prefect.blocks.system import Secret

        try:
            secret: Any = Secret.load(conn.block)
            value = str(secret.get())
        except ValueError:
            raise ConfigurationError(
                f"hash key: Secret block {conn.block!r} is not saved"
            ) from None
    else:
        assert conn.env is not None
        value = os.environ.get(conn.env, "")
    if len(value) < 16:
        source = f"block {conn.block!r}" if conn.block else f"variable {conn.env}"
        raise ConfigurationError(f"hash key: {source} is unset or shorter than 16 characters")
    return value.encode()


def identity_key() -> bytes:
    """The HMAC key of the identity hashes closed requests keep (``TRACEO_DSR_IDENTITY_KEY``)."""
    secret = privacy_settings().identity_key
    value = secret.get_secret_value() if secret else ""
    if len(value) < 16:
        raise ConfigurationError(
            "identity key: TRACEO_DSR_IDENTITY_KEY is unset or shorter than 16 characters"
        )
    return value.encode()
