"""CUR 2.0 columns (AWS Data Exports' standard export) mapped to FOCUS 1.2 columns.

One DuckDB query over a batch of the export's rows (vectorised; the batch is an Arrow table, no
copy) yields FOCUS-named columns that :func:`tasks.cost.normalise.normalise` then validates like
any FOCUS file. The mapping, from AWS's CUR 2.0 table dictionary:

- ``BilledCost``: ``line_item_unblended_cost`` (what the invoice charges, line by line).
- ``EffectiveCost``, amortised as AWS documents it for CUR ("Understanding your amortized
  costs"), by ``line_item_line_item_type``:

  =========================  ================================================================
  SavingsPlanCoveredUsage    ``savings_plan_savings_plan_effective_cost``
  SavingsPlanRecurringFee    ``savings_plan_total_commitment_to_date`` -
                             ``savings_plan_used_commitment`` (the unused commitment)
  SavingsPlanNegation,       0 (the covered usage carries its amortised cost; the upfront
  SavingsPlanUpfrontFee      payment is spread over the usage)
  DiscountedUsage            ``reservation_effective_cost``
  RIFee                      ``reservation_unused_amortized_upfront_fee_for_billing_period`` +
                             ``reservation_unused_recurring_fee`` (the unused reservation)
  Fee of a reservation       0 (an RI's upfront payment, spread over its usage)
  anything else              ``line_item_unblended_cost``
  =========================  ================================================================

- ``ChargeCategory`` from the line type: usage kinds are ``Usage``; fees of commitments are
  ``Purchase``; ``Tax``; credits, refunds and discounts are ``Credit``; the rest ``Adjustment``.
- ``ListCost``: ``pricing_public_on_demand_cost``; ``ServiceName``: ``product_servicecode``, else
  ``line_item_product_code`` (``ServiceCategory`` from :data:`SERVICE_CATEGORIES`); accounts:
  ``bill_payer_account_id`` (billing) and ``line_item_usage_account_id`` (sub-account); the
  charge period: the usage start and end.
- ``Tags``: the ``resource_tags`` map as JSON; user-defined keys lose their ``user_`` prefix
  (``user_team`` -> ``team``, as cost allocation tags are named elsewhere), ``aws_`` keys stay.

Money is exact: CUR 2.0 stores doubles; each is read as the shortest decimal text that round-trips
(``0.1``, never ``0.1000000000000000055``) before any arithmetic. An export whose columns lack
one of :data:`REQUIRED` is refused naming the file and the column; optional columns an export
was configured without are null.
"""

from __future__ import annotations

import pyarrow as pa

from tasks.cost.focus import CostDataError, DataIssue

__all__ = ["OPTIONAL", "REQUIRED", "SERVICE_CATEGORIES", "cur2_to_focus"]

REQUIRED = (
    "bill_billing_period_end_date",
    "bill_billing_period_start_date",
    "bill_payer_account_id",
    "line_item_currency_code",
    "line_item_line_item_type",
    "line_item_unblended_cost",
    "line_item_usage_end_date",
    "line_item_usage_start_date",
)
# Column -> its DuckDB type when an export does not carry it (it then reads as null).
OPTIONAL = {
    "bill_billing_entity": "VARCHAR",
    "bill_invoice_id": "VARCHAR",
    "bill_invoicing_entity": "VARCHAR",
    "bill_payer_account_name": "VARCHAR",
    "line_item_availability_zone": "VARCHAR",
    "line_item_line_item_description": "VARCHAR",
    "line_item_product_code": "VARCHAR",
    "line_item_resource_id": "VARCHAR",
    "line_item_usage_account_id": "VARCHAR",
    "line_item_usage_account_name": "VARCHAR",
    "line_item_usage_amount": "DOUBLE",
    "pricing_public_on_demand_cost": "DOUBLE",
    "pricing_public_on_demand_rate": "DOUBLE",
    "pricing_unit": "VARCHAR",
    "product_region_code": "VARCHAR",
    "product_servicecode": "VARCHAR",
    "product_sku": "VARCHAR",
    "reservation_effective_cost": "DOUBLE",
    "reservation_reservation_a_r_n": "VARCHAR",
    "reservation_unused_amortized_upfront_fee_for_billing_period": "DOUBLE",
    "reservation_unused_recurring_fee": "DOUBLE",
    "resource_tags": "MAP(VARCHAR, VARCHAR)",
    "savings_plan_savings_plan_a_r_n": "VARCHAR",
    "savings_plan_savings_plan_effective_cost": "DOUBLE",
    "savings_plan_total_commitment_to_date": "DOUBLE",
    "savings_plan_used_commitment": "DOUBLE",
}

