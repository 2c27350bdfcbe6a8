"""Google Cloud's billing export, read in place in BigQuery: one query per charge period.

Three tables Google fills in the dataset the export was set up with:

============  ================================================  =================================
``export``    table                                             what one row is
============  ================================================  =================================
standard      ``gcp_billing_export_v1_<ACCOUNT>``               a service/SKU/project's usage
detailed      ``gcp_billing_export_resource_v1_<ACCOUNT>``      the same per resource
focus         ``gcp_billing_export_focus_<ACCOUNT>``            a FOCUS row (Google's mapping)
============  ================================================  =================================

(``<ACCOUNT>`` is the billing account id with ``_`` for ``-``.) The standard and detailed
tables are mapped to FOCUS columns *by the query*, so BigQuery does the work and only FOCUS
rows come back, as Arrow: ``BilledCost`` and ``EffectiveCost`` are ``cost`` plus every credit
(``SUM(credits.amount)``: promotions, free tier, sustained-use and committed-use credits all
reduce the invoice, and Google Cloud has no upfront fees to amortise), ``ContractedCost`` is
``cost`` before credits, ``ListCost`` is ``cost_at_list``; ``cost_type`` gives the category
(``tax`` -> Tax, ``adjustment`` and ``rounding_error`` -> Adjustment with ChargeClass
Correction, ``regular`` -> Usage); tags are the project's labels overridden by the row's own.
Money is cast to ``NUMERIC`` in BigQuery (the export stores FLOAT64) before it is summed.

Charge-period filter: rows whose ``usage_start_time`` falls in ``[start, end)`` (the charge
period, as for every source; ``invoice.month`` is not used because late corrections of a month
are invoiced in a later one). The two exports are ingestion-time partitioned by day, and a row
is never exported before its usage starts, so ``_PARTITIONTIME >= start`` prunes every
partition loaded before the period while keeping corrections loaded weeks later. The FOCUS
table is filtered on ``ChargePeriodStart``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from tasks.cost.normalise import normalise
from tasks.cost.sources.base import CostChunk, CostSource
from tasks.errors import ConfigurationError, ServiceUnavailableError, ThrottledError

__all__ = ["BATCH_ROWS", "EXPORTS", "BigQueryBillingExportSource", "export_table"]

log = logging.getLogger(__name__)

ExportKind = Literal["standard", "detailed", "focus"]
EXPORTS: dict[str, str] = {
    "standard": "gcp_billing_export_v1_",
    "detailed": "gcp_billing_export_resource_v1_",
    "focus": "gcp_billing_export_focus_",
}
# Rows per chunk (one page of query results each): memory stays bounded by a page.
BATCH_ROWS = 100_000
_THROTTLED = {"rateLimitExceeded", "quotaExceeded", "jobRateLimitExceeded"}
_TABLE = re.compile(r"^[A-Za-z0-9_.:-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]+$")

_MAPPED = """
SELECT
  CAST(x.cost AS NUMERIC) + IFNULL(
    (SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(x.credits) AS c), 0) AS BilledCost,
  x.billing_account_id AS BillingAccountId,
  CAST(NULL AS STRING) AS BillingAccountName,
  x.currency AS BillingCurrency,
  TIMESTAMP(PARSE_DATE('%Y%m', x.invoice.month)) AS BillingPeriodStart,
  TIMESTAMP(DATE_ADD(PARSE_DATE('%Y%m', x.invoice.month), INTERVAL 1 MONTH)) AS BillingPeriodEnd,
  CASE x.cost_type WHEN 'tax' THEN 'Tax' WHEN 'adjustment' THEN 'Adjustment'
    WHEN 'rounding_error' THEN 'Adjustment' ELSE 'Usage' END AS ChargeCategory,
  CASE WHEN x.cost_type IN ('adjustment', 'rounding_error') THEN 'Correction' END AS ChargeClass,
  x.sku.description AS ChargeDescription,
  CASE x.cost_type WHEN 'regular' THEN 'Usage-Based' END AS ChargeFrequency,
  x.usage_start_time AS ChargePeriodStart,
  x.usage_end_time AS ChargePeriodEnd,
  CAST(x.cost AS NUMERIC) AS ContractedCost,
  CAST(x.cost AS NUMERIC) + IFNULL(
    (SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(x.credits) AS c), 0) AS EffectiveCost,
  'Google' AS InvoiceIssuerName,
  CAST(x.cost_at_list AS NUMERIC) AS ListCost,
  CAST(x.usage.amount_in_pricing_units AS NUMERIC) AS PricingQuantity,
  x.usage.pricing_unit AS PricingUnit,
  CAST(x.usage.amount AS NUMERIC) AS ConsumedQuantity,
  x.usage.unit AS ConsumedUnit,
  'Google Cloud' AS ProviderName,
  'Google Cloud' AS PublisherName,
  x.location.region AS RegionId,
  x.location.zone AS AvailabilityZone,
  CAST(NULL AS STRING) AS ServiceCategory,
  x.service.description AS ServiceName,
  x.sku.id AS SkuId,
  x.project.id AS SubAccountId,
  x.project.name AS SubAccountName,
  ARRAY_CONCAT(x.project.labels, x.labels) AS Tags,{resource}
  x.cost_type AS x_CostType,
  x.invoice.month AS x_InvoiceMonth,
  CAST(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(x.credits) AS c), 0)
    AS STRING) AS x_CreditsTotal
