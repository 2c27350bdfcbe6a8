"""Access bundles: where exported files go, the checksummed manifest, and a time-limited link.

Exports land under ``<destination>/<request id>/``: an S3 prefix (written with server-side
encryption; the link is a presigned URL) or a local directory (every file sealed with AES-GCM
under a key derived from the data map's hash key; the link goes through ``TRACEO_FILES_URL`` when
set, else it is a ``file://`` URL, in both cases with an expiry and an HMAC signature that
:func:`verify_signed_path` checks). The bundle is ``bundle.zip`` holding every file plus
``manifest.json`` (sha256, size and rows per file); the manifest is also stored next to it.
Once the link has expired the scheduled retention removes the whole location
(:mod:`tasks.privacy.minimise`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import zipfile
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tasks.errors import ConfigurationError, PermanentError
from tasks.links import browser_link
from tasks.privacy.config import privacy_settings
from tasks.privacy.datamap import DataMap

__all__ = [
    "BundleSink",
    "LocalSink",
    "S3Sink",
    "build_bundle",
    "open_sealed",
    "seal",
    "sink_for",
    "verify_local_link",
    "verify_signed_path",
]

_SEALED = b"traceo-sealed-1\n"  # what a sealed file starts with: format version 1
_NONCE_BYTES = 12


def _cipher(key: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"traceo access bundle"
    ).derive(key)
    return AESGCM(derived)


def seal(key: bytes, data: bytes) -> bytes:
    """``data`` encrypted and authenticated (AES-256-GCM, a fresh nonce per file)."""
    nonce = os.urandom(_NONCE_BYTES)
    return _SEALED + nonce + _cipher(key).encrypt(nonce, data, _SEALED)


def open_sealed(key: bytes, blob: bytes) -> bytes:
    """The plaintext of :func:`seal`'s output; :class:`PermanentError` if it was altered."""
    if not blob.startswith(_SEALED):
        raise PermanentError("bundle file is not sealed")
    body = blob[len(_SEALED) :]
    try:
        return _cipher(key).decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], _SEALED)
    except (InvalidTag, ValueError):
        raise PermanentError("bundle file cannot be decrypted with this key") from None


class BundleSink(ABC):
    """One request's bundle location."""

    @abstractmethod
    def put(self, name: str, data: bytes) -> None: ...

    @abstractmethod
    def get(self, name: str) -> bytes: ...

    @abstractmethod
    def link(self, name: str, expires_at: datetime) -> str: ...

    @abstractmethod
    def remove(self) -> int:
        """Delete every file of the location; how many there were (0 on a second call)."""


class LocalSink(BundleSink):
    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._key = key

    def put(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).write_bytes(seal(self._key, data))

    def get(self, name: str) -> bytes:
        return open_sealed(self._key, (self.directory / name).read_bytes())

    def link(self, name: str, expires_at: datetime) -> str:
        url = browser_link(self.directory / name)
        expires = int(expires_at.timestamp())
        signature = _sign(self._key, unquote(urlsplit(url).path), expires)
        return f"{url}?expires={expires}&signature={signature}"

    def remove(self) -> int:
        if not self.directory.is_dir():
            return 0
        files = sum(1 for p in self.directory.iterdir() if p.is_file())
        shutil.rmtree(self.directory)
        return files


def _sign(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()


def verify_signed_path(
    path: str, expires: str, signature: str, key: bytes, now: datetime | None = None
) -> None:
    """Check a link's signature over its (unquoted) URL path and expiry; raises if bad.

    :class:`PermanentError` when forged, malformed or expired, naming which.
    """
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        raise PermanentError("bundle link is malformed")
    if not hmac.compare_digest(signature.encode(), _sign(key, path, int(expires)).encode()):
        raise PermanentError("bundle link signature does not match")
    if (now or datetime.now(UTC)).timestamp() > int(expires):
        raise PermanentError("bundle link has expired")


def verify_local_link(link: str, key: bytes, now: datetime | None = None) -> Path:
    """The file a ``file://`` bundle link grants; :class:`PermanentError` if forged or expired."""
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    path = unquote(parts.path)
    try:
        expires, signature = query["expires"][0], query["signature"][0]
    except KeyError:
        raise PermanentError("bundle link is malformed") from None
    verify_signed_path(path, expires, signature, key, now)
    return Path(path)


class S3Sink(BundleSink):
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.rstrip("/")

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(name), Body=data, ServerSideEncryption="AES256"
        )

    def get(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()

    def link(self, name: str, expires_at: datetime) -> str:
        seconds = max(1, int((expires_at - datetime.now(UTC)).total_seconds()))
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(name)},
            ExpiresIn=seconds,
        )

    def remove(self) -> int:
        removed = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/"):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
                removed += len(keys)
        return removed


def sink_for(datamap: DataMap, request_id: str, key: bytes) -> BundleSink:
    """The bundle location of ``request_id`` per the data map's ``access`` section."""
    destination = datamap.access.destination
    if destination and destination.startswith("s3://"):
        from tasks.privacy.datastores.clients import client_for

        name = datamap.access.datastore
        if name is None or datamap.datastores[name].kind != "s3":
            raise ConfigurationError("access.destination on S3 needs access.datastore (an s3 one)")
        bucket, _, prefix = destination[len("s3://") :].partition("/")
        client = client_for(name, datamap.datastores[name])
        return S3Sink(client, bucket, f"{prefix.rstrip('/')}/{request_id}".lstrip("/"))
    base = Path(destination) if destination else privacy_settings().resolved_bundle_dir
    return LocalSink(base / request_id, key)


def build_bundle(
    sink: BundleSink,
    request_id: str,
    files: dict[str, dict[str, Any]],
    ttl_hours: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write ``manifest.json`` and ``bundle.zip``; returns the link, its expiry and checksums.

    Each file is read back and its sha256 compared with the one recorded at export, so a bundle
    is never shared with a file that changed after it was exported.
    """
    now = now or datetime.now(UTC)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, meta in sorted(files.items()):
            data = sink.get(name)
            if hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise PermanentError(f"request {request_id}: {name} changed after export")
            zf.writestr(name, data)
        manifest = {
            "request_id": request_id,
            "created_at": now.isoformat(),
            "files": [{"name": n, **m} for n, m in sorted(files.items())],
        }
        manifest_bytes = json.dumps(manifest, indent=2).encode("utf-8")
        zf.writestr("manifest.json", manifest_bytes)
    sink.put("manifest.json", manifest_bytes)
    bundle = archive.getvalue()
    sink.put("bundle.zip", bundle)
    expires_at = now + timedelta(hours=ttl_hours)
    return {
        "link": sink.link("bundle.zip", expires_at),
        "expires_at": expires_at.isoformat(),
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "bundle_sha256": hashlib.sha256(bundle).hexdigest(),
        "files": len(files),
    }
