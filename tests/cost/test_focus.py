"""FOCUS normalisation: column model, conversions, and errors that locate every problem."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from tasks.cost.focus import MANDATORY, STORE_SCHEMA, CostDataError, find_column
from tasks.cost.normalise import normalise
from tasks.store import CostLine
from tests.cost.helpers import as_json, focus_row


def _raw(rows: list[dict]) -> pa.Table:
    names = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})


def test_focus_1_2_has_21_mandatory_columns_and_the_store_holds_every_column():
    assert len(MANDATORY) == 21
    assert {"BilledCost", "ChargePeriodStart", "ServiceName", "ListCost"} <= set(MANDATORY)
    stored = {c.name for c in CostLine.__table__.columns} - {"id", "source"}
    assert stored == set(STORE_SCHEMA.names)


def test_headers_match_in_any_case_or_snake_case():
    assert find_column("BilledCost").name == "BilledCost"
    assert find_column("billedcost").name == "BilledCost"
    assert find_column("billed_cost").name == "BilledCost"
    assert find_column("Id") is None


def test_money_stays_decimal_with_every_digit_and_dates_become_utc():
    table = normalise(
        _raw([focus_row(BilledCost="0.00000080000", ChargePeriodStart="2024-09-01 22:00:00")]),
        "f.csv",
    )
    row = table.to_pylist()[0]
    assert row["billed_cost"] == Decimal("0.0000008")
    assert isinstance(row["billed_cost"], Decimal)
    assert row["charge_period_start"] == datetime(2024, 9, 1, 22, tzinfo=UTC)


def test_offsets_and_date_only_values_are_converted_to_utc():
    table = normalise(
        _raw(
            [
                focus_row(
                    ChargePeriodStart="2024-09-01T02:00:00+02:00", BillingPeriodStart="2024-09-01"
                )
            ]
        ),
        "f.csv",
    )
    row = table.to_pylist()[0]
    assert row["charge_period_start"] == datetime(2024, 9, 1, 0, tzinfo=UTC)
    assert row["billing_period_start"] == datetime(2024, 9, 1, tzinfo=UTC)


def test_amounts_beyond_twelve_decimals_are_rounded_half_even():
    table = normalise(_raw([focus_row(BilledCost="1.0000000000005", EffectiveCost="2.5e-13")]), "f")
    row = table.to_pylist()[0]
    assert row["billed_cost"] == Decimal("1.000000000000")
    assert row["effective_cost"] == Decimal("0")


def test_columns_beyond_focus_are_kept_in_extra_not_dropped():
    table = normalise(_raw([focus_row(Id="42", x_Discount="0.1"), focus_row()]), "f.csv")
    extra = table.column("extra").to_pylist()
    assert as_json(extra[0]) == {"Id": "42", "x_Discount": "0.1"}
    assert extra[1] is None


def test_tags_must_be_json_objects():
    with pytest.raises(CostDataError) as caught:
        normalise(_raw([focus_row(), focus_row(Tags="team=shop"), focus_row(Tags="[1]")]), "t.csv")
    messages = [str(i) for i in caught.value.issues]
    assert messages == [
        "t.csv: row 2: column Tags: not a JSON object",
        "t.csv: row 3: column Tags: not a JSON object",
    ]


def test_missing_mandatory_columns_are_all_named():
    rows = [{k: v for k, v in focus_row().items() if k not in {"BilledCost", "ServiceName"}}]
    with pytest.raises(CostDataError) as caught:
        normalise(_raw(rows), "bad.csv")
    assert [(i.column, i.reason) for i in caught.value.issues] == [
        ("BilledCost", "mandatory FOCUS column missing"),
        ("ServiceName", "mandatory FOCUS column missing"),
    ]
    assert "bad.csv: column BilledCost: mandatory FOCUS column missing" in str(caught.value)


def test_a_non_numeric_cost_names_file_row_and_column():
    rows = [focus_row(), focus_row(), focus_row(BilledCost="12,50")]
    with pytest.raises(CostDataError) as caught:
        normalise(_raw(rows), "bills.csv", first_row=101)
    assert str(caught.value) == "bills.csv: row 103: column BilledCost: not a number: '12,50'"


def test_an_unparseable_date_names_file_row_and_column():
    with pytest.raises(CostDataError) as caught:
        normalise(_raw([focus_row(ChargePeriodStart="yesterday")]), "d.csv")
    issue = caught.value.issues[0]
    assert (issue.file, issue.row, issue.column) == ("d.csv", 1, "ChargePeriodStart")
    assert "unparseable date-time: 'yesterday'" in issue.reason


def test_an_impossible_date_is_found_even_when_it_looks_like_iso():
    with pytest.raises(CostDataError) as caught:
        normalise(_raw([focus_row(), focus_row(ChargePeriodEnd="2024-13-45T00:00:00Z")]), "d.csv")
    issue = caught.value.issues[0]
    assert (issue.row, issue.column) == (2, "ChargePeriodEnd")


def test_required_values_bad_currency_and_category_are_reported_together():
    rows = [
        focus_row(BilledCost=None),
        focus_row(BillingCurrency="usd"),
        focus_row(ChargeCategory="Refund"),
        focus_row(ChargePeriodEnd="2024-09-01T00:00:00Z"),
    ]
    with pytest.raises(CostDataError) as caught:
        normalise(_raw(rows), "v.csv")
    found = {(i.row, i.column) for i in caught.value.issues}
    assert found == {
        (1, "BilledCost"),
        (2, "BillingCurrency"),
        (3, "ChargeCategory"),
        (4, "ChargePeriodEnd"),
    }


def test_a_currency_mix_within_one_billing_account_is_rejected():
    rows = [
        focus_row(),
        focus_row(BillingAccountId="acct-2", BillingCurrency="EUR"),
        focus_row(BillingCurrency="EUR"),
    ]
    with pytest.raises(CostDataError) as caught:
        normalise(_raw(rows), "mix.csv")
    issue = caught.value.issues[0]
    assert (issue.row, issue.column) == (3, "BillingCurrency")
    assert (
        "billing account 'acct-1' mixes currencies: 'EUR' here, 'USD' at mix.csv row 1"
        in issue.reason
    )


def test_many_bad_rows_are_summarised_not_listed_one_by_one():
    rows = [focus_row(BilledCost="n/a") for _ in range(50)]
    with pytest.raises(CostDataError) as caught:
        normalise(_raw(rows), "many.csv")
    assert len(caught.value.issues) == 4
    assert caught.value.issues[-1].reason == "47 more row(s) with the same problem"


def test_typed_parquet_values_are_accepted_as_is():
    raw = _raw([focus_row()])
    typed = raw.set_column(
        raw.column_names.index("BilledCost"), "BilledCost", pa.array([1.1], pa.float64())
    ).set_column(
        raw.column_names.index("ChargePeriodStart"),
        "ChargePeriodStart",
        pa.array([datetime(2024, 9, 1)], pa.timestamp("ms")),
    )
    row = normalise(typed, "t.parquet").to_pylist()[0]
    assert row["billed_cost"] == Decimal("1.1")
    assert row["charge_period_start"] == datetime(2024, 9, 1, tzinfo=UTC)


def test_non_finite_floats_are_rejected():
    raw = _raw([focus_row()])
    typed = raw.set_column(
        raw.column_names.index("BilledCost"), "BilledCost", pa.array([float("nan")], pa.float64())
    )
    with pytest.raises(CostDataError, match="row 1: column BilledCost: not a finite number"):
        normalise(typed, "t.parquet")


def _encoded(values: list[str], indices: list[int]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values))


def test_dictionary_encoded_values_convert_like_text_and_a_bad_one_names_its_row():
    raw = _raw([focus_row(), focus_row(), focus_row()])
    column = raw.column_names.index("BilledCost")
    # The dictionary may hold values no row uses (a row group's, read in smaller batches).
    used = raw.set_column(column, "BilledCost", _encoded(["1.5", "2", "n/a"], [0, 1, 0]))
    costs = [row["billed_cost"] for row in normalise(used, "d.parquet").to_pylist()]
    assert costs == [Decimal("1.5"), Decimal("2"), Decimal("1.5")]

    bad = raw.set_column(column, "BilledCost", _encoded(["1.5", "n/a"], [0, 0, 1]))
    with pytest.raises(CostDataError) as caught:
        normalise(bad, "d.parquet")
    assert [str(i) for i in caught.value.issues] == [
        "d.parquet: row 3: column BilledCost: not a number: 'n/a'"
    ]


def test_a_dictionary_encoded_text_too_long_for_its_column_names_its_row():
    raw = _raw([focus_row(), focus_row()])
    column = raw.column_names.index("ChargeCategory")
    encoded = raw.set_column(column, "ChargeCategory", _encoded(["Usage", "U" * 40], [1, 0]))
    with pytest.raises(CostDataError, match=r"d\.parquet: row 1: column ChargeCategory: longer"):
        normalise(encoded, "d.parquet")
