-- total: daily series
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_category IN ('Usage')
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency;

-- total: purchases
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargeFrequency" AS charge_frequency,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "ServiceName" AS service_name
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  cost_lines.service_name AS service,
  cost_lines.charge_frequency AS frequency,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_category = 'Purchase'
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency,
  cost_lines.service_name,
  cost_lines.charge_frequency
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency,
  service,
  frequency;

-- total: root-cause breakdown
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "RegionId" AS region_id,
    "ServiceName" AS service_name,
    "SkuId" AS sku_id,
    "SkuMeter" AS sku_meter,
    "SubAccountId" AS sub_account_id,
    "SubAccountName" AS sub_account_name
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name AS service,
  cost_lines.region_id AS region,
  cost_lines.sub_account_id AS sub_account,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id) AS usage,
  MAX(cost_lines.sub_account_name) AS sub_account_name,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.billing_currency = 'USD'
  AND cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_category IN ('Usage')
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name,
  cost_lines.region_id,
  cost_lines.sub_account_id,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id)
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  service,
  region,
  sub_account,
  usage;

-- services: daily series
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "ProviderName" AS provider_name,
    "ServiceName" AS service_name
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  cost_lines.service_name AS value,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.provider_name IN ('AWS')
  AND cost_lines.charge_category IN ('Usage')
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency,
  cost_lines.service_name
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency,
  value;

-- services: purchases
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargeFrequency" AS charge_frequency,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "ProviderName" AS provider_name,
    "ServiceName" AS service_name
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  cost_lines.service_name AS service,
  cost_lines.charge_frequency AS frequency,
  cost_lines.service_name AS value,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.provider_name IN ('AWS')
  AND cost_lines.charge_category = 'Purchase'
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency,
  cost_lines.service_name,
  cost_lines.charge_frequency,
  cost_lines.service_name
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency,
  service,
  frequency,
  value;

-- services: root-cause breakdown
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "ProviderName" AS provider_name,
    "RegionId" AS region_id,
    "ServiceName" AS service_name,
    "SkuId" AS sku_id,
    "SkuMeter" AS sku_meter,
    "SubAccountId" AS sub_account_id,
    "SubAccountName" AS sub_account_name
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name AS service,
  cost_lines.region_id AS region,
  cost_lines.sub_account_id AS sub_account,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id) AS usage,
  MAX(cost_lines.sub_account_name) AS sub_account_name,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.billing_currency = 'USD'
  AND cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.provider_name IN ('AWS')
  AND cost_lines.charge_category IN ('Usage')
  AND cost_lines.service_name = 'Amazon Elastic Compute Cloud'
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name,
  cost_lines.region_id,
  cost_lines.sub_account_id,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id)
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  service,
  region,
  sub_account,
  usage;

