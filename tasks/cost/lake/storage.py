"""The cost lake's storage: a local directory or S3, partitions switched atomically.

Each partition directory holds Parquet files of one or more *versions* and a manifest,
``_current.json``, naming the files of the current version. Replacing a partition writes the new
version's files beside the old ones (invisible: no manifest names them), then switches the
manifest in one step (a rename on a local disk, a single PUT on S3), then removes the old
version's files. Readers list files through the manifests, so they see the old or the new
version, never a mix; a crash before the switch leaves the old version current (its stray files
are never read); a rerun replaces, never adds.

Two writers replacing one partition at once: the switch is a compare-and-swap
(:mod:`tasks.cost.lake.manifest`: a ``flock`` on a local disk, a conditional ``PutObject`` on
S3), so the second to switch fails with :class:`LakeConflictError` naming the partition (its
files are removed; the first writer's version stays). Files a crashed writer left aside are
removed by the next replace of their partition once old enough (:mod:`tasks.cost.lake.sweep`),
or by :meth:`Lake.vacuum`. Every error names the lake, the partition or the file concerned.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from tasks.cost.lake.layout import LAKE_SCHEMA, PartitionKey
from tasks.cost.lake.manifest import (
    MANIFEST,
    LakeConflictError,
    Manifest,
    switch_local,
    switch_s3,
)
from tasks.cost.lake.sweep import STRAY_AGE, is_lake_file, strays
from tasks.errors import ConfigurationError, PermanentError, ServiceUnavailableError, TraceoError

__all__ = [
    "BUFFERED_ROWS",
    "ROW_GROUP_ROWS",
    "Lake",
    "LakeConflictError",
    "LakeDataError",
    "Manifest",
    "PartitionWriter",
]

log = logging.getLogger(__name__)
# Rows per Parquet row group (at least; a flush writes what its partition buffered).
ROW_GROUP_ROWS = 128 * 1024
# Rows waiting in the buffers of all partitions of one writer together.
BUFFERED_ROWS = ROW_GROUP_ROWS
# Dictionary pages for text only (money and times are mostly distinct: trying a dictionary for
# them is wasted work); statistics for the columns queries filter on (row groups are skipped on
# them; min/max of every text column would cost a fifth of the encoding).
_PARQUET: dict[str, Any] = {
    "use_dictionary": [f.name for f in LAKE_SCHEMA if pa.types.is_string(f.type)],
    "write_statistics": [
        "BillingCurrency",
        "BillingPeriodStart",
        "ChargeCategory",
        "ChargePeriodEnd",
        "ChargePeriodStart",
        "x_Source",
    ],
}


class LakeDataError(PermanentError):
    """A lake file is unreadable (corrupt, truncated) or its columns differ from the lake's."""


