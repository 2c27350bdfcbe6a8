"""Feast objects of the payments-fraud feature repository (Feast is imported when called).

One entity, the customer (join key ``entity_id``), and one feature view, ``payments``: each row
of the source is one card payment with the ten model inputs. Training sets join the delayed
labels to these features point in time (the latest payment at or before the labelled moment);
online scoring reads each customer's latest materialised payment.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

__all__ = ["ENTITY_NAME", "FEATURE_TAGS", "FEATURE_TYPES", "FEATURE_VIEW", "TTL", "definitions"]

ENTITY_NAME = "customer"
FEATURE_VIEW = "payments"
# How far back a point-in-time join (and the first materialisation) looks for a customer's row.
TTL = timedelta(days=7)
# Feast value type of each feature (names match tasks.ml.dataset).
FEATURE_TYPES: dict[str, str] = {
    "amount": "Float64",
    "hour_of_day": "Int64",
    "account_age_days": "Int64",
    "distance_from_home_km": "Float64",
    "declines_7d": "Int64",
    "merchant_risk_score": "Float64",
    "merchant_category": "String",
    "channel": "String",
    "card_type": "String",
    "is_foreign": "Int64",
}
# Field tags; ``drift`` overrides the kind the type gives (tasks.ml.column_types): the 0/1 flag
# is a category, not a number.
FEATURE_TAGS: dict[str, dict[str, str]] = {"is_foreign": {"drift": "categorical"}}


def definitions(source_path: Path) -> list[Any]:
    """The entity and the feature view over ``source_path`` (a Parquet file), ready to apply."""
    from feast import Entity, FeatureView, Field, FileSource, ValueType, types

    customer = Entity(
        name=ENTITY_NAME,
        join_keys=["entity_id"],
        value_type=ValueType.INT64,
        description="a card holder",
    )
    source = FileSource(
        name="payments_source",
        path=str(source_path),
        timestamp_field="event_timestamp",
        description="card payments written by the upstream pipeline",
    )
    view = FeatureView(
        name=FEATURE_VIEW,
        entities=[customer],
        ttl=TTL,
        schema=[
            Field(name=n, dtype=getattr(types, t), tags=FEATURE_TAGS.get(n, {}))
            for n, t in FEATURE_TYPES.items()
        ],
        online=True,
        source=source,
        tags={"team": "risk", "use_case": "payments-fraud"},
    )
    return [customer, view]
