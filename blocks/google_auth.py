"""Google credentials for the blocks: a service-account key, anonymous for a local fake, or ADC.

One rule for every Google block: an endpoint starting with ``http://`` (a local fake) gets
``AnonymousCredentials`` (Google's clients need them over plain HTTP); else a service-account key
(JSON, a ``SecretStr``) if one is set; else ``None``, which lets the client find Application
Default Credentials itself. A malformed key is refused without echoing it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

__all__ = ["BIGQUERY_SCOPES", "google_credentials"]

BIGQUERY_SCOPES = ["https://www.googleapis.com/auth/bigquery"]


def google_credentials(
    service_account_info: SecretStr | None, scopes: list[str], endpoint: str | None = None
) -> Any:
    """The credentials a Google client should use (``None``: Application Default Credentials)."""
    if endpoint and endpoint.startswith("http://"):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    if service_account_info is None:
        return None
    from google.oauth2 import service_account

    try:
        info = json.loads(service_account_info.get_secret_value())
    except ValueError:
        # Never echo the value: it is a private key.
        raise ValueError("service_account_info is not valid JSON") from None
    return service_account.Credentials.from_service_account_info(info, scopes=scopes)