class Lake:
    """Cost lines as Parquet under ``root`` on ``filesystem`` (see the module docstring)."""

    def __init__(
        self,
        filesystem: pafs.FileSystem,
        root: str,
        display: str,
        s3_client: Callable[[], Any] | None = None,
    ) -> None:
        """``s3_client``: a boto3 S3 client factory (for the conditional manifest switch); an
        S3 lake cannot be written without one."""
        self.fs = filesystem
        self.root = root.rstrip("/")
        self.display = display
        self._s3_factory = s3_client
        self._s3: Any = None

    @classmethod
    def from_settings(cls) -> Lake:
        """The lake of the ``TRACEO_COST_LAKE_BLOCK`` block, else of ``TRACEO_COST_LAKE``
        (default: ``$TRACEO_HOME/lake``)."""
        from tasks.settings import get_settings

        settings = get_settings()
        if settings.cost_lake_block:
            from blocks.cost_lake import CostLakeLocation

            block = CostLakeLocation.load(settings.cost_lake_block)
            return cast(CostLakeLocation, block).open()
        return cls.at(
            settings.cost_lake or str(settings.home / "lake"), settings.cost_lake_endpoint_url
        )

    @classmethod
    def at(
        cls,
        url: str,
        endpoint_url: str | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        region: str | None = None,
    ) -> Lake:
        """A lake at a directory or ``s3://bucket/prefix`` (``endpoint_url``: S3-compatible;
        without keys, S3 credentials come from the environment, as for boto3)."""
        if not url.startswith("s3://"):
            local = pafs.LocalFileSystem()
            local.create_dir(url, recursive=True)
            return cls(local, url, url)
        bucket_and_prefix = url.removeprefix("s3://").strip("/")
        if not bucket_and_prefix:
            raise ConfigurationError(f"cost lake {url!r} names no bucket")
        options: dict[str, object] = {"region": region} if region else {}
        if endpoint_url:
            scheme, _, host = endpoint_url.partition("://")
            options = {
                "region": "us-east-1",
                **options,
                "endpoint_override": host,
                "scheme": scheme,
            }
        if access_key and secret_key:
            options |= {"access_key": access_key, "secret_key": secret_key}
            options |= {"session_token": session_token} if session_token else {}
        client = {
            "endpoint_url": endpoint_url,
            "region_name": options.get("region"),
            "aws_access_key_id": options.get("access_key"),
            "aws_secret_access_key": options.get("secret_key"),
            "aws_session_token": options.get("session_token"),
        }
        lake = cls(pafs.S3FileSystem(**options), bucket_and_prefix, url, _boto3_s3(client))
        lake._check_bucket(bucket_and_prefix.split("/", 1)[0])
        return lake

    def _check_bucket(self, bucket: str) -> None:
        try:
            info = self.fs.get_file_info(bucket)
        except OSError as exc:
            raise ServiceUnavailableError(f"cost lake {self.display}: {exc}") from None
        if info.type != pafs.FileType.Directory:
            raise ConfigurationError(
                f"cost lake {self.display}: the bucket {bucket!r} does not exist"
            )

    # --- reading -------------------------------------------------------------------------

    def partitions(self, periods: Iterable[str] | None = None) -> list[PartitionKey]:
        """Partitions with a current version (of the given billing periods, else all)."""
        wanted = set(periods) if periods is not None else None
        selector = pafs.FileSelector(self.root, recursive=True, allow_not_found=True)
        keys = []
        for info in self._listing(selector):
            if info.base_name != MANIFEST:
                continue
            key = PartitionKey.from_path(info.path.rsplit("/", 1)[0])
            if key is not None and (wanted is None or key.billing_period in wanted):
                keys.append(key)
        return sorted(keys)

    def manifest(self, key: PartitionKey) -> Manifest | None:
        path = f"{self._dir(key)}/{MANIFEST}"
        try:
            with self.fs.open_input_stream(path) as stream:
                return Manifest.from_json(stream.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            raise LakeDataError(
                f"cost lake {self.display}: {key}: unreadable manifest ({exc})"
            ) from None

    def files(self, keys: Iterable[PartitionKey]) -> list[str]:
        """The current files of ``keys`` (paths on :attr:`fs`)."""
        out = []
        for key in keys:
            manifest = self.manifest(key)
            if manifest is not None:
                out += [f"{self._dir(key)}/{name}" for name in manifest.files]
        return out

    def dataset(self, keys: Iterable[PartitionKey]) -> pads.Dataset:
        """The current files of ``keys`` as one Arrow dataset, every file's columns checked.

        Raises:
            LakeDataError: a file is corrupt or truncated, or its columns drifted (named).
        """
        fragments = []
        files = self.files(keys)
        fmt = pads.ParquetFileFormat()
        for path in files:
            try:
                fragment = fmt.make_fragment(path, filesystem=self.fs)
                schema = fragment.physical_schema
            except (OSError, pa.ArrowException) as exc:
                raise LakeDataError(
                    f"cost lake {self.display}: {self._relative(path)}: unreadable Parquet ({exc})"
                ) from None
            drift = _drift(schema)
            if drift:
                raise LakeDataError(
                    f"cost lake {self.display}: {self._relative(path)}: columns differ from "
                    f"the lake's: {drift}"
                )
            fragments.append(fragment)
        return pads.FileSystemDataset(fragments, LAKE_SCHEMA, fmt, self.fs)

    def read(self, keys: Iterable[PartitionKey], keep: pads.Expression | None = None) -> pa.Table:
        """The current rows of ``keys`` (those matching ``keep``)."""
        with self._reading():
            return self.dataset(keys).to_table(filter=keep)

    def batches(
        self, keys: Iterable[PartitionKey], keep: pads.Expression | None = None
    ) -> Iterator[pa.Table]:
        """:meth:`read`, a row group at a time (memory bounded by one)."""
        with self._reading():
            for batch in self.dataset(keys).to_batches(filter=keep):
                yield pa.Table.from_batches([batch])

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except (OSError, pa.ArrowException) as exc:
            raise LakeDataError(f"cost lake {self.display}: {exc}") from None

    # --- writing -------------------------------------------------------------------------

    def writer(self) -> PartitionWriter:
        return PartitionWriter(self)

    def _dir(self, key: PartitionKey) -> str:
        return f"{self.root}/{key.path}"

    def _relative(self, path: str) -> str:
        return path.removeprefix(self.root).lstrip("/")

    def _listing(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        try:
            return list(self.fs.get_file_info(selector))
        except OSError as exc:
            raise ServiceUnavailableError(f"cost lake {self.display}: {exc}") from None

    def _switch(self, key: PartitionKey, expected: Manifest | None, new: Manifest) -> None:
        """Make ``new`` the partition's current version, if ``expected`` still is."""
        where = f"cost lake {self.display}: {key}"
        if isinstance(self.fs, pafs.LocalFileSystem):
            switch_local(self._dir(key), expected, new, where)
            return
        if self._s3_factory is None:
            raise ConfigurationError(f"{where}: no S3 client to switch the manifest with")
        if self._s3 is None:
            self._s3 = self._s3_factory()
        switch_s3(self._s3, f"{self._dir(key)}/{MANIFEST}", expected, new, where)

    # --- stray files ---------------------------------------------------------------------

    def sweep(self, key: PartitionKey, older_than: timedelta = STRAY_AGE) -> list[str]:
        """Remove ``key``'s stray files (:mod:`tasks.cost.lake.sweep`) older than ``older_than``;
        return their paths relative to the lake."""
        cutoff = datetime.now(UTC) - older_than
        selector = pafs.FileSelector(self._dir(key), allow_not_found=True)
        found = strays(self._listing(selector), self.manifest(key), cutoff)
        self._remove(found)
        return [self._relative(path) for path in found]

    def vacuum(self, older_than: timedelta = STRAY_AGE) -> list[str]:
        """:meth:`sweep` every partition folder of the lake (those without a manifest too)."""
        selector = pafs.FileSelector(self.root, recursive=True, allow_not_found=True)
        keys = {
            key
            for info in self._listing(selector)
            if is_lake_file(info.base_name)
            and (key := PartitionKey.from_path(info.path.rsplit("/", 1)[0])) is not None
        }
        return [path for key in sorted(keys) for path in self.sweep(key, older_than)]

    def _remove(self, paths: Iterable[str]) -> None:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                self.fs.delete_file(path)


class PartitionWriter:
    """Writes one new version of some partitions aside; :meth:`commit` switches each of them.

    ``with lake.writer() as w: w.write(key, rows); ...; w.commit(keep)`` -- leaving the block
    without committing removes the files written.

    Rows are buffered per partition until a row group's worth (:data:`ROW_GROUP_ROWS`), so the
    small pieces a chunk splits into make one row group, not many tiny ones; at most
    :data:`BUFFERED_ROWS` rows wait in all buffers together (memory stays bounded). Parquet
    encoding runs on one background thread (Arrow releases the GIL), overlapping the caller's
    work on the next chunk; one row group at a time.
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.version = uuid.uuid4().hex
        self._writers: dict[PartitionKey, pq.ParquetWriter] = {}
        self._paths: dict[PartitionKey, list[str]] = {}
        self._sources: dict[PartitionKey, dict[str, int]] = {}
        self._before: dict[PartitionKey, Manifest | None] = {}
        self._buffers: dict[PartitionKey, list[pa.Table]] = {}
        self._buffered: dict[PartitionKey, int] = {}
        self._encoder: ThreadPoolExecutor | None = None
        self._encoding: Future[None] | None = None  # the row group being encoded
        self._committed = False

    def touch(self, key: PartitionKey) -> None:
        """Take part in the commit even without new rows (the partition may be emptied)."""
        if key not in self._before:
            self._before[key] = self.lake.manifest(key)
            self._paths[key] = []
            self._sources[key] = {}

    def write(self, key: PartitionKey, rows: pa.Table) -> None:
        """Append lake rows (:data:`LAKE_SCHEMA`) to ``key``'s new version."""
        if rows.num_rows == 0:
            return
        rows = rows.select(LAKE_SCHEMA.names).cast(LAKE_SCHEMA)
        self.touch(key)
        counts = self._sources[key]
        for value in pc.value_counts(rows["x_Source"]).to_pylist():
            counts[value["values"]] = counts.get(value["values"], 0) + value["counts"]
        self._buffers.setdefault(key, []).append(rows)
        self._buffered[key] = self._buffered.get(key, 0) + rows.num_rows
        if self._buffered[key] >= ROW_GROUP_ROWS:
            self._flush(key)
        while sum(self._buffered.values()) > BUFFERED_ROWS:
            self._flush(max(self._buffered, key=self._buffered.__getitem__))

    @property
    def keys(self) -> list[PartitionKey]:
        return sorted(self._before)

    def commit(self, keep: pads.Expression | None) -> dict[PartitionKey, Manifest | None]:
        """Carry over the old rows matching ``keep``, then switch every partition in turn.

        Returns the replaced manifests. Each partition switches atomically; partitions switch
        one after the other.
        """
        for key in self.keys:
            if self._before[key] is not None and keep is not None:
                for rows in self.lake.batches([key], keep):
                    self.write(key, rows)
        for key in list(self._buffers):
            self._flush(key)
        self._close()
        for key in self.keys:
            names = tuple(p.rsplit("/", 1)[1] for p in self._paths[key])
            self.lake._switch(
                key, self._before[key], Manifest(self.version, names, self._sources[key])
            )
            self._paths[key] = []  # now owned by the manifest
        self._committed = True
        for key, old in self._before.items():
            if old is not None:
                self.lake._remove(f"{self.lake._dir(key)}/{n}" for n in old.files)
            self._sweep(key)
        return dict(self._before)

    def _sweep(self, key: PartitionKey) -> None:
        """Remove what crashed writers left in ``key``, once surely not in flight; best effort:
        the replace has succeeded already, and ``traceo cost lake vacuum`` can finish this."""
        try:
            self.lake.sweep(key)
        except (TraceoError, OSError) as exc:
            log.warning("Stray files of %s not swept (%s)", key, type(exc).__name__)

    def abort(self) -> None:
        self._buffers.clear()
        self._buffered.clear()
        with contextlib.suppress(Exception):  # the files go anyway; the caller's error matters
            self._close()
        self._writers.clear()
        self.lake._remove(p for paths in self._paths.values() for p in paths)

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed:
            self.abort()

    def _flush(self, key: PartitionKey) -> None:
        """Hand ``key``'s buffered rows to the encoder thread as one row group."""
        rows = pa.concat_tables(self._buffers.pop(key))
        del self._buffered[key]
        writer = self._writers.get(key)
        if writer is None:
            path = f"{self.lake._dir(key)}/part-{self.version}-0.parquet"
            if isinstance(self.lake.fs, pafs.LocalFileSystem):  # S3 has no directories
                self.lake.fs.create_dir(self.lake._dir(key), recursive=True)
            writer = pq.ParquetWriter(path, LAKE_SCHEMA, filesystem=self.lake.fs, **_PARQUET)
            self._writers[key] = writer
            self._paths[key].append(path)
        if self._encoder is None:
            self._encoder = ThreadPoolExecutor(1, thread_name_prefix="lake-encoder")
        self._wait()  # back-pressure, and the previous row group's error, if any
        self._encoding = self._encoder.submit(writer.write_table, rows, rows.num_rows)

    def _wait(self) -> None:
        encoding, self._encoding = self._encoding, None
        if encoding is not None:
            encoding.result()

    def _close(self) -> None:
        """Wait for the encoder, then close every file (raising the first error met)."""
        try:
            self._wait()
        finally:
            if self._encoder is not None:
                self._encoder.shutdown(cancel_futures=True)
                self._encoder = None
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()


def _drift(schema: pa.Schema) -> str:
    """What differs between a file's columns and the lake's (empty when nothing does)."""
    problems = []
    for name in schema.names:
        if name not in LAKE_SCHEMA.names:
            problems.append(f"unexpected column {name}")
        elif not schema.field(name).type.equals(LAKE_SCHEMA.field(name).type):
            problems.append(
                f"{name} is {schema.field(name).type}, not {LAKE_SCHEMA.field(name).type}"
            )
    problems += [f"missing column {n}" for n in LAKE_SCHEMA.names if n not in schema.names]
    return "; ".join(problems)


def _boto3_s3(params: dict[str, Any]) -> Callable[[], Any]:
    def make() -> Any:
        import boto3

        return boto3.client("s3", **{k: v for k, v in params.items() if v is not None})

    return make
