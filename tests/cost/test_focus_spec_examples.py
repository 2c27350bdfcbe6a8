"""The FOCUS 1.2 specification's own virtual-currency examples (tests/data/focus/spec-examples).

The examples are fragments (no ServiceCategory, dates written 5/1/25), so each of their rows'
currency columns is placed in an otherwise valid row: the currency rules must take them as the
specification writes them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from tasks.cost.focus import CostDataError
from tasks.cost.normalise import normalise
from tests.cost.helpers import focus_row

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "data/focus/spec-examples").glob("*.csv"))
CURRENCY_COLUMNS = (
    "BillingCurrency",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
)


def _table(rows: list[dict[str, str | None]]) -> pa.Table:
    names = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_specifications_currency_examples_are_accepted(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        published = list(csv.DictReader(handle))
    rows = [focus_row(**{c: r[c] or None for c in CURRENCY_COLUMNS}) for r in published]

    lines = normalise(_table(rows), path.name)

    assert lines["pricing_currency"].to_pylist() == [r["PricingCurrency"] for r in published]


def test_billing_currency_stays_a_national_currency_code():
    with pytest.raises(CostDataError) as caught:
        normalise(_table([focus_row(BillingCurrency="Token", PricingCurrency="Token")]), "t.csv")
    assert [(i.column, i.reason) for i in caught.value.issues] == [
        ("BillingCurrency", "not an ISO 4217 code (a national currency): 'Token'")
    ]
