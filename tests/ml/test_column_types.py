"""Column kinds for drift: from the Feast schema (types and tags), else the documented rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.errors import ConfigurationError
from tasks.ml.column_types import (
    infer_kind,
    kind_of_feast_type,
    kinds_from_feature_view,
    kinds_from_schema,
    resolve_kinds,
)


@pytest.mark.parametrize(
    ("feast_type", "kind"),
    [
        ("Int32", "numeric"),
        ("Int64", "numeric"),
        ("Float32", "numeric"),
        ("Float64", "numeric"),
        ("String", "categorical"),
        ("Bool", "categorical"),
        ("Uuid", "text"),
        ("UnixTimestamp", "datetime"),
        ("Bytes", "ignored"),
        ("Json", "ignored"),
        ("Array(Int64)", "ignored"),
        ("Map", "ignored"),
    ],
)
def test_each_feast_type_maps_to_one_kind(feast_type: str, kind: str) -> None:
    assert kind_of_feast_type(feast_type) == kind


def test_a_drift_tag_overrides_the_type_and_a_bad_tag_names_view_and_field() -> None:
    types = {"is_foreign": "Int64", "customer_ref": "String", "amount": "Float64"}
    tags = {"is_foreign": {"drift": "categorical"}, "customer_ref": {"drift": "text"}}

    assert kinds_from_schema(types, tags) == {
        "is_foreign": "categorical",
        "customer_ref": "text",
        "amount": "numeric",
    }
    with pytest.raises(ConfigurationError, match="feature view 'payments', field 'amount'"):
        kinds_from_schema(types, {"amount": {"drift": "number"}}, view="payments")


def test_the_shipped_feature_view_gives_the_kinds_the_monitor_uses() -> None:
    from tasks.ml.feature_repo.definitions import definitions
    from tasks.ml.monitor import FEATURE_KINDS

    _, view = definitions(Path("/nonexistent/payments.parquet"))

    assert kinds_from_feature_view(view) == FEATURE_KINDS
    assert FEATURE_KINDS["is_foreign"] == "categorical"
    assert FEATURE_KINDS["amount"] == "numeric" and FEATURE_KINDS["channel"] == "categorical"


def test_rules_without_a_schema() -> None:
    n = 40
    when = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pd.DataFrame(
        {
            "price": np.linspace(1, 2, n),
            "nullable_float": pd.Series(np.linspace(1, 2, n), dtype="Float64"),
            "small_int": np.arange(n) % 4,
            "wide_uint": np.arange(n, dtype=np.uint8),
            "nullable_int": pd.Series(np.arange(n), dtype="Int64"),
            "flag": np.arange(n) % 2 == 0,
            "nullable_flag": pd.Series(np.arange(n) % 2 == 0, dtype="boolean"),
            "object_flag": pd.Series([True, False, None, True] * 10, dtype=object),
            "word": ["a", "b"] * 20,
            "ident": [f"id-{i}" for i in range(n)],
            "category": pd.Categorical(["x", "y"] * 20),
            "stamp": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
            "object_stamp": pd.Series([when] * n, dtype=object),
            "lists": pd.Series([[1, 2]] * n),
            "nothing": pd.Series([None] * n, dtype=object),
        }
    )

    kinds = {c: infer_kind(frame[c]) for c in frame.columns}

    assert kinds == {
        "price": "numeric",
        "nullable_float": "numeric",
        "small_int": "categorical",
        "wide_uint": "numeric",
        "nullable_int": "numeric",
        "flag": "categorical",
        "nullable_flag": "categorical",
        "object_flag": "categorical",
        "word": "categorical",
        "ident": "text",
        "category": "categorical",
        "stamp": "datetime",
        "object_stamp": "datetime",
        "lists": "ignored",
        "nothing": "ignored",
    }


def test_given_kinds_win_and_unlisted_columns_are_inferred() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]})
    assert resolve_kinds([frame], ["a", "b", "gone"], {"a": "numeric"}) == {
        "a": "numeric",
        "b": "numeric",
        "gone": "ignored",
    }
