"""AWS Data Exports read in place from S3: the standard export (CUR 2.0) or a FOCUS 1.x export.

An export named ``my-export`` with the S3 prefix ``finops`` is delivered as::

    s3://bucket/finops/my-export/data/BILLING_PERIOD=2024-09/...parquet
    s3://bucket/finops/my-export/metadata/BILLING_PERIOD=2024-09/my-export-Manifest.json

AWS refreshes a billing period's delivery at least daily and writes the period's
``Manifest.json`` only once all of a delivery's files are in place; its ``dataFiles`` list the
full ``s3://`` URIs of that delivery, and AWS recommends reading exactly that list. So for each
billing period of the requested range this source reads the period's newest manifest (an export
that creates new versions leaves one per delivery) and then only the files it names: a
re-delivery *replaces* the period, files of older deliveries still in the bucket are never read
again. Only the requested periods' objects are listed or read.

CUR 2.0 rows are mapped to FOCUS columns by :mod:`tasks.cost.sources.cur2`; a FOCUS export's
rows are read as they are. Either way they are validated like any FOCUS file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from typing import Any, Literal

import pyarrow as pa

from tasks.cost.focus import CostDataError, DataIssue
from tasks.cost.lake.layout import months
from tasks.cost.sources.base import CostChunk
from tasks.cost.sources.cur2 import cur2_to_focus
from tasks.cost.sources.focus_files import FocusFileSource, s3_opener
from tasks.cost.sources.s3 import default_s3_client, s3_errors
from tasks.errors import ConfigurationError, NotFoundError

__all__ = ["DataExportSource", "ExportTable"]

ExportTable = Literal["cur2", "focus"]
_MANIFEST_SUFFIX = "-Manifest.json"


class DataExportSource(FocusFileSource):
    """One AWS Data Export at ``s3://bucket/prefix/export-name``, read in place.

    Args:
        name: the source name (owner of the rows in the lake).
        location: the export's folder, ``s3://bucket/prefix/export-name`` (holding ``data/``
            and ``metadata/``).
        table: ``cur2`` (the standard export, CUR 2.0 columns) or ``focus`` (a FOCUS 1.x export).
        s3_client: a factory for a boto3 S3 client (default: the environment's chain).
    """

    kind = "AWS Data Exports"

    def __init__(
        self,
        name: str,
        location: str,
        *,
        table: ExportTable = "cur2",
        s3_client: Callable[[], Any] | None = None,
    ) -> None:
        if not location.startswith("s3://") or "/" not in location[len("s3://") :].strip("/"):
            raise ConfigurationError(
                f"source {name!r}: location {location!r} is not s3://bucket/prefix/export-name"
            )
        super().__init__(name, location.rstrip("/"), s3_client=s3_client)
        self.table = table

    def fetch(self, start: date, end: date) -> Iterator[CostChunk]:
        """The rows of each billing period's current delivery (its manifest's files)."""
        client = self._s3_factory() if self._s3_factory else default_s3_client()
        periods = months(datetime.combine(start, time()), datetime.combine(end, time()))
        files = [file for period in periods for file in self.delivery(client, period)]
        if not files:
            raise NotFoundError(
                f"source {self.name!r}: no delivery of {self.location} for "
                f"{', '.join(periods)} (no *{_MANIFEST_SUFFIX} under metadata/BILLING_PERIOD=...)"
            )
        return self.read(files)

    def delivery(self, client: Any, period: str) -> list[tuple[str, Callable[[], Any]]]:
        """The files of ``period``'s newest delivery as ``(origin, open)`` pairs (none: [])."""
        bucket, _, prefix = self.location[len("s3://") :].partition("/")
        folder = f"{prefix}/metadata/BILLING_PERIOD={period}/"
        manifests: list[dict[str, Any]] = []
        with s3_errors(self.name, f"list s3://{bucket}/{folder}"):
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=folder
            ):
                manifests += [
                    o for o in page.get("Contents", []) if o["Key"].endswith(_MANIFEST_SUFFIX)
                ]
        if not manifests:
            return []
        newest = max(manifests, key=lambda o: (o["LastModified"], o["Key"]))["Key"]
        origin = f"s3://{bucket}/{newest}"
        return [
            (uri, s3_opener(client, self.name, *_split(uri)))
            for uri in _data_files(s3_opener(client, self.name, bucket, newest)(), origin)
        ]

    def prepare(self, raw: pa.Table, origin: str) -> pa.Table:
        """CUR 2.0 columns become FOCUS columns; a FOCUS export's are kept."""
        return cur2_to_focus(raw, origin) if self.table == "cur2" else raw


def _data_files(body: bytes, origin: str) -> list[str]:
    """The ``dataFiles`` a Data Exports manifest lists (``s3://`` URIs), or a named error."""
    try:
        files = json.loads(body).get("dataFiles")
    except (ValueError, AttributeError):
        files = None
    if not isinstance(files, list) or not all(
        isinstance(f, str) and f.startswith("s3://") and "/" in f[5:] for f in files
    ):
        reason = "not a Data Exports manifest (a list of s3:// URIs)"
        raise CostDataError([DataIssue(origin, None, "dataFiles", reason)])
    return sorted(files)


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key
