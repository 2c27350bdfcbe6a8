"""What each column is for drift: from the feature schema, else from documented rules.

Five kinds. ``numeric`` and ``categorical`` columns are judged for drift; ``text`` (ids, free
text), ``datetime`` and ``ignored`` (bytes, JSON, arrays, maps) columns are listed as not judged.
The same kinds go to Evidently as its data definition (:func:`evidently_definition`), so the gate
and the HTML report judge the same columns the same way.

**From the Feast schema** (:func:`kinds_from_schema`, :func:`kinds_from_feature_view`), by the
field's Feast type:

====================================================  ============
Feast type                                            kind
====================================================  ============
Int32, Int64, Float32, Float64, Decimal               numeric
String, Bool, Enum                                    categorical
Uuid, TimeUuid                                        text
UnixTimestamp, ZonedTimestamp                         datetime
Bytes, PdfBytes, ImageBytes, Json, Map, Struct,       ignored
Array(...), Set(...) and anything else
====================================================  ============

A field's ``drift`` tag overrides its type: ``tags={"drift": "categorical"}`` on an Int64 flag,
``"text"`` on a String id, ``"ignored"`` on a column nobody should be paged about.

**Without a schema** (:func:`infer_kind`), on the reference window's values; Evidently 0.7's own
rule (``evidently.core.datasets.infer_column_type``) is on the right where it differs:

- floats (``float32``, ``float64``, ``Float64``): numeric (Evidently: the same, but not the
  nullable ``Float64``, which it leaves unknown and never judges);
- integers of every width, signed, unsigned and nullable (``int64``, ``uint8``, ``Int64``):
  categorical with at most 10 distinct values, else numeric (Evidently: the same for ``int*``;
  ``uint*`` and ``Int*`` are unknown and never judged);
- booleans (``bool``, ``boolean``, or objects holding only True/False): categorical (Evidently:
  ``bool`` only; the other two are unknown);
- ``category``: categorical;
- strings (``object``, ``string``): text when more than half of the non-missing values are
  distinct (ids), else categorical (Evidently: the same);
- datetimes (``datetime64``, with or without a time zone, or objects holding only timestamps):
  datetime (Evidently: ``datetime64`` only; object timestamps are unknown);
- anything else (lists, dicts, bytes, mixed objects) and columns with no value at all: ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from tasks.errors import ConfigurationError

__all__ = [
    "DRIFT_TAG",
    "JUDGED_KINDS",
    "Kind",
    "evidently_definition",
    "infer_kind",
    "kind_of_feast_type",
    "kinds_from_feature_view",
    "kinds_from_schema",
    "resolve_kinds",
]

Kind = Literal["numeric", "categorical", "text", "datetime", "ignored"]
KINDS: tuple[str, ...] = get_args(Kind)
JUDGED_KINDS: frozenset[str] = frozenset({"numeric", "categorical"})
DRIFT_TAG = "drift"
# Integers with at most this many distinct values are categories (Evidently's limit).
INTEGER_CARDINALITY_LIMIT = 10
# Strings with more distinct values than this share of their values are text (Evidently's rule).
TEXT_DISTINCT_SHARE = 0.5

_FEAST_KINDS: dict[str, Kind] = {
    "Int32": "numeric",
    "Int64": "numeric",
    "Float32": "numeric",
    "Float64": "numeric",
    "Decimal": "numeric",
    "String": "categorical",
    "Bool": "categorical",
    "Enum": "categorical",
    "Uuid": "text",
    "TimeUuid": "text",
    "UnixTimestamp": "datetime",
    "ZonedTimestamp": "datetime",
}


def kind_of_feast_type(type_name: str) -> Kind:
    """The kind of a Feast type, by its name (``str(field.dtype)``: ``Int64``, ``Array(Int64)``)."""
    return _FEAST_KINDS.get(type_name.strip(), "ignored")


def kinds_from_schema(
    types: Mapping[str, str], tags: Mapping[str, Mapping[str, str]] | None = None, view: str = ""
) -> dict[str, Kind]:
    """Each field's kind from its Feast type name, a ``drift`` tag overriding it.

    Raises:
        ConfigurationError: a ``drift`` tag holds something other than a kind (names the view,
            the field and the allowed values).
    """
    kinds: dict[str, Kind] = {}
    for name, type_name in types.items():
        override = (tags or {}).get(name, {}).get(DRIFT_TAG)
        if override is None:
            kinds[name] = kind_of_feast_type(type_name)
        elif override in KINDS:
            kinds[name] = override  # type: ignore[assignment]
        else:
            where = f"feature view {view!r}, " if view else ""
            raise ConfigurationError(
                f"{where}field {name!r}: tag {DRIFT_TAG!r} is {override!r}; "
                f"expected one of {', '.join(KINDS)}"
            )
    return kinds


def kinds_from_feature_view(view: Any) -> dict[str, Kind]:
    """The kinds of a Feast ``FeatureView``'s schema fields (their types and ``drift`` tags)."""
    fields = list(view.schema)
    return kinds_from_schema(
        {f.name: str(f.dtype) for f in fields},
        {f.name: dict(f.tags or {}) for f in fields},
        view=view.name,
    )


def infer_kind(values: pd.Series) -> Kind:
    """A column's kind from its values when there is no schema (rules in the module doc)."""
    dtype = values.dtype
    if ptypes.is_bool_dtype(dtype):
        return "categorical"
    if ptypes.is_float_dtype(dtype):
        return "numeric"
    if ptypes.is_integer_dtype(dtype):
        return "categorical" if values.nunique() <= INTEGER_CARDINALITY_LIMIT else "numeric"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype):
        return _infer_object_kind(values)
    return "ignored"


def resolve_kinds(
    frames: Iterable[pd.DataFrame], columns: list[str], kinds: Mapping[str, Kind] | None
) -> dict[str, Kind]:
    """Each column's kind: as given, else inferred on the first frame that holds the column.

    Raises:
        ConfigurationError: a given kind is not one of the five.
    """
    frames = list(frames)
    resolved: dict[str, Kind] = {}
    for name in columns:
        given = (kinds or {}).get(name)
        if given is not None:
            if given not in KINDS:
                raise ConfigurationError(
                    f"column {name!r}: kind {given!r} is not one of {', '.join(KINDS)}"
                )
            resolved[name] = given
            continue
        holder = next((f for f in frames if name in f.columns), None)
        resolved[name] = infer_kind(holder[name]) if holder is not None else "ignored"
    return resolved


def evidently_definition(kinds: Mapping[str, Kind]) -> Any:
    """Evidently's ``DataDefinition`` holding the same kinds (ignored columns are left out)."""
    from evidently import DataDefinition

    def of(kind: str) -> list[str]:
        return [c for c, k in kinds.items() if k == kind]

    return DataDefinition(
        numerical_columns=of("numeric"),
        categorical_columns=of("categorical"),
        text_columns=of("text"),
        datetime_columns=of("datetime"),
    )


def _infer_object_kind(values: pd.Series) -> Kind:
    present = values.dropna()
    if present.empty:
        return "ignored"
    if all(isinstance(v, str) for v in present):
        return "text" if present.nunique() > TEXT_DISTINCT_SHARE * len(present) else "categorical"
    if all(isinstance(v, bool | np.bool_) for v in present):
        return "categorical"
    if all(isinstance(v, dt.datetime) for v in present):  # pd.Timestamp is a datetime
        return "datetime"
    return "ignored"
