"""S3 calls of the file-based cost sources: one place that classifies boto3's errors.

A missing bucket or object, or access denied, is a configuration problem (permanent: retrying
cannot help); anything else S3 answers, or not reaching it, is transient. Messages name the
source and the ``s3://`` URI, never a credential.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tasks.errors import ConfigurationError, ServiceUnavailableError

__all__ = ["default_s3_client", "s3_errors"]

_PERMANENT = {"NoSuchBucket", "NoSuchKey", "AccessDenied", "403", "404"}


@contextlib.contextmanager
def s3_errors(source: str, action: str) -> Iterator[None]:
    """Turn boto3 errors raised inside into Traceo's; ``action`` reads ``list s3://b/p``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
        if code in _PERMANENT:
            raise ConfigurationError(f"source {source!r}: cannot {action} ({code})") from None
        raise ServiceUnavailableError(f"S3 {action} failed ({code})") from None
    except BotoCoreError as exc:
        raise ServiceUnavailableError(f"S3 unreachable: {action} ({type(exc).__name__})") from None


def default_s3_client() -> Any:
    """A boto3 S3 client from the environment's default chain (``AWS_ENDPOINT_URL`` too)."""
    import boto3

    return boto3.client("s3")
