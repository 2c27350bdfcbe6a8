"""Redis datastores: key templates over hashes or opaque strings, through redis-py.

A collection's ``key`` is a template such as ``shop:session:{customer_id}``. A lookup on the
template's only placeholder is a direct read of the keys it names (pipelined); any other lookup
SCANs the keys matching the template (placeholders become ``*``) and compares hash fields.
Rows carry the hash fields, the placeholders parsed from the key, and the key itself in ``_key``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tasks.privacy.datamap import Collection
from tasks.privacy.datastores.base import Datastore, Row, batches, masked_changes

__all__ = ["RedisDatastore", "key_pattern"]

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


def key_pattern(template: str) -> tuple[str, re.Pattern[str]]:
    """The SCAN glob of a key template and a regex that parses its placeholders."""
    glob, regex = "", ""
    for part in re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", template):
        if part.startswith("{") and part.endswith("}"):
            glob += "*"
            regex += f"(?P<{part[1:-1]}>.+?)"
        else:
            glob += _GLOB_SPECIAL.sub(r"\\\1", part)
            regex += re.escape(part)
    return glob, re.compile(f"^{regex}$")


class RedisDatastore(Datastore):
    transient = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)
    scan_count = 10_000

    def _rows(self, col: Collection, keys: list[str]) -> list[Row]:
        """The rows of the keys that exist (hash fields + placeholders + ``_key``)."""
        _, parser = key_pattern(col.key or "")
        rows: list[Row] = []
        for chunk in batches(keys):
            pipe = self.client.pipeline(transaction=False)
            for key in chunk:
                pipe.hgetall(key) if col.type == "hash" else pipe.exists(key)
            for key, found in zip(chunk, pipe.execute(), strict=True):
                if not found:
                    continue
                match = parser.match(key)
                row: Row = dict(match.groupdict()) if match else {}
                if col.type == "hash":
                    row.update(found)
                row["_key"] = key
                rows.append(row)
        return rows

    def find(self, col: Collection, field: str, values: Iterable[Any]) -> list[Row]:
        wanted = {str(v) for v in values if v is not None}
        with self.guard():
            if col.key_fields == [field]:
                assert col.key is not None
                return self._rows(col, [col.key.format(**{field: v}) for v in sorted(wanted)])
            glob, _ = key_pattern(col.key or "")
            keys = list(self.client.scan_iter(match=glob, count=self.scan_count))
            return [r for r in self._rows(col, keys) if str(r.get(field)) in wanted]

    def key_of(self, col: Collection, row: Row) -> Any:
        return row["_key"]

    def fetch(self, col: Collection, keys: list[Any]) -> list[Row]:
        with self.guard():
            return self._rows(col, list(keys))

    def erase(self, col: Collection, keys: list[Any], hash_key: bytes) -> int:
        if col.erase == "delete":
            with self.guard():
                return sum(self.client.delete(*chunk) for chunk in batches(keys))
        rows = self.fetch(col, keys)
        return self._write([(r["_key"], masked_changes(col, r, hash_key)) for r in rows])

    def update(self, col: Collection, keys: list[Any], changes: dict[str, Any]) -> int:
        existing = self.fetch(col, keys)  # never create a key the subject did not have
        return self._write([(r["_key"], changes) for r in existing])

    def _write(self, updates: list[tuple[str, dict[str, Any]]]) -> int:
        with self.guard():
            pipe = self.client.pipeline(transaction=True)
            for key, changes in updates:
                gone = [f for f, v in changes.items() if v is None]
                kept = {f: str(v) for f, v in changes.items() if v is not None}
                if gone:
                    pipe.hdel(key, *gone)
                if kept:
                    pipe.hset(key, mapping=kept)
            pipe.execute()
        return sum(1 for _, changes in updates if changes)

    def add_to_set(self, set_key: str, members: list[str]) -> int:
        if not members:
            return 0
        with self.guard():
            return int(self.client.sadd(set_key, *members))

    def members_present(self, set_key: str, members: list[str]) -> int:
        if not members:
            return 0
        with self.guard():
            return sum(bool(x) for x in self.client.smismember(set_key, members))