-- accounts: daily series
WITH cost_lines AS (
  SELECT
    "BilledCost" AS billed_cost,
    "BillingAccountId" AS billing_account_id,
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "SubAccountId" AS sub_account_id
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  cost_lines.sub_account_id AS value,
  CAST(SUM(cost_lines.billed_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.billing_account_id IN ('999999999999')
  AND cost_lines.charge_category IN ('Usage')
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency,
  cost_lines.sub_account_id
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency,
  value;

-- accounts: purchases
WITH cost_lines AS (
  SELECT
    "BilledCost" AS billed_cost,
    "BillingAccountId" AS billing_account_id,
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargeFrequency" AS charge_frequency,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "ServiceName" AS service_name,
    "SubAccountId" AS sub_account_id
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  cost_lines.service_name AS service,
  cost_lines.charge_frequency AS frequency,
  cost_lines.sub_account_id AS value,
  CAST(SUM(cost_lines.billed_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.billing_account_id IN ('999999999999')
  AND cost_lines.charge_category = 'Purchase'
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency,
  cost_lines.service_name,
  cost_lines.charge_frequency,
  cost_lines.sub_account_id
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency,
  service,
  frequency,
  value;

-- accounts: root-cause breakdown
WITH cost_lines AS (
  SELECT
    "BilledCost" AS billed_cost,
    "BillingAccountId" AS billing_account_id,
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "RegionId" AS region_id,
    "ServiceName" AS service_name,
    "SkuId" AS sku_id,
    "SkuMeter" AS sku_meter,
    "SubAccountId" AS sub_account_id,
    "SubAccountName" AS sub_account_name
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name AS service,
  cost_lines.region_id AS region,
  cost_lines.sub_account_id AS sub_account,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id) AS usage,
  MAX(cost_lines.sub_account_name) AS sub_account_name,
  CAST(SUM(cost_lines.billed_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.billing_currency = 'USD'
  AND cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.billing_account_id IN ('999999999999')
  AND cost_lines.charge_category IN ('Usage')
  AND cost_lines.sub_account_id = '111111111111'
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name,
  cost_lines.region_id,
  cost_lines.sub_account_id,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id)
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  service,
  region,
  sub_account,
  usage;

-- teams: daily series
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "Tags" AS tags
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  CAST((
    JSON_FORMAT(JSON_EXTRACT(cost_lines.tags, '$["team"]'))
  ) AS VARCHAR) AS tag,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_category IN ('Usage')
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency,
  CAST((
    JSON_FORMAT(JSON_EXTRACT(cost_lines.tags, '$["team"]'))
  ) AS VARCHAR)
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency,
  tag;

-- teams: purchases
WITH cost_lines AS (
  SELECT
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargeFrequency" AS charge_frequency,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "ServiceName" AS service_name,
    "Tags" AS tags
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency AS currency,
  cost_lines.service_name AS service,
  cost_lines.charge_frequency AS frequency,
  CAST((
    JSON_FORMAT(JSON_EXTRACT(cost_lines.tags, '$["team"]'))
  ) AS VARCHAR) AS tag,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_category = 'Purchase'
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.billing_currency,
  cost_lines.service_name,
  cost_lines.charge_frequency,
  CAST((
    JSON_FORMAT(JSON_EXTRACT(cost_lines.tags, '$["team"]'))
  ) AS VARCHAR)
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  currency,
  service,
  frequency,
  tag;

-- teams: root-cause breakdown
WITH cost_lines AS (
  SELECT
    "BillingAccountId" AS billing_account_id,
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodEnd" AS charge_period_end,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "RegionId" AS region_id,
    "ServiceName" AS service_name,
    "SkuId" AS sku_id,
    "SkuMeter" AS sku_meter,
    "SubAccountId" AS sub_account_id,
    "SubAccountName" AS sub_account_name,
    "Tags" AS tags,
    "x_Source" AS source
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name AS service,
  cost_lines.region_id AS region,
  cost_lines.sub_account_id AS sub_account,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id) AS usage,
  cost_lines.source,
  cost_lines.billing_account_id,
  CAST((
    JSON_FORMAT(JSON_EXTRACT(cost_lines.tags, '$["team"]'))
  ) AS VARCHAR) AS tag,
  MAX(cost_lines.sub_account_name) AS sub_account_name,
  CAST(SUM(cost_lines.effective_cost) AS DOUBLE) AS cost
FROM cost_lines
WHERE
  cost_lines.billing_currency = 'USD'
  AND cost_lines.charge_period_start < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_end > CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_category IN ('Usage')
GROUP BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  cost_lines.service_name,
  cost_lines.region_id,
  cost_lines.sub_account_id,
  COALESCE(cost_lines.sku_meter, cost_lines.sku_id),
  cost_lines.source,
  cost_lines.billing_account_id,
  CAST((
    JSON_FORMAT(JSON_EXTRACT(cost_lines.tags, '$["team"]'))
  ) AS VARCHAR)
ORDER BY
  cost_lines.charge_period_start,
  cost_lines.charge_period_end,
  service,
  region,
  sub_account,
  usage,
  cost_lines.source,
  cost_lines.billing_account_id,
  tag;

-- chargeback: every line of the period
WITH cost_lines AS (
  SELECT
    "BilledCost" AS billed_cost,
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "ResourceId" AS resource_id,
    "ServiceCategory" AS service_category,
    "ServiceName" AS service_name,
    "SubAccountId" AS sub_account_id,
    "Tags" AS tags
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  cost_lines.billed_cost,
  cost_lines.effective_cost,
  cost_lines.charge_period_start,
  cost_lines.billing_currency,
  cost_lines.charge_category,
  cost_lines.service_name,
  cost_lines.service_category,
  cost_lines.sub_account_id,
  cost_lines.resource_id,
  CAST(cost_lines.tags AS VARCHAR) AS tags
FROM cost_lines
WHERE
  cost_lines.charge_period_start >= CAST('2026-07-01 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
  AND cost_lines.charge_period_start < CAST('2026-08-01 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE);

-- chargeback: lines summed to the rules' columns
WITH cost_lines AS (
  SELECT
    "BilledCost" AS billed_cost,
    "BillingCurrency" AS billing_currency,
    "ChargeCategory" AS charge_category,
    "ChargePeriodStart" AS charge_period_start,
    "EffectiveCost" AS effective_cost,
    "ResourceId" AS resource_id,
    "ServiceCategory" AS service_category,
    "ServiceName" AS service_name,
    "SubAccountId" AS sub_account_id,
    "Tags" AS tags
  FROM "AwsDataCatalog"."finops"."cost_lines"
  WHERE
    billing_period IN ('2026-06', '2026-07')
)
SELECT
  SUM(anon_1.billed_cost) AS billed_cost,
  SUM(anon_1.effective_cost) AS effective_cost,
  MIN(anon_1.charge_period_start) AS charge_period_start,
  anon_1.billing_currency,
  NULL AS charge_category,
  anon_1.service_name,
  NULL AS service_category,
  anon_1.sub_account_id,
  NULL AS resource_id,
  anon_1.tags
FROM (
  SELECT
    cost_lines.billed_cost AS billed_cost,
    cost_lines.effective_cost AS effective_cost,
    cost_lines.charge_period_start AS charge_period_start,
    cost_lines.billing_currency AS billing_currency,
    cost_lines.charge_category AS charge_category,
    cost_lines.service_name AS service_name,
    cost_lines.service_category AS service_category,
    cost_lines.sub_account_id AS sub_account_id,
    cost_lines.resource_id AS resource_id,
    CAST(cost_lines.tags AS VARCHAR) AS tags
  FROM cost_lines
  WHERE
    cost_lines.charge_period_start >= CAST('2026-07-01 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
    AND cost_lines.charge_period_start < CAST('2026-08-01 00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)
) AS anon_1
GROUP BY
  anon_1.billing_currency,
  anon_1.service_name,
  anon_1.sub_account_id,
  anon_1.tags;

