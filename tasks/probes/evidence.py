"""Where failure evidence of browser checks (screenshots, Playwright traces) is kept.

``TRACEO_EVIDENCE_URL`` chooses the store:

- unset: a directory under ``$TRACEO_HOME/evidence`` (URIs are ``file://`` URLs);
- ``file:///path`` or a plain path: that directory;
- ``s3://bucket/prefix``: an S3 bucket through boto3, with the usual AWS credential chain;
  ``TRACEO_EVIDENCE_ENDPOINT_URL`` points it at an S3-compatible server (MinIO, moto).

Keys are derived from the check, region, slot and attempt, so a rerun of a slot overwrites its own
evidence instead of adding more. Putting is synchronous (boto3); the engine calls it in a thread.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, quote_plus, unquote, urlparse

from tasks.errors import ConfigurationError, ServiceUnavailableError
from tasks.redaction import REDACTED

__all__ = [
    "EvidenceStore",
    "LocalEvidenceStore",
    "S3EvidenceStore",
    "evidence_key",
    "evidence_store",
    "scrub_trace",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MIN_SECRET_LEN = 4  # shorter values are only removed where the trace structure says "typed"
_TYPING_METHODS = frozenset({"fill", "type", "pressSequentially", "selectOption", "setInputFiles"})
_TYPING_LOG = re.compile(r'\b(fill|type|pressSequentially)\("(?:[^"\\]|\\.)*"\)')
_INPUT_VALUE = "__playwright_value_"  # how DOM snapshots carry an input's current value


class EvidenceStore(Protocol):
    """Stores one object and returns a URI that names it; drops the slots retention let go."""

    def put(self, key: str, data: bytes, content_type: str) -> str: ...

    def expire(self, before: datetime) -> int: ...


def evidence_key(
    check_id: str, region: str, scheduled_at: datetime, attempt: int, name: str
) -> str:
    """``check/region/20261101T120000Z/attempt-1/name``: one place per slot and attempt."""
    slot = scheduled_at.strftime("%Y%m%dT%H%M%SZ")
    parts = (check_id, region, slot, f"attempt-{attempt}", name)
    return "/".join(_UNSAFE.sub("_", p) for p in parts)


def _slot_of(key: str) -> datetime | None:
    """The slot a key was made for (see :func:`evidence_key`); None for a key of another shape."""
    parts = key.split("/")
    if len(parts) != 5:
        return None
    try:
        return datetime.strptime(parts[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


class LocalEvidenceStore:
    """Evidence as files below ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, key: str, data: bytes, content_type: str) -> str:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"evidence key escapes the evidence directory: {key}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file
        return path.as_uri()

    def expire(self, before: datetime) -> int:
        """Remove the evidence of slots before ``before``; return the files removed."""
        removed = 0
        for path in sorted(self.root.glob("*/*/*/*/*")):
            slot = _slot_of(path.relative_to(self.root).as_posix())
            if slot is not None and slot < before and path.is_file():
                path.unlink()
                removed += 1
        for folder in sorted(self.root.glob("*/*/*/*"), reverse=True):  # emptied slot folders
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                if not any(folder.parent.iterdir()):
                    folder.parent.rmdir()
        return removed

    def __repr__(self) -> str:
        return f"LocalEvidenceStore({str(self.root)!r})"


