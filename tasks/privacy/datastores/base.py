"""The one interface every datastore implements, and the erasure strategies it applies.

Rows are plain dicts of the collection's fields; a row's *key* identifies it for later steps and is
JSON-serialisable (a list of primary-key values for SQL and S3, the key string for Redis), so a
plan can be stored and a rerun can act on exactly the rows found the first time.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from tasks.errors import PermanentError, ServiceUnavailableError, TraceoError
from tasks.privacy.datamap import Collection, Erasure

__all__ = ["BATCH", "Datastore", "Row", "batches", "is_masked", "mask_value", "masked_changes"]

Row = dict[str, Any]
BATCH = 1000


def mask_value(erasure: Erasure, value: Any, key: bytes) -> Any:
    """The erased form of ``value``: ``None``, the fixed string, or HMAC-SHA256 hex of it."""
    if erasure.strategy == "nullify" or value is None:
        return None
    if erasure.strategy == "fixed":
        return erasure.value
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()


def is_masked(erasure: Erasure, value: Any) -> bool:
    """Whether ``value`` has the form ``erasure`` leaves behind."""
    if value is None:
        return True
    if erasure.strategy == "fixed":
        return value == erasure.value
    if erasure.strategy == "hmac":
        text = str(value)
        return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    return False


class Datastore(ABC):
    """One datastore: find, export, erase, correct and flag rows of its collections.

    Driver errors leave as :class:`ServiceUnavailableError` (the store is down: wait and retry)
    or :class:`PermanentError` naming only the datastore and the error class: driver messages
    can quote query parameters, which may be personal data.
    """

    transient: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)

    def __init__(self, name: str, client: Any) -> None:
        self.name = name
        self.client = client

    @contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except TraceoError:
            raise
        except self.transient as exc:
            raise ServiceUnavailableError(
                f"datastore {self.name!r} is unavailable ({type(exc).__name__})"
            ) from None
        except Exception as exc:
            raise PermanentError(f"datastore {self.name!r} failed ({type(exc).__name__})") from None

    @abstractmethod
    def find(self, col: Collection, field: str, values: Iterable[Any]) -> list[Row]:
        """Rows whose ``field`` equals one of ``values`` (indexed lookups, batched)."""

    @abstractmethod
    def key_of(self, col: Collection, row: Row) -> Any:
        """The JSON-serialisable key of ``row``."""

    @abstractmethod
    def fetch(self, col: Collection, keys: list[Any]) -> list[Row]:
        """The rows (every stored field) with these keys that still exist."""

    @abstractmethod
    def erase(self, col: Collection, keys: list[Any], hash_key: bytes) -> int:
        """Delete or mask the rows with ``keys`` per the collection's strategy; rows affected."""

    @abstractmethod
    def update(self, col: Collection, keys: list[Any], changes: dict[str, Any]) -> int:
        """Set ``changes`` on the rows with ``keys`` (corrections, opt-out flags)."""

    def add_to_set(self, set_key: str, members: list[str]) -> int:
        raise PermanentError(f"datastore {self.name!r} has no sets")

    def members_present(self, set_key: str, members: list[str]) -> int:
        """How many of ``members`` are in the set ``set_key``."""
        raise PermanentError(f"datastore {self.name!r} has no sets")

    def purge_older(
        self, col: Collection, cutoff: datetime, region: str | None, all_regions: bool
    ) -> int:
        """Delete rows older than ``cutoff`` (in ``region``, or every region); rows deleted."""
        raise PermanentError(f"datastore {self.name!r} does not support retention")


def masked_changes(col: Collection, row: Row, hash_key: bytes) -> dict[str, Any]:
    """The field values that erase ``row`` per the collection's masks."""
    return {f: mask_value(e, row.get(f), hash_key) for f, e in col.masks.items() if f in row}


def batches(values: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