# FOCUS ServiceCategory of the most used AWS service codes; any other service is "Other".
SERVICE_CATEGORIES = {
    "AI and Machine Learning": ("AmazonBedrock", "AmazonSageMaker", "AmazonRekognition"),
    "Analytics": ("AmazonAthena", "AmazonKinesis", "AmazonRedshift", "AWSGlue", "ElasticMapReduce"),
    "Compute": ("AmazonEC2", "AmazonECS", "AmazonEKS", "AWSLambda", "AWSFargate"),
    "Databases": ("AmazonDynamoDB", "AmazonElastiCache", "AmazonRDS", "AmazonDocDB"),
    "Integration": ("AmazonSNS", "AWSQueueService", "AmazonSQS", "AWSEvents", "AmazonMQ"),
    "Management and Governance": ("AmazonCloudWatch", "AWSCloudTrail", "AWSConfig"),
    "Networking": (
        "AmazonCloudFront",
        "AmazonRoute53",
        "AmazonVPC",
        "AWSDataTransfer",
        "AWSELB",
        "AWSGlobalAccelerator",
    ),
    "Security": ("awskms", "AWSSecretsManager", "AmazonGuardDuty", "awswaf"),
    "Storage": ("AmazonS3", "AmazonEFS", "AmazonGlacier", "AWSBackup", "AmazonFSx"),
}
_USAGE = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
_PURCHASE = ("Fee", "RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")
_CREDIT = ("Credit", "Refund", "BundledDiscount", "Discount", "EdpDiscount", "PrivateRateDiscount")


