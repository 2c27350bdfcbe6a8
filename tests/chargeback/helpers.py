"""Builders for chargeback tests: YAML configs in a temp dir and FOCUS-like rows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tasks.chargeback import ChargebackConfig, load_chargeback_config

__all__ = ["RATECARD", "config_from", "row"]

RATECARD = """
currency: USD
metrics:
  metrics_ingested:
    unit: metric
    per: 1000000
    price: "1.00"
    tiers:
      - {from: 0, to: 10000000}
      - {from: 10000000, to: 50000000, discount: "0.10"}
      - {from: 50000000, to: 100000000, discount: "0.20"}
      - {from: 100000000, discount: "0.35"}
"""


def config_from(tmp_path: Path, teams: str, ratecard: str = RATECARD) -> ChargebackConfig:
    (tmp_path / "teams.yaml").write_text(teams, encoding="utf-8")
    (tmp_path / "ratecard.yaml").write_text(ratecard, encoding="utf-8")
    return load_chargeback_config(tmp_path / "teams.yaml", tmp_path / "ratecard.yaml")


def row(
    effective: str,
    service: str = "Compute",
    *,
    tags: dict[str, str] | None = None,
    billed: str | None = None,
    start: str = "2024-09-10T00:00:00",
    **extra: Any,
) -> dict[str, Any]:
    """A FOCUS line whose ``EffectiveCost`` (what chargeback charges by default) is
    ``effective``; its ``BilledCost`` is ``billed``, the same when not given (no commitment)."""
    return {
        "BilledCost": Decimal(billed if billed is not None else effective),
        "EffectiveCost": Decimal(effective),
        "BillingCurrency": "USD",
        "ChargeCategory": extra.pop("ChargeCategory", "Usage"),
        "ChargePeriodStart": start,
        "ServiceName": service,
        "Tags": json.dumps(tags) if tags else None,
        **extra,
    }
