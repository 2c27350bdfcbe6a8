"""Fulfilment settings (``TRACEO_DSR_*``) and the key for keyed hashes and signed links.

Resolved at run time, never at import: the flow's only parameter is the request id, so the data
map and destinations come from here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tasks.errors import ConfigurationError
from tasks.privacy.datamap import DataMap, load_datamap
from tasks.settings import get_settings

__all__ = ["PrivacySettings", "hash_key", "privacy_settings", "resolve_datamap"]

_REPO = Path(__file__).resolve().parents[2]


class PrivacySettings(BaseSettings):
    """``TRACEO_DSR_DATAMAP``: the data map; ``TRACEO_DSR_BUNDLE_DIR``: local access bundles
    (default ``$TRACEO_HOME/dsr/bundles``) when the data map names no destination;
    ``TRACEO_DSR_NOTIFY``: deadline alert target (a notification block slug);
    ``TRACEO_DSR_WARN_DAYS``: how close to the due date a request gets an alert."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_DSR_", extra="ignore")

    datamap: Path = _REPO / "deployments" / "datamaps" / "shop.yaml"
    bundle_dir: Path | None = None
    notify: str | None = None
    warn_days: int = Field(default=7, ge=0, le=60)

    @property
    def resolved_bundle_dir(self) -> Path:
        return self.bundle_dir or get_settings().home / "dsr" / "bundles"


def privacy_settings() -> PrivacySettings:
    return PrivacySettings()


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