class S3EvidenceStore:
    """Evidence as objects in ``s3://bucket/prefix/``."""

    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client: Any = None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # type: ignore[import-untyped]  # heavy: only when evidence goes to S3

            self._client = boto3.client("s3", endpoint_url=self.endpoint_url)
        return self._client

    def put(self, key: str, data: bytes, content_type: str) -> str:
        from botocore.exceptions import (  # type: ignore[import-untyped]
            BotoCoreError,
            ClientError,
        )

        full = f"{self.prefix}/{key}" if self.prefix else key
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=full, Body=data, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailableError(
                f"cannot store evidence in s3://{self.bucket}: {exc}"
            ) from exc
        return f"s3://{self.bucket}/{full}"

    def expire(self, before: datetime) -> int:
        """Delete the objects of slots before ``before`` (1,000 per request); return how many."""
        from botocore.exceptions import (  # type: ignore[import-untyped]
            BotoCoreError,
            ClientError,
        )

        lead = f"{self.prefix}/" if self.prefix else ""
        removed = 0
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=lead
            )
            for page in pages:
                old = [
                    {"Key": item["Key"]}
                    for item in page.get("Contents", [])
                    if (slot := _slot_of(item["Key"][len(lead) :])) is not None and slot < before
                ]
                for start in range(0, len(old), 1000):
                    batch = old[start : start + 1000]
                    self.client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                    )
                    removed += len(batch)
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailableError(
                f"cannot expire evidence in s3://{self.bucket}: {exc}"
            ) from exc
        return removed

    def __repr__(self) -> str:
        return f"S3EvidenceStore('s3://{self.bucket}/{self.prefix}')"


def evidence_store(url: str | None = None, endpoint_url: str | None = None) -> EvidenceStore:
    """The store named by ``url`` (default: ``TRACEO_EVIDENCE_URL``, else under TRACEO_HOME).

    Raises:
        ConfigurationError: the URL's scheme is not supported or the bucket is missing.
    """
    from tasks.settings import get_settings

    settings = get_settings()
    url = url if url is not None else settings.evidence_url
    endpoint_url = endpoint_url if endpoint_url is not None else settings.evidence_endpoint_url
    if not url:
        return LocalEvidenceStore(settings.home / "evidence")
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigurationError(f"evidence URL {url!r} names no bucket (s3://bucket/prefix)")
        return S3EvidenceStore(parsed.netloc, parsed.path, endpoint_url=endpoint_url)
    if parsed.scheme == "file":
        return LocalEvidenceStore(Path(unquote(parsed.path)))
    if parsed.scheme == "":
        return LocalEvidenceStore(Path(url).expanduser())
    raise ConfigurationError(
        f"evidence URL {url!r}: unsupported scheme {parsed.scheme!r} (use s3://, file:// or a path)"
    )


def scrub_trace(data: bytes, secrets: Iterable[str]) -> bytes:
    """A Playwright trace zip without what was typed into the page.

    Removed: the ``value`` of fill/type actions and their log lines, every input's value in the
    DOM snapshots, and any occurrence of a secret (4+ characters; raw, JSON-escaped or URL-encoded)
    in any member, which covers request bodies such as a login form's JSON.

    Raises:
        ValueError: ``data`` is not a zip file.
    """
    needles = sorted(
        {
            variant.encode()
            for secret in secrets
            if len(secret) >= _MIN_SECRET_LEN
            for variant in _variants(secret)
        },
        key=len,
        reverse=True,
    )
    redacted = REDACTED.encode()
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a trace zip: {exc}") from None
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename.endswith(".trace"):
                body = _scrub_events(body)
            for needle in needles:
                body = body.replace(needle, redacted)
            target.writestr(info.filename, body)
    return out.getvalue()


def _variants(secret: str) -> tuple[str, ...]:
    # as typed, inside JSON, and URL-encoded the ways browsers and forms do it
    escaped = json.dumps(secret)[1:-1]
    return (secret, escaped, quote(secret), quote(secret, safe=""), quote_plus(secret))


def _scrub_events(body: bytes) -> bytes:
    lines = []
    for line in body.split(b"\n"):
        try:
            event = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        lines.append(json.dumps(_scrub_event(event), separators=(",", ":")).encode())
    return b"\n".join(lines)


def _scrub_event(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") == "before" and value.get("method") in _TYPING_METHODS:
            params = value.get("params")
            if isinstance(params, dict):
                for key in ("value", "text", "options", "payloads"):
                    if key in params:
                        params[key] = REDACTED
        if value.get("type") == "log" and isinstance(value.get("message"), str):
            value["message"] = _TYPING_LOG.sub(rf'\1("{REDACTED}")', value["message"])
        if value.get(_INPUT_VALUE):
            value[_INPUT_VALUE] = REDACTED
        return {k: _scrub_event(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_event(v) for v in value]
    return value
