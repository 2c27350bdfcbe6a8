"""AWS Cost Explorer (``ce:GetCostAndUsage``) as a FOCUS cost source.

Three queries per period, all ``DAILY`` with ``UnblendedCost``, ``AmortizedCost`` and
``NetUnblendedCost``: usage grouped by ``SERVICE`` and ``LINKED_ACCOUNT`` (every record type
except the charges below), usage by a cost-allocation tag (default ``team``; the tag totals,
kept apart so nothing is counted twice), and the charges that are not usage (fees,
purchases, credits, refunds: :data:`CHARGE_RECORD_TYPES`) grouped by ``RECORD_TYPE`` and
``SERVICE``, each mapped to its FOCUS charge category, class and frequency, so that a monthly
fee is a recurring purchase and never a one-day jump in usage.
Every ``NextPageToken`` is followed. ``ThrottlingException`` / ``LimitExceededException`` are
retried with exponential backoff and jitter, then raised as :class:`~tasks.errors.ThrottledError`
naming the request (never the credentials). botocore's own retries are turned off for this
client (see :mod:`tasks.cost.sources.config`) so this is the only retry layer.

Mapping to FOCUS 1.2 (one line per day x service x linked account):

==========================  =====================================================================
FOCUS column                from Cost Explorer
==========================  =====================================================================
BilledCost                  ``UnblendedCost.Amount`` (what the invoice shows)
EffectiveCost               ``AmortizedCost.Amount`` (upfront fees spread over their term)
ContractedCost              ``NetUnblendedCost.Amount`` (after negotiated discounts; the closest
                            metric Cost Explorer offers)
ListCost, ListUnitPrice     null: Cost Explorer has no public price
BillingCurrency             ``UnblendedCost.Unit``
BillingAccountId / Name     the configured payer account (default: the caller's account, STS)
SubAccountId / Name         the ``LINKED_ACCOUNT`` key / its ``DimensionValueAttributes``
                            description
ServiceName / Category      the ``SERVICE`` key / a category from :data:`SERVICE_CATEGORIES`
ChargePeriodStart / End     ``TimePeriod.Start`` / ``End`` (00:00 UTC; end exclusive)
BillingPeriodStart / End    the calendar month of the charge day
ChargeCategory / Class /    usage lines: ``Tax`` for the ``Tax`` service, ``Usage`` otherwise,
ChargeFrequency             ``Usage-Based``; charge lines by record type
                            (:data:`CHARGE_RECORD_TYPES`): fees ``Purchase`` / ``Recurring``,
                            upfront payments ``Purchase`` / ``One-Time``, credits ``Credit`` /
                            ``Usage-Based``, refunds ``Credit`` / ``Correction`` / ``One-Time``
SubAccountId (charges)      null: charge lines are grouped by record type and service
ProviderName / Publisher /  ``AWS`` / ``Amazon Web Services`` / ``Amazon Web Services``
InvoiceIssuerName
PricingQuantity / Unit      null (usage quantities of different services do not add up)
(estimated)                 ``ResultsByTime[].Estimated``: provisional, replaced by a later run
==========================  =====================================================================
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import pyarrow as pa

from tasks.cost.focus import MANDATORY, CostDataError, DataIssue
from tasks.cost.normalise import normalise
from tasks.cost.sources.base import TAG_TOTALS_SCHEMA, CostChunk, CostSource
from tasks.errors import (
    ConfigurationError,
    PermanentError,
    ServiceUnavailableError,
    ThrottledError,
)

__all__ = [
    "CHARGE_RECORD_TYPES",
    "METRICS",
    "SERVICE_CATEGORIES",
    "THROTTLING_CODES",
    "CostExplorerApi",
    "CostExplorerSource",
]

log = logging.getLogger(__name__)

METRICS = ("UnblendedCost", "AmortizedCost", "NetUnblendedCost")
# Cost Explorer record types that are not usage: (ChargeCategory, ChargeClass, ChargeFrequency).
# Every other record type (Usage, DiscountedUsage, SavingsPlanCoveredUsage, SavingsPlanNegation,
# Tax, and any type AWS adds later) stays in the usage lines: nothing is dropped.
CHARGE_RECORD_TYPES: dict[str, tuple[str, str | None, str]] = {
    "RIFee": ("Purchase", None, "Recurring"),
    "SavingsPlanRecurringFee": ("Purchase", None, "Recurring"),
    "Support": ("Purchase", None, "Recurring"),
    "Recurring reservation fee": ("Purchase", None, "Recurring"),
    "Upfront": ("Purchase", None, "One-Time"),
    "SavingsPlanUpfrontFee": ("Purchase", None, "One-Time"),
    "Fee": ("Purchase", None, "One-Time"),
    "Credit": ("Credit", None, "Usage-Based"),
    "Refund": ("Credit", "Correction", "One-Time"),
}
THROTTLING_CODES = frozenset({"ThrottlingException", "LimitExceededException", "Throttling"})
_DENIED = frozenset(
    {"AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId"}
)
_MAX_PAGES = 1_000
SERVICE_CATEGORIES = {
    "Amazon Elastic Compute Cloud - Compute": "Compute",
    "Amazon Elastic Compute Cloud": "Compute",
    "EC2 - Other": "Compute",
    "AWS Lambda": "Compute",
    "Amazon Elastic Container Service": "Compute",
    "Amazon Elastic Kubernetes Service": "Compute",
    "Amazon Simple Storage Service": "Storage",
    "Amazon Elastic File System": "Storage",
    "Amazon Relational Database Service": "Databases",
    "Amazon DynamoDB": "Databases",
    "Amazon ElastiCache": "Databases",
    "Amazon CloudFront": "Networking",
    "Amazon Virtual Private Cloud": "Networking",
    "Elastic Load Balancing": "Networking",
    "Amazon Route 53": "Networking",
    "Amazon Simple Queue Service": "Integration",
    "Amazon Simple Notification Service": "Integration",
    "AmazonCloudWatch": "Management and Governance",
    "AWS CloudTrail": "Management and Governance",
    "Amazon SageMaker": "AI and Machine Learning",
    "Amazon Bedrock": "AI and Machine Learning",
    "Amazon Athena": "Analytics",
    "AWS Key Management Service": "Security",
    "Tax": "Other",
}


class CostExplorerApi(Protocol):
    """The slice of a boto3 ``ce`` client this source uses (a snapshot implements it too)."""

    def get_cost_and_usage(self, **kwargs: Any) -> dict[str, Any]: ...


class CostExplorerSource(CostSource):
    """Daily AWS cost from Cost Explorer, as FOCUS lines and per-tag totals.

    Args:
        name: the source name.
        client: a ``ce`` client, or a factory called once per :meth:`fetch`.
        billing_account_id: the payer account the cost is invoiced to; default: ``account_id()``.
        account_id: a factory returning the caller's account id (STS), used when the payer
            account is not configured.
        tag_key: the cost-allocation tag of the tag totals (``None`` skips that query).
        max_attempts: attempts per request when throttled (1 = no retry).
        base_delay: seconds before the first retry; doubled each time, capped at ``max_delay``.
        sleep: how to wait (tests pass a recorder).
    """

    kind = "AWS Cost Explorer"

    def __init__(
        self,
        name: str,
        client: CostExplorerApi | Callable[[], CostExplorerApi],
        *,
        billing_account_id: str | None = None,
        billing_account_name: str | None = None,
        account_id: Callable[[], str] | None = None,
        tag_key: str | None = "team",
        max_attempts: int = 6,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self._client = client
        self.billing_account_id = billing_account_id
        self.billing_account_name = billing_account_name
        self._account_id = account_id
        self.tag_key = tag_key
        self.max_attempts = max(1, max_attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self.requests = 0  # GetCostAndUsage calls made (each costs $0.01 on AWS)

    def fetch(self, start: date, end: date) -> Iterator[CostChunk]:
        client = self._client() if callable(self._client) else self._client
        payer = self.billing_account_id or self._caller_account()
        period = {"Start": start.isoformat(), "End": end.isoformat()}
        origin = f"Cost Explorer GetCostAndUsage {start}..{end}"
        groups = [
            {"Type": "DIMENSION", "Key": "SERVICE"},
            {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
        ]
        charges = {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(CHARGE_RECORD_TYPES)}}
        results, names = self._query(
            client, period, groups, "SERVICE,LINKED_ACCOUNT", {"Not": charges}
        )
        raw, estimated = self._lines(results, names, payer, origin)
        tags = None
        if self.tag_key:
            tag_groups = [{"Type": "TAG", "Key": self.tag_key}]
            tag_results, _ = self._query(
                client, period, tag_groups, f"TAG {self.tag_key}", {"Not": charges}
            )
            tags = self._tag_totals(tag_results, payer, f"{origin} by tag {self.tag_key}")
        by_type = [
            {"Type": "DIMENSION", "Key": "RECORD_TYPE"},
            {"Type": "DIMENSION", "Key": "SERVICE"},
        ]
        charge_results, _ = self._query(client, period, by_type, "RECORD_TYPE,SERVICE", charges)
        charge_raw, charge_estimated = self._lines(charge_results, {}, payer, origin, charge=True)
        raw = pa.concat_tables([raw, charge_raw])
        flags = pa.array(estimated + charge_estimated, pa.bool_())
        lines = normalise(raw, origin, estimated=flags)
        yield CostChunk(origin=origin, lines=lines, tag_totals=tags)

    def _caller_account(self) -> str:
        if self._account_id is None:
            raise ConfigurationError(f"source {self.name!r}: set billing_account_id")
        return self._account_id()

    def _query(
        self,
        client: CostExplorerApi,
        period: dict[str, str],
        group_by: list[dict[str, str]],
        label: str,
        filter_: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Every page of one grouped query: its ResultsByTime and the dimension value names."""
        request: dict[str, Any] = {
            "TimePeriod": period,
            "Granularity": "DAILY",
            "Metrics": list(METRICS),
            "GroupBy": group_by,
        }
        if filter_ is not None:
            request["Filter"] = filter_
        results: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        seen: set[str] = set()
        for page in range(1, _MAX_PAGES + 1):
            what = f"GetCostAndUsage {period['Start']}..{period['End']} by {label}, page {page}"
            response = self._call(client, request, what)
            results.extend(response.get("ResultsByTime", []))
            for attribute in response.get("DimensionValueAttributes", []):
                description = attribute.get("Attributes", {}).get("description")
                if description:
                    names[attribute["Value"]] = description
            token = response.get("NextPageToken")
            if not token:
                return results, names
            if token in seen:
                raise PermanentError(f"Cost Explorer repeated a NextPageToken in {what}")
            seen.add(token)
            request["NextPageToken"] = token
        raise PermanentError(f"Cost Explorer returned more than {_MAX_PAGES} pages by {label}")

    def _call(self, client: CostExplorerApi, request: dict[str, Any], what: str) -> dict[str, Any]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            try:
                return client.get_cost_and_usage(**request)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "ClientError")
                if code in THROTTLING_CODES:
                    if attempt == self.max_attempts:
                        raise ThrottledError(
                            f"Cost Explorer {what}: still throttled ({code}) after "
                            f"{attempt} attempt(s)"
                        ) from None
                    delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                    delay *= random.uniform(0.5, 1.0)  # jitter: spread out concurrent retries
                    log.info("Cost Explorer throttled (%s); retrying in %.1f s", code, delay)
                    self._sleep(delay)
                    continue
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code in _DENIED:
                    raise ConfigurationError(f"Cost Explorer refused {what} ({code})") from None
                if status >= 500:
                    raise ServiceUnavailableError(f"Cost Explorer failed {what} ({code})") from None
                raise PermanentError(f"Cost Explorer rejected {what} ({code})") from None
            except (NoCredentialsError, PartialCredentialsError) as exc:
                # Not transient: retrying only repeats the credential-provider chain's timeouts.
                raise ConfigurationError(
                    f"Cost Explorer {what}: no usable AWS credentials ({type(exc).__name__}); "
                    "configure the source's AwsCredentials block or the AWS_* environment"
                ) from None
            except BotoCoreError as exc:
                raise ServiceUnavailableError(
                    f"Cost Explorer unreachable for {what} ({type(exc).__name__})"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _lines(
        self,
        results: list[dict[str, Any]],
        names: dict[str, str],
        payer: str,
        origin: str,
        charge: bool = False,
    ) -> tuple[pa.Table, list[bool]]:
        """FOCUS lines of one query: usage (``SERVICE``, ``LINKED_ACCOUNT`` keys) or, with
        ``charge``, charges (``RECORD_TYPE``, ``SERVICE`` keys) classified by record type."""
        rows: list[dict[str, Any]] = []
        estimated: list[bool] = []
        for result in results:
            start, end = _day(result, origin), _day(result, origin, "End")
            month_start = datetime(start.year, start.month, 1, tzinfo=UTC)
            month_end = datetime(
                start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC
            )
            for group in result.get("Groups", []):
                first, second = [*group.get("Keys", []), "", ""][:2]
                if charge:
                    record_type, service, account = first, second, ""
                    category, charge_class, frequency = CHARGE_RECORD_TYPES.get(
                        record_type, ("Usage", None, "Usage-Based")
                    )
                    description = f"{service} {record_type} (Cost Explorer)"
                else:
                    service, account = first, second
                    category = "Tax" if service == "Tax" else "Usage"
                    charge_class, frequency = None, "Usage-Based"
                    description = f"{service} daily cost (Cost Explorer)"
                metrics = group.get("Metrics", {})
                billed = metrics.get("UnblendedCost", {})
                rows.append(
                    {
                        "BilledCost": billed.get("Amount"),
                        "EffectiveCost": metrics.get("AmortizedCost", {}).get("Amount"),
                        "ContractedCost": metrics.get("NetUnblendedCost", {}).get("Amount"),
                        "ListCost": None,
                        "BillingCurrency": billed.get("Unit"),
                        "BillingAccountId": payer,
                        "BillingAccountName": self.billing_account_name,
                        "SubAccountId": account or None,
                        "SubAccountName": names.get(account),
                        "ServiceName": service,
                        "ServiceCategory": SERVICE_CATEGORIES.get(service, "Other"),
                        "ChargePeriodStart": start.isoformat(),
                        "ChargePeriodEnd": end.isoformat(),
                        "BillingPeriodStart": month_start.isoformat(),
                        "BillingPeriodEnd": month_end.isoformat(),
                        "ChargeCategory": category,
                        "ChargeClass": charge_class,
                        "ChargeFrequency": frequency,
                        "ChargeDescription": description,
                        "ProviderName": "AWS",
                        "PublisherName": "Amazon Web Services",
                        "InvoiceIssuerName": "Amazon Web Services",
                        "PricingQuantity": None,
                        "PricingUnit": None,
                    }
                )
                estimated.append(bool(result.get("Estimated", False)))
        return pa.Table.from_pylist(rows, schema=_LINE_SCHEMA), estimated

    def _tag_totals(self, results: list[dict[str, Any]], payer: str, origin: str) -> pa.Table:
        rows: list[dict[str, Any]] = []
        issues: list[DataIssue] = []
        for result in results:
            start, end = _day(result, origin), _day(result, origin, "End")
            for group in result.get("Groups", []):
                key = (group.get("Keys") or [""])[0]
                # Cost Explorer renders a tag group as "team$platform"; "team$" is untagged cost.
                value = key.split("$", 1)[1] if "$" in key else key
                metrics = group.get("Metrics", {})
                amounts = {}
                for metric, column in zip(METRICS, _TAG_COLUMNS, strict=True):
                    amounts[column] = _amount(metrics.get(metric, {}).get("Amount"))
                    if amounts[column] is None and column != "contracted_cost":
                        issues.append(
                            DataIssue(origin, len(rows) + 1, metric, "missing or not a number")
                        )
                rows.append(
                    {
                        "provider_name": "AWS",
                        "billing_account_id": payer,
                        "tag_key": self.tag_key,
                        "tag_value": value,
                        "charge_period_start": start,
                        "charge_period_end": end,
                        **amounts,
                        "billing_currency": metrics.get("UnblendedCost", {}).get("Unit") or "",
                        "estimated": bool(result.get("Estimated", False)),
                    }
                )
        if issues:
            raise CostDataError(issues)
        return pa.Table.from_pylist(rows, schema=TAG_TOTALS_SCHEMA)


_SCALE = Decimal("1e-12")
_TAG_COLUMNS = ("billed_cost", "effective_cost", "contracted_cost")
# The columns a Cost Explorer line fills (as text; normalise() types and validates them).
_LINE_SCHEMA = pa.schema(
    [
        pa.field(name, pa.string())
        for name in (*MANDATORY, "ChargeFrequency", "SubAccountId", "SubAccountName")
    ]
)


def _day(result: dict[str, Any], origin: str, which: str = "Start") -> datetime:
    raw = result.get("TimePeriod", {}).get(which, "")
    try:
        return datetime.fromisoformat(raw[:10]).replace(tzinfo=UTC)
    except ValueError:
        raise CostDataError(
            [DataIssue(origin, None, f"TimePeriod.{which}", f"unparseable date {raw!r}")]
        ) from None


def _amount(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    return value.quantize(_SCALE) if value.as_tuple().exponent < -12 else value  # type: ignore[operator]
