"""Google Cloud cost: the billing export in FOCUS form, completed from the Cloud Billing API.

Cost lines come from the billing export (FOCUS CSV/Parquet, locally or in S3-compatible storage;
read by :class:`~tasks.cost.sources.focus_files.FocusFileSource`). The Cloud Billing API adds what
an export may lack:

- ``CloudBillingClient``: the billing accounts (their display names fill ``BillingAccountName``)
  and the project -> billing account map (fills ``BillingAccountId`` from ``SubAccountId``, the
  project, where the export leaves it empty);
- ``CloudCatalogClient.list_skus``: list prices with tiered rates, in the billing currency. They
  fill ``ListCost`` / ``ListUnitPrice`` where missing, pricing each row's ``PricingQuantity``
  (assumed in the SKU's usage unit) across the tiers from the usage already seen that month for
  the same account and SKU; and they check effective unit prices (``EffectiveCost /
  PricingQuantity`` above the highest list rate is reported as a note, not rejected).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.cost.focus import DECIMAL
from tasks.cost.sources.base import CostChunk
from tasks.cost.sources.focus_files import FocusFileSource
from tasks.errors import ConfigurationError, ServiceUnavailableError, ThrottledError

__all__ = ["BillingDirectory", "GcpBillingSource", "PriceBook", "SkuPrice", "google_call"]

log = logging.getLogger(__name__)
_SCALE = Decimal("1e-12")
_NANO = Decimal("1e-9")


@dataclass(frozen=True)
class SkuPrice:
    """A SKU's list price: tiers of ``(start usage, unit price)`` in one currency and unit."""

    sku_id: str
    usage_unit: str
    currency: str
    tiers: tuple[tuple[Decimal, Decimal], ...]

    def cost(self, quantity: Decimal, used_before: Decimal = Decimal(0)) -> Decimal:
        """List cost of ``quantity`` after ``used_before`` units this month (tiers apply)."""
        begin, end = used_before, used_before + quantity
        total = Decimal(0)
        for index, (start, price) in enumerate(self.tiers):
            upper = self.tiers[index + 1][0] if index + 1 < len(self.tiers) else None
            low = max(begin, start)
            high = end if upper is None else min(end, upper)
            if high > low:
                total += (high - low) * price
        return total

    def rate_at(self, used: Decimal) -> Decimal:
        """The unit price of the tier that ``used`` units fall in."""
        rate = self.tiers[0][1]
        for start, price in self.tiers:
            if used >= start:
                rate = price
        return rate

    @property
    def highest_rate(self) -> Decimal:
        return max(price for _start, price in self.tiers)


def _listed(method: Callable[..., Any], **kwargs: Any) -> list[Any]:
    return list(method(**kwargs))


