"""FOCUS files (CSV, CSV.gz, Parquet) from a local path or S3, as one cost source.

``location`` is a file, a directory (every FOCUS file below it), a glob (``exports/*.parquet``) or
``s3://bucket/prefix`` (every FOCUS object under the prefix). CSV is read as text so that money
keeps every digit (``0.00000080000`` never passes through a float) and the literal ``NULL`` is
null; Parquet keeps its types. Rows are validated per file (:func:`tasks.cost.normalise.normalise`)
and a bad file fails the whole ingestion before anything is written.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from tasks.cost.focus import CostDataError, DataIssue
from tasks.cost.normalise import normalise
from tasks.cost.sources.base import CostChunk, CostSource
from tasks.cost.sources.s3 import default_s3_client, s3_errors
from tasks.errors import NotFoundError

__all__ = ["BATCH_ROWS", "SUFFIXES", "FocusFileSource", "read_focus_batches", "s3_opener"]

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
# Rows per chunk: memory stays bounded by a chunk, not by the file.
BATCH_ROWS = 100_000
_CSV_BLOCK_BYTES = 32 << 20
_NULLS = ["NULL", "null", ""]


class FocusFileSource(CostSource):
    """FOCUS cost files at ``location`` (local path, directory, glob, or ``s3://``).

    Args:
        name: the source name (owner of the rows in the store).
        location: where the files are.
        s3_client: a factory for a boto3 S3 client (from an AwsCredentials block, or the
            environment's default chain when omitted); only called for ``s3://`` locations.
        base_dir: relative local paths resolve against it (the sources file's directory).
    """

    kind = "FOCUS files"

    def __init__(
        self,
        name: str,
        location: str,
        *,
        s3_client: Callable[[], Any] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.location = location
        self._s3_factory = s3_client
        self._base_dir = base_dir

    def fetch(self, start: date, end: date) -> Iterator[CostChunk]:
        """Every file's rows, batch by batch (the ingestion keeps those charged in the period)."""
        return self.read(self.files())

    def read(self, files: list[tuple[str, Callable[[], Any]]]) -> Iterator[CostChunk]:
        """The rows of ``files`` (``(origin, open)`` pairs), prepared, validated and enriched."""
        for origin, opener in files:
            for first_row, raw in read_focus_batches(opener(), origin):
                lines = normalise(self.prepare(raw, origin), origin, first_row=first_row)
                lines, notes = self.enrich(lines)
                yield CostChunk(origin=origin, lines=lines, first_row=first_row, notes=notes)

    def prepare(self, raw: pa.Table, origin: str) -> pa.Table:
        """Adjust a raw batch of ``origin`` before validation (subclasses map or fill it)."""
        return raw

    def enrich(self, lines: pa.Table) -> tuple[pa.Table, tuple[str, ...]]:
        """Complete a validated batch; return it with notes worth reporting."""
        return lines, ()

    def files(self) -> list[tuple[str, Callable[[], Any]]]:
        """The FOCUS files at ``location``, sorted, as ``(origin, open)`` pairs."""
        if self.location.startswith("s3://"):
            return self._s3_files()
        pattern = Path(self.location)
        if not pattern.is_absolute() and self._base_dir is not None:
            pattern = self._base_dir / pattern
        if pattern.is_dir():
            paths = sorted(p for p in pattern.rglob("*") if _supported(p.name))
        elif any(ch in str(pattern) for ch in "*?["):
            paths = sorted(Path(p) for p in glob.glob(str(pattern), recursive=True))
            paths = [p for p in paths if _supported(p.name)]
        elif pattern.is_file():
            paths = [pattern]
        else:
            raise NotFoundError(f"source {self.name!r}: no file or directory at {pattern}")
        if not paths:
            raise NotFoundError(
                f"source {self.name!r}: no FOCUS files ({', '.join(SUFFIXES)}) at {pattern}"
            )
        return [(str(p), _constant(p)) for p in paths]

    def _s3_files(self) -> list[tuple[str, Callable[[], Any]]]:
        bucket, _, prefix = self.location[len("s3://") :].partition("/")
        client = self._s3_factory() if self._s3_factory else default_s3_client()
        keys: list[str] = []
        with s3_errors(self.name, f"list s3://{bucket}/{prefix}"):
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                keys.extend(o["Key"] for o in page.get("Contents", []) if _supported(o["Key"]))
        if not keys:
            raise NotFoundError(f"source {self.name!r}: no FOCUS files under {self.location}")
        return [
            (f"s3://{bucket}/{key}", s3_opener(client, self.name, bucket, key))
            for key in sorted(keys)
        ]


def s3_opener(client: Any, source: str, bucket: str, key: str) -> Callable[[], bytes]:
    """A function that reads ``s3://bucket/key`` whole (errors classified, naming the object)."""

    def read() -> bytes:
        with s3_errors(source, f"get s3://{bucket}/{key}"):
            return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())

    return read


def read_focus_batches(
    data: Path | bytes, origin: str, batch_rows: int = BATCH_ROWS
) -> Iterator[tuple[int, pa.Table]]:
    """Read one FOCUS file (CSV, CSV.gz or Parquet, by ``origin``'s suffix) in batches.

    Yields ``(first data-row number, raw table)``; a file with a header and no rows yields one
    empty table so that its columns are still checked. CSV columns are all text (``NULL`` and
    empty are null); malformed CSV rows (a wrong number of fields) are reported by row.

    Raises:
        CostDataError: the file cannot be parsed.
    """
    lower = origin.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            yield from _parquet_batches(data, batch_rows)
        else:
            yield from _csv_batches(data, origin, gz=lower.endswith(".gz"))
    except CostDataError:
        raise
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CostDataError([DataIssue(origin, None, None, f"cannot read: {reason}")]) from None


def _parquet_batches(data: Path | bytes, batch_rows: int) -> Iterator[tuple[int, pa.Table]]:
    parquet = pq.ParquetFile(pa.BufferReader(data) if isinstance(data, bytes) else data)
    first = 1
    for batch in parquet.iter_batches(batch_size=batch_rows):
        yield first, pa.Table.from_batches([batch])
        first += batch.num_rows
    if first == 1:
        yield 1, parquet.schema_arrow.empty_table()


def _csv_batches(data: Path | bytes, origin: str, *, gz: bool) -> Iterator[tuple[int, pa.Table]]:
    with _open(data, gz) as raw:
        header = next(csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")), [])
    if not header:
        raise CostDataError([DataIssue(origin, None, None, "empty file (no header row)")])
    bad: list[DataIssue] = []

    def on_invalid(row: Any) -> str:
        number = None if row.number is None else row.number - 1  # data rows; the header is 1
        found = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        bad.append(DataIssue(origin, number, None, found))
        return "skip"

    convert = pcsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        null_values=_NULLS,
        strings_can_be_null=True,
    )
    # Single-threaded so that malformed rows come with their row number.
    read = pcsv.ReadOptions(use_threads=False, block_size=_CSV_BLOCK_BYTES)
    parse = pcsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True)
    first = 1
    with _open(data, gz) as raw:
        reader = pcsv.open_csv(raw, read_options=read, parse_options=parse, convert_options=convert)
        for batch in reader:
            if bad:
                raise CostDataError(bad)
            yield first, pa.Table.from_batches([batch])
            first += batch.num_rows
    if bad:
        raise CostDataError(bad)
    if first == 1:
        yield 1, pa.table({name: pa.array([], pa.string()) for name in header})


def _open(data: Path | bytes, gz: bool) -> Any:
    raw: Any = io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb")  # noqa: SIM115
    return gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw


def _constant(path: Path) -> Callable[[], Path]:
    return lambda: path


def _supported(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)
