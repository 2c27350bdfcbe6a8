"""A lake partition's manifest, ``_current.json``, and its conditional switch.

The manifest names the files of a partition's current version. Switching it is a
compare-and-swap: the new manifest is written only if the current one is still the version the
writer started from, in one step that no other writer can interleave with.

- Local disk: the check and the ``rename(2)`` that switches happen under an exclusive ``flock``
  on the partition directory, so writers on one machine take turns. (A directory shared between
  machines over a network file system is only as safe as that file system's ``flock``.)
- S3: the current manifest is read with its ETag, its version checked, and the new one written
  with ``PutObject`` conditional on that ETag (``If-Match``), or on there being none
  (``If-None-Match: *``) for a partition's first version. S3 refuses the write (412) when
  another writer switched in between; so only one of two concurrent writers can win.

The loser gets a :class:`LakeConflictError` naming the partition; the winner's version stays
current and whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tasks.errors import ConfigurationError, PermanentError, ServiceUnavailableError

__all__ = [
    "MANIFEST",
    "LakeConflictError",
    "Manifest",
    "switch_local",
    "switch_s3",
]

MANIFEST = "_current.json"
# S3 answers for a failed condition: 412, or 409 when two conditional writes race.
_CONFLICT_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
_MISSING_CODES = {"NoSuchKey", "404"}
_DENIED_CODES = {"AccessDenied", "403", "NoSuchBucket"}


class LakeConflictError(PermanentError):
    """Another run replaced the same partition meanwhile; this run's version was discarded."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where} was replaced by another run meanwhile; rerun to replace it again"
        )


@dataclass(frozen=True)
class Manifest:
    """The current version of a partition: its files and rows per source."""

    version: str
    files: tuple[str, ...]
    sources: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "files": self.files, "sources": self.sources})

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        data = json.loads(text)
        return cls(data["version"], tuple(data["files"]), dict(data.get("sources", {})))


def switch_local(directory: str, expected: Manifest | None, new: Manifest, where: str) -> None:
    """Make ``new`` current in ``directory`` if ``expected`` still is (see the module docstring).

    Raises:
        LakeConflictError: another writer switched the partition since ``expected`` was read.
    """
    path = os.path.join(directory, MANIFEST)
    os.makedirs(directory, exist_ok=True)  # a partition emptied before it ever had files
    with _locked(directory):
        try:
            with open(path, "rb") as file:
                current: str | None = Manifest.from_json(file.read()).version
        except FileNotFoundError:
            current = None
        if current != (expected and expected.version):
            raise LakeConflictError(where)
        staged = f"{path}.{new.version}"
        with open(staged, "w", encoding="utf-8") as file:
            file.write(new.to_json())
        os.replace(staged, path)  # rename(2): atomic


def switch_s3(client: Any, path: str, expected: Manifest | None, new: Manifest, where: str) -> None:
    """Make ``new`` current at ``path`` (``bucket/key``) if ``expected`` still is.

    Raises:
        LakeConflictError: another writer switched the partition since ``expected`` was read.
        ConfigurationError: the bucket is missing or the credentials may not write it.
        ServiceUnavailableError: S3 failed or was unreachable.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = path.partition("/")
    try:
        try:
            found = client.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _code(exc) not in _MISSING_CODES:
                raise
            current, condition = None, {"IfNoneMatch": "*"}
        else:
            current = Manifest.from_json(found["Body"].read()).version
            condition = {"IfMatch": found["ETag"]}
        if current != (expected and expected.version):
            raise LakeConflictError(where)
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=new.to_json().encode(),
            ContentType="application/json",
            **condition,
        )
    except ClientError as exc:
        code = _code(exc)
        if code in _CONFLICT_CODES or code in _MISSING_CODES:  # switched or removed meanwhile
            raise LakeConflictError(where) from None
        if code in _DENIED_CODES:
            raise ConfigurationError(f"{where}: cannot write the manifest ({code})") from None
        raise ServiceUnavailableError(f"{where}: switching the manifest failed ({code})") from None
    except BotoCoreError as exc:
        raise ServiceUnavailableError(
            f"{where}: S3 unreachable while switching the manifest ({type(exc).__name__})"
        ) from None


@contextlib.contextmanager
def _locked(directory: str) -> Iterator[None]:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", "ClientError"))