def google_call(what: str, call: Callable[[], Any]) -> Any:
    """Run a Cloud Billing call, mapping failures onto Traceo's transient/permanent errors."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    try:
        return call()
    except (gexc.TooManyRequests, gexc.ResourceExhausted) as exc:
        raise ThrottledError(f"Cloud Billing {what}: throttled ({exc.code})") from None
    except (gexc.ServiceUnavailable, gexc.InternalServerError, gexc.DeadlineExceeded) as exc:
        raise ServiceUnavailableError(f"Cloud Billing {what}: unavailable ({exc.code})") from None
    except (gexc.NotFound, gexc.PermissionDenied, gexc.Unauthenticated) as exc:
        raise ConfigurationError(f"Cloud Billing {what}: {type(exc).__name__}") from None
    except gexc.GoogleAPICallError as exc:
        raise ServiceUnavailableError(f"Cloud Billing {what}: {type(exc).__name__}") from None
    except auth_exc.GoogleAuthError as exc:
        raise ConfigurationError(f"Cloud Billing {what}: {type(exc).__name__}") from None
    except OSError as exc:  # connection refused, DNS, TLS: requests' errors derive from it
        raise ServiceUnavailableError(f"Cloud Billing {what}: {type(exc).__name__}") from None


@dataclass(frozen=True)
class BillingDirectory:
    """Billing account names and the project -> billing account map, from CloudBillingClient."""

    account_names: dict[str, str]
    project_accounts: dict[str, str]

    @classmethod
    def load(cls, client: Any, only_account: str | None = None) -> BillingDirectory:
        accounts = google_call(
            "list billing accounts", lambda: list(client.list_billing_accounts())
        )
        names = {a.name.split("/", 1)[1]: a.display_name for a in accounts}
        if only_account is not None and only_account not in names:
            raise ConfigurationError(f"billing account {only_account} is not visible")
        projects: dict[str, str] = {}
        for account in [only_account] if only_account else sorted(names):
            name = f"billingAccounts/{account}"
            infos = google_call(
                f"list projects of billing account {account}",
                partial(_listed, client.list_project_billing_info, name=name),
            )
            for info in infos:
                if info.billing_enabled and info.billing_account_name:
                    projects[info.project_id] = info.billing_account_name.split("/", 1)[1]
        return cls(names, projects)


class PriceBook:
    """List prices from ``CloudCatalogClient``, loaded per service and currency on first use."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._services: dict[str, str] | None = None  # display name -> "services/ID"
        self._prices: dict[tuple[str, str], dict[str, SkuPrice]] = {}

    def price(self, service_name: str | None, sku_id: str, currency: str) -> SkuPrice | None:
        if not service_name:
            return None
        services = self._service_ids()
        parent = services.get(service_name)
        if parent is None:
            return None
        key = (parent, currency)
        if key not in self._prices:
            self._prices[key] = self._load(parent, currency)
        return self._prices[key].get(sku_id)

    def _service_ids(self) -> dict[str, str]:
        if self._services is None:
            listed = google_call("list services", lambda: list(self._client.list_services()))
            self._services = {s.display_name: s.name for s in listed}
        return self._services

    def _load(self, parent: str, currency: str) -> dict[str, SkuPrice]:
        request = {"parent": parent, "currency_code": currency}
        skus = google_call(
            f"list SKUs of {parent} in {currency}",
            lambda: list(self._client.list_skus(request=request)),
        )
        prices = {}
        for item in skus:
            if not item.pricing_info:
                continue
            expression = item.pricing_info[0].pricing_expression
            tiers = tuple(
                (
                    Decimal(str(t.start_usage_amount)),
                    Decimal(t.unit_price.units) + Decimal(t.unit_price.nanos) * _NANO,
                )
                for t in sorted(expression.tiered_rates, key=lambda t: t.start_usage_amount)
            )
            if tiers:
                prices[item.sku_id] = SkuPrice(item.sku_id, expression.usage_unit, currency, tiers)
        return prices


