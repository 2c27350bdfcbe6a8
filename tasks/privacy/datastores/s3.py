"""S3 datastores: objects under a prefix holding records as JSON (an array or JSON lines) or CSV.

S3 has no index, so every lookup reads the collection's objects; erasure rewrites each object
that held the subject's records (without them, or with their fields masked) and leaves the
others untouched. Rows carry the object they came from in ``_object``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ConnectionError as BotoConnectionError  # type: ignore[import-untyped]
from botocore.exceptions import EndpointConnectionError

from tasks.privacy.datamap import Collection
from tasks.privacy.datastores.base import Datastore, Row, masked_changes

__all__ = ["S3Datastore"]


class _Object:
    def __init__(self, key: str, records: list[Row], lines: bool, header: list[str]) -> None:
        self.key, self.records, self.lines, self.header = key, records, lines, header


class S3Datastore(Datastore):
    transient = (EndpointConnectionError, BotoConnectionError, ConnectionError, TimeoutError)

    def __init__(self, name: str, client: Any, bucket: str) -> None:
        super().__init__(name, client)
        self.bucket = bucket

    def _objects(self, col: Collection) -> list[_Object]:
        assert col.prefix is not None
        objects = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=col.prefix):
            for item in page.get("Contents", []):
                body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                objects.append(self._parse(item["Key"], body.decode("utf-8"), col.format))
        return objects

    @staticmethod
    def _parse(key: str, text: str, fmt: str) -> _Object:
        if fmt == "csv":
            reader = csv.DictReader(io.StringIO(text))
            records = [dict(r) for r in reader]
            return _Object(key, records, False, list(reader.fieldnames or []))
        stripped = text.lstrip()
        if stripped.startswith("["):
            return _Object(key, json.loads(stripped), False, [])
        return _Object(
            key, [json.loads(line) for line in text.splitlines() if line.strip()], True, []
        )

    def _put(self, obj: _Object, fmt: str) -> None:
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=obj.header, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in obj.records)
            body = out.getvalue()
        elif obj.lines:
            body = "".join(json.dumps(r, default=str) + "\n" for r in obj.records)
        else:
            body = json.dumps(obj.records, default=str)
        self.client.put_object(Bucket=self.bucket, Key=obj.key, Body=body.encode("utf-8"))

    def _matching(self, col: Collection, predicate: Callable[[Row], bool]) -> list[Row]:
        return [
            {**r, "_object": obj.key}
            for obj in self._objects(col)
            for r in obj.records
            if predicate(r)
        ]

    def _rewrite(self, col: Collection, change: Callable[[Row], Row | bool | None]) -> int:
        """Rewrite objects through ``change`` (a new record, None to drop, False to keep)."""
        touched = 0
        for obj in self._objects(col):
            kept, changed = [], 0
            for record in obj.records:
                result = change(record)
                if result is False:
                    kept.append(record)
                    continue
                changed += 1
                if isinstance(result, dict):
                    kept.append(result)
            if changed:
                obj.records = kept
                self._put(obj, col.format)
                touched += changed
        return touched

    def _pk(self, col: Collection, row: Row) -> tuple[str, ...]:
        return tuple(str(row.get(f)) for f in col.primary_key)

    def find(self, col: Collection, field: str, values: Iterable[Any]) -> list[Row]:
        wanted = {str(v) for v in values if v is not None}
        with self.guard():
            return self._matching(col, lambda r: str(r.get(field)) in wanted)

    def key_of(self, col: Collection, row: Row) -> Any:
        return list(self._pk(col, row))

    def fetch(self, col: Collection, keys: list[Any]) -> list[Row]:
        wanted = {tuple(str(v) for v in k) for k in keys}
        with self.guard():
            return self._matching(col, lambda r: self._pk(col, r) in wanted)

    def erase(self, col: Collection, keys: list[Any], hash_key: bytes) -> int:
        wanted = {tuple(str(v) for v in k) for k in keys}

        def change(record: Row) -> Row | bool | None:
            if self._pk(col, record) not in wanted:
                return False
            return (
                None
                if col.erase == "delete"
                else {**record, **masked_changes(col, record, hash_key)}
            )

        with self.guard():
            return self._rewrite(col, change)

    def update(self, col: Collection, keys: list[Any], changes: dict[str, Any]) -> int:
        wanted = {tuple(str(v) for v in k) for k in keys}
        with self.guard():
            return self._rewrite(
                col, lambda r: {**r, **changes} if self._pk(col, r) in wanted else False
            )

    def purge_older(
        self, col: Collection, cutoff: datetime, region: str | None, all_regions: bool
    ) -> int:
        assert col.timestamp_field is not None
        stamp_field, region_field = col.timestamp_field, col.region_field

        def change(record: Row) -> Row | bool | None:
            if region_field and not all_regions and record.get(region_field) != region:
                return False
            stamp = _parse_time(record.get(stamp_field))
            return None if stamp is not None and stamp < cutoff else False

        with self.guard():
            return self._rewrite(col, change)


def _parse_time(value: Any) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