FROM `{table}` AS x
WHERE x._PARTITIONTIME >= TIMESTAMP('{start}')
  AND x.usage_start_time >= TIMESTAMP('{start}')
  AND x.usage_start_time < TIMESTAMP('{end}')
"""
_RESOURCE = """
  x.resource.global_name AS ResourceId,
  x.resource.name AS ResourceName,"""
_FOCUS = """
SELECT x.*
FROM `{table}` AS x
WHERE x.ChargePeriodStart >= TIMESTAMP('{start}') AND x.ChargePeriodStart < TIMESTAMP('{end}')
"""


def export_table(dataset: str, export: ExportKind, billing_account_id: str) -> str:
    """The table Google names for ``export`` of ``billing_account_id`` in ``project.dataset``."""
    return f"{dataset}.{EXPORTS[export]}{billing_account_id.replace('-', '_')}"


class BigQueryBillingExportSource(CostSource):
    """A billing export table read in place through a ``google.cloud.bigquery.Client``.

    Args:
        name: the source name (owner of its rows in the lake).
        table: the export's full name, ``project.dataset.table``.
        export: which export the table is (``standard``, ``detailed`` or ``focus``).
        client: a factory for the client; queries run (and are billed) in its project.
        batch_rows: rows per page of results, and so per chunk.
    """

    kind = "Google Cloud billing export in BigQuery"

    def __init__(
        self,
        name: str,
        table: str,
        export: ExportKind,
        *,
        client: Callable[[], Any],
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        if not _TABLE.match(table):
            raise ConfigurationError(
                f"source {name!r}: table {table!r} is not project.dataset.table"
            )
        if export not in EXPORTS:
            raise ConfigurationError(f"source {name!r}: export must be one of {', '.join(EXPORTS)}")
        self.name = name
        self.table = table
        self.export = export
        self._client = client
        self.batch_rows = batch_rows

    def sql(self, start: date, end: date) -> str:
        """The GoogleSQL that returns the period's rows in FOCUS columns."""
        if self.export == "focus":
            return _FOCUS.format(table=self.table, start=start, end=end)
        resource = _RESOURCE if self.export == "detailed" else ""
        return _MAPPED.format(table=self.table, start=start, end=end, resource=resource)

    def fetch(self, start: date, end: date) -> Iterator[CostChunk]:
        origin = f"bigquery:{self.table}"
        log.info("Querying %s for %s..%s", self.table, start, end)
        first = 1
        for batch in self._pages(self.sql(start, end)):
            raw = _tags_as_map(pa.Table.from_batches([batch]))
            lines = normalise(raw, origin, first_row=first)
            yield CostChunk(origin=origin, lines=lines, first_row=first)
            first += batch.num_rows

    def _pages(self, sql: str) -> Iterator[pa.RecordBatch]:
        from google.api_core import exceptions as gexc
        from google.auth import exceptions as auth_exc

        what = f"BigQuery table {self.table}"
        try:
            # No job_retry: the client would retry a rate-limited job for up to 10 minutes;
            # ThrottledError lets the task's retry policy decide (one layer of backoff).
            job = self._client().query(sql, job_retry=None)
            rows = job.result(page_size=self.batch_rows, job_retry=None)
            yield from rows.to_arrow_iterable(bqstorage_client=None)
        except (gexc.NotFound, gexc.Forbidden, gexc.Unauthorized) as exc:
            if _THROTTLED.intersection(e.get("reason") for e in exc.errors or ()):
                # BigQuery answers 403 for quotas and rate limits too: those pass.
                raise ThrottledError(f"{what}: throttled ({exc.code})") from None
            raise ConfigurationError(
                f"source {self.name!r}: {what}: {type(exc).__name__} (the table must exist and "
                "the credentials need bigquery.jobs.create and BigQuery Data Viewer on its "
                "dataset)"
            ) from None
        except gexc.BadRequest as exc:
            raise ConfigurationError(
                f"source {self.name!r}: {what}: query refused ({_first_line(exc)})"
            ) from None
        except gexc.TooManyRequests as exc:
            raise ThrottledError(f"{what}: throttled ({exc.code})") from None
        except (gexc.GoogleAPIError, OSError) as exc:
            raise ServiceUnavailableError(f"{what}: unavailable ({type(exc).__name__})") from None
        except auth_exc.GoogleAuthError as exc:
            raise ConfigurationError(f"{what}: credentials: {type(exc).__name__}") from None


def _first_line(exc: Any) -> str:
    message = str(getattr(exc, "message", "") or exc)
    return message.splitlines()[0][:200] if message else type(exc).__name__


def _tags_as_map(raw: pa.Table) -> pa.Table:
    """Labels (``ARRAY<STRUCT<key, value>>``) as a map, the later of equal keys winning."""
    if "Tags" not in raw.column_names:
        return raw
    tags = raw["Tags"].combine_chunks()
    kind = tags.type
    if not (pa.types.is_list(kind) and pa.types.is_struct(kind.value_type)):
        return raw
    entries = tags.values  # the offsets index the whole child array, even of a slice
    mapped = pa.MapArray.from_arrays(
        tags.offsets,
        pc.cast(entries.field("key"), pa.string()),
        pc.cast(entries.field("value"), pa.string()),
        mask=tags.is_null(),
    )
    # A row without labels has no tags (null), as in the other sources.
    empty = pc.equal(pc.list_value_length(tags), 0)
    mapped = pc.if_else(empty, pa.scalar(None, mapped.type), mapped)
    return raw.set_column(raw.column_names.index("Tags"), "Tags", mapped)