class GcpBillingSource(FocusFileSource):
    """The Google Cloud billing export (FOCUS files) completed from the Cloud Billing API.

    Args:
        name: the source name.
        location: where the export files are (see :class:`FocusFileSource`).
        billing_client: a factory for a ``CloudBillingClient``.
        catalog_client: a factory for a ``CloudCatalogClient``.
        billing_account_id: restrict the project map to this billing account.
    """

    kind = "Google Cloud billing export"

    def __init__(
        self,
        name: str,
        location: str,
        *,
        billing_client: Callable[[], Any],
        catalog_client: Callable[[], Any],
        billing_account_id: str | None = None,
        s3_client: Callable[[], Any] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        super().__init__(name, location, s3_client=s3_client, base_dir=base_dir)
        self._billing_client = billing_client
        self._catalog_client = catalog_client
        self.billing_account_id = billing_account_id
        self._directory: BillingDirectory | None = None
        self._prices: PriceBook | None = None
        self._used: dict[tuple[str, str, str], Decimal] = {}

    def fetch(self, start: date, end: date) -> Iterator[CostChunk]:
        self._directory = BillingDirectory.load(self._billing_client(), self.billing_account_id)
        self._prices = PriceBook(self._catalog_client())
        self._used = {}
        log.info(
            "Cloud Billing: %s account(s), %s project(s)",
            len(self._directory.account_names),
            len(self._directory.project_accounts),
        )
        yield from super().fetch(start, end)

    def prepare(self, raw: pa.Table, origin: str) -> pa.Table:
        """Fill an empty ``BillingAccountId`` from the project's billing account."""
        directory, _prices = self._loaded()
        names = {n.lower(): n for n in raw.column_names}
        project_col = names.get("subaccountid") or names.get("sub_account_id")
        if project_col is None:
            return raw
        projects = raw[project_col].cast(pa.string())
        mapped = _lookup(projects, directory.project_accounts)
        account_col = names.get("billingaccountid") or names.get("billing_account_id")
        if account_col is None:
            return raw.append_column("BillingAccountId", mapped)
        filled = pc.coalesce(raw[account_col].cast(pa.string()), mapped)
        return raw.set_column(raw.column_names.index(account_col), account_col, filled)

    def enrich(self, lines: pa.Table) -> tuple[pa.Table, tuple[str, ...]]:
        """Fill account names and missing list prices; check effective unit prices."""
        directory, _prices = self._loaded()
        names = _lookup(lines["billing_account_id"], directory.account_names)
        lines = lines.set_column(
            lines.column_names.index("billing_account_name"),
            "billing_account_name",
            pc.coalesce(lines["billing_account_name"], names),
        )
        return self._price(lines)

    def _loaded(self) -> tuple[BillingDirectory, PriceBook]:
        if self._directory is None or self._prices is None:
            raise RuntimeError("GcpBillingSource: call fetch(), which loads Cloud Billing first")
        return self._directory, self._prices

    def _price(self, lines: pa.Table) -> tuple[pa.Table, tuple[str, ...]]:
        _directory, prices = self._loaded()
        columns = (
            "billing_account_id",
            "service_name",
            "sku_id",
            "billing_currency",
            "pricing_quantity",
            "effective_cost",
            "list_cost",
            "list_unit_price",
            "charge_period_start",
        )
        rows = lines.select(columns).to_pylist()
        list_cost = lines["list_cost"].to_pylist()
        list_price = lines["list_unit_price"].to_pylist()
        filled = checked = above = unknown = 0
        example = ""
        order = sorted(range(len(rows)), key=lambda i: rows[i]["charge_period_start"])
        for index in order:
            row = rows[index]
            quantity = row["pricing_quantity"]
            if not row["sku_id"] or quantity is None:
                continue
            price = prices.price(row["service_name"], row["sku_id"], row["billing_currency"])
            if price is None:
                unknown += 1
                continue
            month = row["charge_period_start"].strftime("%Y-%m")
            key = (row["billing_account_id"], row["sku_id"], month)
            used = self._used.get(key, Decimal(0))
            if quantity >= 0:
                self._used[key] = used + quantity
            if row["list_cost"] is None and quantity >= 0:
                list_cost[index] = price.cost(quantity, used).quantize(_SCALE)
                if row["list_unit_price"] is None:
                    list_price[index] = price.rate_at(used).quantize(_SCALE)
                filled += 1
            if quantity > 0 and row["effective_cost"] is not None:
                checked += 1
                unit = row["effective_cost"] / quantity
                if unit > price.highest_rate * Decimal("1.000001"):
                    above += 1
                    example = example or (
                        f" (first: SKU {row['sku_id']} at {unit:.6f} > list "
                        f"{price.highest_rate:.6f} {price.currency}/{price.usage_unit})"
                    )
        lines = _replace(lines, "list_cost", list_cost)
        lines = _replace(lines, "list_unit_price", list_price)
        notes = [f"ListCost filled from the Cloud Billing catalogue on {filled} row(s)"]
        notes.append(
            f"effective unit prices checked on {checked} row(s): {above} above list{example}"
        )
        if unknown:
            notes.append(f"{unknown} row(s) with a SKU the catalogue does not list")
        return lines, tuple(notes)


def _lookup(keys: Any, mapping: dict[str, str]) -> pa.ChunkedArray | pa.Array:
    """``mapping[key]`` for every key (null where absent), vectorised over unique keys."""
    unique = pc.unique(keys)
    values = pa.array([mapping.get(k) for k in unique.to_pylist()], pa.string())
    return pc.take(values, pc.index_in(keys, value_set=unique))


def _replace(table: pa.Table, column: str, values: list[Any]) -> pa.Table:
    index = table.column_names.index(column)
    return table.set_column(index, column, pa.array(values, DECIMAL))