def _money(column: str) -> str:
    """A CUR double as an exact decimal: its shortest round-trip text, then DECIMAL(38, 12)."""
    return f"CAST(CAST({column} AS VARCHAR) AS DECIMAL(38, 12))"


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_TYPE = "line_item_line_item_type"
_SERVICE = "coalesce(product_servicecode, line_item_product_code)"
_CATEGORY = (
    "CASE "
    + " ".join(
        f"WHEN {_SERVICE} IN ({_in(codes)}) THEN '{category}'"
        for category, codes in SERVICE_CATEGORIES.items()
    )
    + " ELSE 'Other' END"
)
_UNBLENDED = _money("line_item_unblended_cost")
_UNUSED_UPFRONT = _money("reservation_unused_amortized_upfront_fee_for_billing_period")
_UNUSED_RECURRING = _money("reservation_unused_recurring_fee")
_QUERY = f"""
SELECT
    'AWS' AS ProviderName,
    coalesce(bill_billing_entity, 'AWS') AS PublisherName,
    coalesce(bill_invoicing_entity, 'Amazon Web Services') AS InvoiceIssuerName,
    bill_invoice_id AS InvoiceId,
    bill_payer_account_id AS BillingAccountId,
    bill_payer_account_name AS BillingAccountName,
    line_item_usage_account_id AS SubAccountId,
    line_item_usage_account_name AS SubAccountName,
    line_item_currency_code AS BillingCurrency,
    bill_billing_period_start_date AS BillingPeriodStart,
    bill_billing_period_end_date AS BillingPeriodEnd,
    line_item_usage_start_date AS ChargePeriodStart,
    line_item_usage_end_date AS ChargePeriodEnd,
    CASE
        WHEN {_TYPE} IN ({_in(_USAGE)}) THEN 'Usage'
        WHEN {_TYPE} IN ({_in(_PURCHASE)}) THEN 'Purchase'
        WHEN {_TYPE} = 'Tax' THEN 'Tax'
        WHEN {_TYPE} IN ({_in(_CREDIT)}) THEN 'Credit'
        ELSE 'Adjustment'
    END AS ChargeCategory,
    CAST(NULL AS VARCHAR) AS ChargeClass,
    line_item_line_item_description AS ChargeDescription,
    {_UNBLENDED} AS BilledCost,
    {_UNBLENDED} AS ContractedCost,
    CASE
        WHEN {_TYPE} = 'SavingsPlanCoveredUsage'
            THEN {_money("savings_plan_savings_plan_effective_cost")}
        WHEN {_TYPE} = 'SavingsPlanRecurringFee'
            THEN {_money("savings_plan_total_commitment_to_date")}
                - {_money("savings_plan_used_commitment")}
        WHEN {_TYPE} IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') THEN 0
        WHEN {_TYPE} = 'DiscountedUsage' THEN {_money("reservation_effective_cost")}
        WHEN {_TYPE} = 'RIFee'
            THEN coalesce({_UNUSED_UPFRONT}, 0) + coalesce({_UNUSED_RECURRING}, 0)
        WHEN {_TYPE} = 'Fee' AND coalesce(reservation_reservation_a_r_n, '') <> '' THEN 0
        ELSE {_UNBLENDED}
    END AS EffectiveCost,
    {_money("pricing_public_on_demand_cost")} AS ListCost,
    {_money("pricing_public_on_demand_rate")} AS ListUnitPrice,
    {_money("line_item_usage_amount")} AS PricingQuantity,
    pricing_unit AS PricingUnit,
    {_money("line_item_usage_amount")} AS ConsumedQuantity,
    pricing_unit AS ConsumedUnit,
    {_SERVICE} AS ServiceName,
    {_CATEGORY} AS ServiceCategory,
    product_region_code AS RegionId,
    line_item_availability_zone AS AvailabilityZone,
    line_item_resource_id AS ResourceId,
    product_sku AS SkuId,
    nullif(coalesce(nullif(reservation_reservation_a_r_n, ''), savings_plan_savings_plan_a_r_n), '')
        AS CommitmentDiscountId,
    CASE
        WHEN coalesce(reservation_reservation_a_r_n, '') <> '' THEN 'Usage'
        WHEN coalesce(savings_plan_savings_plan_a_r_n, '') <> '' THEN 'Spend'
    END AS CommitmentDiscountCategory,
    CASE WHEN resource_tags IS NOT NULL THEN to_json(map_from_entries(list_transform(
        map_entries(resource_tags),
        lambda e: {{'key': regexp_replace(e.key, '^user_', ''), 'value': e.value}}
    ))) END AS Tags,
    {_TYPE} AS x_LineItemType
FROM cur
"""


def cur2_to_focus(raw: pa.Table, origin: str) -> pa.Table:
    """A batch of CUR 2.0 rows as FOCUS-named columns (validated afterwards by ``normalise``).

    Raises:
        CostDataError: a required CUR 2.0 column is missing (named, with ``origin``), or a
            value cannot be mapped (a cost that is not a number, a tag column that is not a
            map): ``origin`` and DuckDB's reason.
    """
    import duckdb

    missing = [name for name in REQUIRED if name not in raw.column_names]
    if missing:
        raise CostDataError(
            [DataIssue(origin, None, name, "CUR 2.0 column missing") for name in missing]
        )
    padding = "".join(
        f", CAST(NULL AS {kind}) AS {name}"
        for name, kind in OPTIONAL.items()
        if name not in raw.column_names
    )
    with duckdb.connect() as conn:
        conn.register("export", raw)
        conn.execute(f"CREATE TEMP VIEW cur AS SELECT *{padding} FROM export")
        try:
            table: pa.Table = conn.sql(_QUERY).to_arrow_table()
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0][:200]
            raise CostDataError([DataIssue(origin, None, None, f"not CUR 2.0: {reason}")]) from None
        return table
