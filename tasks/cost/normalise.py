"""Turn a raw cost table (CSV text, typed Parquet, mapped API rows) into the FOCUS store schema.

:func:`normalise` converts column by column with Arrow compute (vectorised: a million rows take
about a second), collects every problem as a :class:`~tasks.cost.focus.DataIssue` naming the file,
the 1-based data row (header excluded) and the column, and raises one
:class:`~tasks.cost.focus.CostDataError` if anything is wrong, before anything is written.

Columns that are not FOCUS (an ``Id``, ``x_`` custom columns) are kept as one JSON object per row
in ``extra``; FOCUS columns a file does not have are null.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tasks.cost.focus import (
    CHARGE_CATEGORIES,
    COLUMNS,
    COLUMNS_BY_NAME,
    DECIMAL,
    MANDATORY,
    REQUIRED_VALUES,
    STORE_SCHEMA,
    TIMESTAMP,
    CostDataError,
    DataIssue,
    FocusColumn,
    find_column,
)

__all__ = ["currency_conflicts", "normalise"]

_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_ISO = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
_HAS_ZONE = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"
_CURRENCY = r"^[A-Z]{3}$"
_WIDE = pa.decimal256(76, 30)
_ROWS_LISTED = 3


class _Issues:
    """Collects problems for one input; each column problem lists a few rows, then counts."""

    def __init__(self, origin: str, first_row: int) -> None:
        self.origin = origin
        self.first_row = first_row
        self.items: list[DataIssue] = []

    def add(self, column: str | None, reason: str, row: int | None = None) -> None:
        self.items.append(DataIssue(self.origin, row, column, reason))

    def rows(self, column: str, mask: pa.Array | pa.ChunkedArray, reason: Any) -> None:
        """Report the rows where ``mask`` is true; ``reason(index)`` describes one of them."""
        where = np.flatnonzero(_bool_numpy(mask))
        for index in where[:_ROWS_LISTED]:
            self.add(column, reason(int(index)), self.first_row + int(index))
        if len(where) > _ROWS_LISTED:
            self.add(column, f"{len(where) - _ROWS_LISTED} more row(s) with the same problem")


def normalise(
    raw: pa.Table, origin: str, *, first_row: int = 1, estimated: bool | pa.Array = False
) -> pa.Table:
    """Validate ``raw`` and return it in :data:`~tasks.cost.focus.STORE_SCHEMA`.

    Args:
        raw: the input columns under their file headers (FOCUS names, any case, or snake_case).
        origin: where the rows come from (a path, an ``s3://`` URI, an API request), for errors.
        first_row: the data-row number of ``raw``'s first row (when a file is read in batches).
        estimated: whether the rows are provisional (a scalar, or one boolean per row).

    Raises:
        CostDataError: listing every problem (missing mandatory column, non-numeric cost,
            unparseable date, bad currency, a currency mix within one billing account, ...).
    """
    issues = _Issues(origin, first_row)
    headers: dict[str, str] = {}
    extras: list[str] = []
    for header in raw.column_names:
        column = find_column(header)
        if column is None or column.name in headers:
            extras.append(header)
        else:
            headers[column.name] = header
    missing = [name for name in MANDATORY if name not in headers]
    if missing:
        raise CostDataError(
            [DataIssue(origin, None, name, "mandatory FOCUS column missing") for name in missing]
        )
    rows = raw.num_rows
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    for column in COLUMNS:
        if column.name in headers:
            arrays[column.db] = _convert(column, raw.column(headers[column.name]), issues)
        else:
            arrays[column.db] = pa.nulls(rows, STORE_SCHEMA.field(column.db).type)
    if not issues.items:
        _check_values(arrays, issues)
    if not issues.items:
        table = pa.table({k: arrays[k] for k in ("billing_account_id", "billing_currency")})
        issues.items.extend(currency_conflicts(table, origin, {}, first_row))
    if issues.items:
        raise CostDataError(issues.items)
    flags = estimated if isinstance(estimated, pa.Array) else pa.repeat(estimated, rows)
    arrays["estimated"] = flags.cast(pa.bool_())
    arrays["extra"] = _extras(raw, extras)
    return pa.table(arrays, schema=STORE_SCHEMA)


def currency_conflicts(
    table: pa.Table, origin: str, known: dict[str, tuple[str, str]], first_row: int = 1
) -> list[DataIssue]:
    """Rows whose billing account already bills in another currency (one account, one currency).

    ``known`` maps a billing account to its currency and where that was first seen; it is updated,
    so the same dict checks several files of one ingestion against each other.
    """
    pairs = pa.table(
        {
            "a": table["billing_account_id"],
            "c": table["billing_currency"],
            "i": pa.array(np.arange(table.num_rows, dtype=np.int64)),
        }
    )
    firsts = pairs.group_by(["a", "c"]).aggregate([("i", "min")]).sort_by("i_min").to_pylist()
    found: list[DataIssue] = []
    for first in firsts:  # in file order: the first currency wins
        account, currency, row = first["a"], first["c"], first_row + first["i_min"]
        seen = known.setdefault(account, (currency, f"{origin} row {row}"))
        if seen[0] != currency:
            reason = (
                f"billing account {account!r} mixes currencies: {currency!r} here, "
                f"{seen[0]!r} at {seen[1]}"
            )
            found.append(DataIssue(origin, row, "BillingCurrency", reason))
    return found


def _convert(column: FocusColumn, values: pa.ChunkedArray, issues: _Issues) -> Any:
    if pa.types.is_dictionary(values.type):
        # Exports dictionary-encode their repetitive columns: convert each distinct value once.
        # A problem among them (maybe in a value no row uses) is located row by row instead.
        encoded = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        found = _Issues(issues.origin, issues.first_row)
        distinct = _convert(column, pa.chunked_array([encoded.dictionary]), found)
        if not found.items:
            return pc.take(distinct, encoded.indices)
        values = values.cast(values.type.value_type)
    if column.kind == "decimal":
        return _to_decimal(column.name, values, issues)
    if column.kind == "datetime":
        return _to_timestamp(column.name, values, issues)
    if column.kind == "json":
        return _to_json(column.name, values, issues)
    out = values.cast(pa.string())
    if column.max_length:
        too_long = pc.greater(pc.utf8_length(out), column.max_length)
        issues.rows(column.name, too_long, lambda _i: f"longer than {column.max_length} characters")
    return out


def _to_decimal(name: str, values: pa.ChunkedArray, issues: _Issues) -> Any:
    kind = values.type
    if pa.types.is_decimal(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind):
        return _rounded(name, values, issues)
    if pa.types.is_floating(kind):
        finite = pc.is_finite(values)
        issues.rows(name, pc.invert(finite), lambda i: f"not a finite number: {values[i]}")
        # The shortest text of a double is the decimal it was written from (0.1, not 0.1000..055).
        values = pc.if_else(finite, values, None).cast(pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        issues.add(name, f"unsupported type {kind} for a number")
        return pa.nulls(len(values), DECIMAL)
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    text = pc.if_else(pc.equal(text, ""), None, text)
    bad = pc.invert(pc.fill_null(pc.match_substring_regex(text, _NUMBER), True))
    issues.rows(name, bad, lambda i: f"not a number: {_quote(text[i])}")
    if pc.any(bad).as_py():
        return pa.nulls(len(values), DECIMAL)
    return _rounded(name, text, issues)


def _rounded(name: str, values: Any, issues: _Issues) -> Any:
    """Cast to ``decimal(38, 12)``, rounding half-even beyond 12 decimals (sub-nano amounts)."""
    try:
        return values.cast(DECIMAL)
    except pa.ArrowInvalid:
        pass
    try:
        wide = values.cast(_WIDE)
        return pc.round(wide, ndigits=DECIMAL.scale, round_mode="half_to_even").cast(DECIMAL)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for index, value in enumerate(values.to_pylist()):
            if value is not None and not _fits(str(value)):
                issues.add(name, f"number out of range: {_quote(value)}", issues.first_row + index)
                break
        else:
            issues.add(name, "numbers out of range for decimal(38, 12)")
        return pa.nulls(len(values), DECIMAL)


def _fits(text: str) -> bool:
    try:
        pa.array([text]).cast(_WIDE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _to_timestamp(name: str, values: pa.ChunkedArray, issues: _Issues) -> Any:
    kind = values.type
    if pa.types.is_timestamp(kind):
        # Naive timestamps are UTC wall time (FOCUS requires UTC): reinterpret, don't shift.
        return values.cast(pa.timestamp("us", tz=kind.tz)).cast(TIMESTAMP)
    if pa.types.is_date(kind):
        return values.cast(pa.timestamp("us")).cast(TIMESTAMP)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        issues.add(name, f"unsupported type {kind} for a date-time")
        return pa.nulls(len(values), TIMESTAMP)
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    text = pc.if_else(pc.equal(text, ""), None, text)
    bad = pc.invert(pc.fill_null(pc.match_substring_regex(text, _ISO), True))
    issues.rows(name, bad, lambda i: f"unparseable date-time: {_quote(text[i])}")
    if pc.any(bad).as_py():
        return pa.nulls(len(values), TIMESTAMP)
    text = pc.if_else(pc.match_substring_regex(text, _DATE_ONLY), _join(text, "T00:00:00"), text)
    text = pc.if_else(pc.match_substring_regex(text, _HAS_ZONE), text, _join(text, "Z"))
    try:
        return text.cast(TIMESTAMP)
    except pa.ArrowInvalid:
        for index, value in enumerate(text.to_pylist()):
            if value is not None and not _parses(value):
                issues.add(
                    name, f"unparseable date-time: {_quote(value)}", issues.first_row + index
                )
                break
        else:
            issues.add(name, "unparseable date-time values")
        return pa.nulls(len(values), TIMESTAMP)


def _parses(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _join(text: Any, suffix: str) -> Any:
    return pc.binary_join_element_wise(text, pa.scalar(suffix), "")


def _to_json(name: str, values: pa.ChunkedArray, issues: _Issues) -> Any:
    kind = values.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        # Parquet maps/structs: serialise each row (rare; exports write JSON text).
        items = values.to_pylist()
        as_dicts = [dict(v) if isinstance(v, list) else v for v in items]
        return pa.array([None if v is None else json.dumps(v) for v in as_dicts], pa.string())
    text = values.cast(pa.string())
    text = pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), None, text)
    invalid: set[str] = set()
    for value in pc.unique(text).to_pylist():
        if value is None:
            continue
        try:
            parsed = json.loads(value)
        except ValueError:
            invalid.add(value)
            continue
        if not isinstance(parsed, dict):
            invalid.add(value)
    if invalid:
        mask = pc.is_in(text, value_set=pa.array(sorted(invalid), pa.string()))
        issues.rows(name, mask, lambda _i: "not a JSON object")
    return text


def _check_values(arrays: dict[str, Any], issues: _Issues) -> None:
    for name in REQUIRED_VALUES:
        issues.rows(name, pc.is_null(arrays[_db(name)]), lambda _i: "empty (a value is required)")
    # FOCUS 1.2 Currency Format: BillingCurrency is a national currency (an ISO 4217 code);
    # PricingCurrency may also be a virtual one ("Token", "Credits"), any text (blank is null).
    billing = arrays[_db("BillingCurrency")]
    bad = pc.invert(pc.fill_null(pc.match_substring_regex(billing, _CURRENCY), True))
    issues.rows(
        "BillingCurrency",
        bad,
        lambda i: f"not an ISO 4217 code (a national currency): {_quote(billing[i])}",
    )
    category = arrays["charge_category"]
    bad = pc.invert(pc.fill_null(pc.is_in(category, pa.array(CHARGE_CATEGORIES)), True))
    allowed = ", ".join(CHARGE_CATEGORIES)
    issues.rows("ChargeCategory", bad, lambda i: f"{_quote(category[i])} is not one of {allowed}")
    charge_class = arrays["charge_class"]
    bad = pc.fill_null(pc.not_equal(charge_class, "Correction"), False)
    issues.rows(
        "ChargeClass", bad, lambda i: f"{_quote(charge_class[i])} is not null or Correction"
    )
    for period in ("Charge", "Billing"):
        start, end = (
            arrays[f"{period.lower()}_period_start"],
            arrays[f"{period.lower()}_period_end"],
        )
        bad = pc.fill_null(pc.less_equal(end, start), False)
        issues.rows(f"{period}PeriodEnd", bad, lambda _i, p=period: f"not after {p}PeriodStart")


def _extras(raw: pa.Table, headers: Iterable[str]) -> pa.Array:
    """Non-FOCUS columns as one JSON object per row (null when the row has none)."""
    headers = list(headers)
    if not headers:
        return pa.nulls(raw.num_rows, pa.string())
    columns = [(h, raw.column(h).to_pylist()) for h in headers]
    out: list[str | None] = []
    for index in range(raw.num_rows):
        row = {h: values[index] for h, values in columns if values[index] is not None}
        out.append(json.dumps(row, default=str) if row else None)
    return pa.array(out, pa.string())


def _db(name: str) -> str:
    return COLUMNS_BY_NAME[name].db


def _bool_numpy(mask: Any) -> np.ndarray:
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks() if mask.num_chunks else pa.array([], pa.bool_())
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _quote(value: Any) -> str:
    text = value.as_py() if isinstance(value, pa.Scalar) else value
    text = str(text)
    return repr(text if len(text) <= 40 else text[:37] + "...")
