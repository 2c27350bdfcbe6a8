"""The packed form of an hour of raw check results (one check, one region), and its columns.

Format version 1, the bytes of ``check_packed_hours.raw``::

    byte 0     the version, 1
    bytes 1..  a zlib stream of: the header's length (u32, little-endian), the header (UTF-8
               JSON), then the columns, back to back

The header is ``{"n": rows, "dicts": {field: [distinct values]}, "widths": {field: bytes}}``.
Rows are ordered by start, then slot. Every column is little-endian and byte-shuffled (byte 0 of
every value, then byte 1, ...), so the high bytes that near values share compress away:

    started    u32   microseconds since the previous row's start (the first row: since the hour)
    lag        i64   microseconds from the slot to the start (``started_at - scheduled_at``)
    duration   f64   ``duration_ms``, NaN where the probe made no request
    codes      u1, u2 or u4 (the header's width), one column per field of :data:`DICT_FIELDS`
               in that order: the index of the row's value in the header's list for that field

The dictionary fields hold one value for most of an hour (a verdict, a status code, an empty
``detail``), so their codes compress to almost nothing and a rare error is stored once. Values
are JSON as the store returns them; ``cert_expires_at`` is epoch microseconds, ``None`` is null.
zlib (the standard library) rather than zstandard: the store's role does not install zstandard.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

__all__ = [
    "DICT_FIELDS",
    "FORMAT_VERSION",
    "PackedColumns",
    "decode_hour",
    "decode_starts",
    "encode_hour",
    "from_micros",
    "object_array",
    "to_micros",
]

FORMAT_VERSION = 1
DICT_FIELDS = (
    "verdict",
    "status_code",
    "attempts",
    "simulated",
    "failing_step",
    "error",
    "detail",
    "cert_expires_at",
    "flow_run_id",
)
_HOUR_US = 3600 * 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_WIDTHS: dict[int, np.dtype[Any]] = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
_STARTED, _LAG, _DURATION = np.dtype("<u4"), np.dtype("<i8"), np.dtype("<f8")
_LENGTH = struct.Struct("<I")


def to_micros(at: datetime) -> int:
    """Epoch microseconds of a timezone-aware datetime (exact)."""
    return (at - _EPOCH) // _ONE_US


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


@dataclass(frozen=True)
class PackedColumns:
    """Raw results of one check and region as columns (``values`` by field of DICT_FIELDS)."""

    scheduled_us: np.ndarray
    started_us: np.ndarray
    duration_ms: np.ndarray
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.started_us)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> PackedColumns:
        """Columns of store rows (``scheduled_at``, ``started_at``, ``duration_ms`` and the
        dictionary fields)."""
        duration = [np.nan if r["duration_ms"] is None else r["duration_ms"] for r in rows]
        return cls(
            scheduled_us=np.array([to_micros(r["scheduled_at"]) for r in rows], dtype=np.int64),
            started_us=np.array([to_micros(r["started_at"]) for r in rows], dtype=np.int64),
            duration_ms=np.array(duration, dtype=np.float64),
            values={f: object_array([r[f] for r in rows]) for f in DICT_FIELDS},
        )

    def take(self, index: np.ndarray) -> PackedColumns:
        """The rows at ``index`` (positions or a boolean mask)."""
        return PackedColumns(
            self.scheduled_us[index],
            self.started_us[index],
            self.duration_ms[index],
            {f: v[index] for f, v in self.values.items()},
        )

    @classmethod
    def concat(cls, parts: Sequence[PackedColumns]) -> PackedColumns:
        return cls(
            np.concatenate([p.scheduled_us for p in parts]).astype(np.int64),
            np.concatenate([p.started_us for p in parts]).astype(np.int64),
            np.concatenate([p.duration_ms for p in parts]).astype(np.float64),
            {f: object_array([v for p in parts for v in p.values[f]]) for f in DICT_FIELDS},
        )

    def rows(self) -> list[dict[str, Any]]:
        """The store rows (datetimes, ``None`` where no duration), as :meth:`from_rows` takes."""
        out = []
        for i in range(len(self)):
            ms = float(self.duration_ms[i])
            row: dict[str, Any] = {f: v[i] for f, v in self.values.items()}
            row.update(
                scheduled_at=from_micros(int(self.scheduled_us[i])),
                started_at=from_micros(int(self.started_us[i])),
                duration_ms=None if np.isnan(ms) else ms,
            )
            out.append(row)
        return out


def object_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-d object array of ``values`` (a dict or a list stays one element)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # element-wise: a dict or list must stay one element
        out[i] = value
    return out


def _shuffled(values: np.ndarray, dtype: np.dtype[Any]) -> bytes:
    data = np.ascontiguousarray(values, dtype=dtype)
    return data.view(np.uint8).reshape(len(data), dtype.itemsize).T.tobytes()


def _unshuffled(body: bytes, at: int, n: int, dtype: np.dtype[Any]) -> tuple[np.ndarray, int]:
    end = at + n * dtype.itemsize
    grid = np.frombuffer(body[at:end], dtype=np.uint8).reshape(dtype.itemsize, n)
    return np.ascontiguousarray(grid.T).view(dtype).reshape(n), end


def _to_json(field: str, value: Any) -> Any:
    if field == "cert_expires_at" and value is not None:
        return to_micros(value)
    if field == "simulated":
        return bool(value)
    return value


def _from_json(field: str, value: Any) -> Any:
    if field == "cert_expires_at" and value is not None:
        return from_micros(value)
    return value


_SCALARS = (str, int, bool, type(None))


def _dictionary_key(value: Any) -> Hashable:
    """A key equal for two values exactly when their JSON is: a value of an hour's dictionary is
    looked up once per result, and JSON-encoding every one was most of a compaction's time.

    Types are part of the key (``True == 1`` in Python, not in JSON); floats go by ``repr``
    (``0.0 == -0.0``); a flat object of such values keys by its sorted items; anything else by
    its JSON text.
    """
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if kind is float:
        return (kind, repr(value))
    if kind is dict and all(type(k) is str and type(v) in _SCALARS for k, v in value.items()):
        return (kind, tuple(sorted((k, type(v), v) for k, v in value.items())))
    return (object, json.dumps(value, sort_keys=True))


def encode_hour(hour_start: int, columns: PackedColumns) -> bytes:
    """The packed bytes of ``columns``, results that all started in the hour at ``hour_start``.

    Raises:
        ValueError: a result did not start in that hour (named by its start).
    """
    base = hour_start * 1_000_000
    outside = (columns.started_us < base) | (columns.started_us >= base + _HOUR_US)
    if outside.any():
        at = from_micros(int(columns.started_us[outside][0]))
        raise ValueError(f"result started at {at.isoformat()} is not in the hour {hour_start}")
    order = np.lexsort((columns.scheduled_us, columns.started_us))
    started = columns.started_us[order]
    header: dict[str, Any] = {"n": len(order), "dicts": {}, "widths": {}}
    parts = [
        _shuffled(np.diff(started, prepend=base), _STARTED),
        _shuffled(started - columns.scheduled_us[order], _LAG),
        _shuffled(columns.duration_ms[order], _DURATION),
    ]
    for field in DICT_FIELDS:
        keys: dict[Hashable, int] = {}
        distinct: list[Any] = []
        codes = np.empty(len(order), dtype=np.int64)
        for i, value in enumerate(columns.values[field][order]):
            plain = _to_json(field, value)
            key = _dictionary_key(plain)
            code = keys.get(key)
            if code is None:
                code = keys[key] = len(distinct)
                distinct.append(plain)
            codes[i] = code
        width = 1 if len(distinct) <= 0xFF else 2 if len(distinct) <= 0xFFFF else 4
        header["dicts"][field] = distinct
        header["widths"][field] = width
        parts.append(_shuffled(codes, _WIDTHS[width]))
    head = json.dumps(header, separators=(",", ":")).encode()
    body = b"".join([_LENGTH.pack(len(head)), head, *parts])
    return bytes([FORMAT_VERSION]) + zlib.compress(body, 6)


def decode_hour(hour_start: int, payload: bytes) -> PackedColumns:
    """The columns packed by :func:`encode_hour` (rows ordered by start, then slot).

    Raises:
        ValueError: the payload is of an unknown format version or damaged.
    """
    body, header, at = _opened(hour_start, payload)
    n = int(header["n"])
    deltas, at = _unshuffled(body, at, n, _STARTED)
    lag, at = _unshuffled(body, at, n, _LAG)
    duration, at = _unshuffled(body, at, n, _DURATION)
    started = hour_start * 1_000_000 + np.cumsum(deltas.astype(np.int64))
    values = {}
    for field in DICT_FIELDS:
        codes, at = _unshuffled(body, at, n, _WIDTHS[header["widths"][field]])
        table = object_array([_from_json(field, v) for v in header["dicts"][field]])
        values[field] = table[codes.astype(np.int64)] if n else object_array([])
    return PackedColumns(started - lag, started, duration, values)


def decode_starts(hour_start: int, payload: bytes) -> np.ndarray:
    """Only the starts (epoch microseconds, ascending) of the results packed by
    :func:`encode_hour`: the first column, no other decoded.

    Raises:
        ValueError: the payload is of an unknown format version or damaged.
    """
    body, header, at = _opened(hour_start, payload)
    deltas, _ = _unshuffled(body, at, int(header["n"]), _STARTED)
    return hour_start * 1_000_000 + np.cumsum(deltas.astype(np.int64))


def _opened(hour_start: int, payload: bytes) -> tuple[bytes, dict[str, Any], int]:
    """The decompressed body, its header and where the columns start."""
    if not payload or payload[0] != FORMAT_VERSION:
        version = payload[0] if payload else None
        raise ValueError(f"packed hour {hour_start}: unknown format version {version}")
    try:
        body = zlib.decompress(payload[1:])
        (length,) = _LENGTH.unpack_from(body)
        header = json.loads(body[_LENGTH.size : _LENGTH.size + length])
    except (zlib.error, struct.error, ValueError) as exc:
        raise ValueError(f"packed hour {hour_start} is damaged: {exc}") from None
    return body, header, _LENGTH.size + length
