"""A local fake of the Cloud Billing REST API (v1) for tests and the cost demo.

Serves what ``google-cloud-billing``'s ``CloudBillingClient`` and ``CloudCatalogClient`` read,
in proto-JSON (camelCase) over plain HTTP on 127.0.0.1:

- ``GET /v1/billingAccounts``, ``GET /v1/billingAccounts/{id}``
- ``GET /v1/billingAccounts/{id}/projects`` and ``GET /v1/projects/{id}/billingInfo``
- ``GET /v1/services`` and ``GET /v1/services/{id}/skus`` (``pricingInfo`` with
  ``tieredRates``; ``currencyCode`` converts with the fake's exchange rates)

Lists are paged by ``pageSize`` (default :attr:`GcpBillingFake.page_size`, small on purpose) and
``nextPageToken``. Clients must use ``AnonymousCredentials()``, ``transport="rest"`` and
``client_options={"api_endpoint": fake.url}`` (see ``blocks/gcp.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tasks.local_server import ThreadedApp

__all__ = ["BillingCatalog", "GcpBillingFake", "default_catalog", "sku"]


@dataclass
class BillingCatalog:
    """The fake's data: billing accounts, project -> account links, services and their SKUs."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    projects: dict[str, str] = field(default_factory=dict)  # project id -> account id ("" = off)
    services: list[dict[str, Any]] = field(default_factory=list)
    skus: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # service id -> SKUs
    rates: dict[str, Decimal] = field(default_factory=lambda: {"USD": Decimal(1)})


def sku(
    sku_id: str,
    description: str,
    service: str,
    usage_unit: str,
    tiers: list[tuple[float, str]],
    currency: str = "USD",
) -> dict[str, Any]:
    """A catalogue SKU with tiered list prices: ``tiers`` = [(start usage, unit price), ...]."""
    rates = []
    for start, price in tiers:
        units, nanos = _money(Decimal(price))
        rates.append(
            {
                "startUsageAmount": start,
                "unitPrice": {"currencyCode": currency, "units": str(units), "nanos": nanos},
            }
        )
    return {
        "name": f"services/{service}/skus/{sku_id}",
        "skuId": sku_id,
        "description": description,
        "category": {"serviceDisplayName": service, "resourceFamily": "Compute"},
        "serviceRegions": ["global"],
        "pricingInfo": [
            {
                "effectiveTime": "2024-01-01T00:00:00Z",
                "summary": description,
                "pricingExpression": {
                    "usageUnit": usage_unit,
                    "usageUnitDescription": usage_unit,
                    "baseUnit": usage_unit,
                    "baseUnitConversionFactor": 1,
                    "displayQuantity": 1,
                    "tieredRates": rates,
                },
                "currencyConversionRate": 1,
            }
        ],
        "serviceProviderName": "Google",
    }


def default_catalog() -> BillingCatalog:
    """Two billing accounts, four projects, three services with tiered SKUs (USD, EUR at 0.9)."""
    return BillingCatalog(
        accounts=[
            _account("01A2B3-C4D5E6-F7A8B9", "Acme main billing", "USD"),
            _account("0F0F0F-111111-222222", "Acme research billing", "USD"),
        ],
        projects={
            "acme-shop-prod": "01A2B3-C4D5E6-F7A8B9",
            "acme-shop-dev": "01A2B3-C4D5E6-F7A8B9",
            "acme-ml": "0F0F0F-111111-222222",
            "acme-sandbox": "",
        },
        services=[
            _service("6F81-5844-456A", "Compute Engine"),
            _service("95FF-2EF5-5EA1", "Cloud Storage"),
            _service("24E6-581D-38E5", "BigQuery"),
        ],
        skus={
            "6F81-5844-456A": [
                sku("CP-N2-CORE", "N2 Instance Core", "6F81-5844-456A", "h", [(0, "0.031611")]),
                sku("CP-N2-RAM", "N2 Instance Ram", "6F81-5844-456A", "GiBy.h", [(0, "0.004237")]),
            ],
            "95FF-2EF5-5EA1": [
                sku(
                    "GCS-STD",
                    "Standard Storage",
                    "95FF-2EF5-5EA1",
                    "GiBy.mo",
                    [(0, "0.026"), (1024, "0.023"), (10240, "0.020")],
                ),
                sku("GCS-EGRESS", "Network egress", "95FF-2EF5-5EA1", "GiBy", [(0, "0.12")]),
            ],
            "24E6-581D-38E5": [
                sku("BQ-ANALYSIS", "Analysis", "24E6-581D-38E5", "TiBy", [(0, "0"), (1, "6.25")]),
            ],
        },
        rates={"USD": Decimal(1), "EUR": Decimal("0.9")},
    )


class GcpBillingFake(ThreadedApp):
    """``with GcpBillingFake() as fake: fake.url`` serves the Cloud Billing API until the end."""

    def __init__(
        self,
        catalog: BillingCatalog | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 2,
    ) -> None:
        self.catalog = catalog or default_catalog()
        self.page_size = page_size
        self.requests: list[str] = []
        self.fail_next: list[int] = []  # HTTP statuses to answer the next requests with
        super().__init__(self._build_app(), "gcp-billing", host, port)

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Cloud Billing fake", openapi_url=None, docs_url=None)
        catalog = self.catalog

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            self.requests.append(request.url.path)
            if self.fail_next:
                status = self.fail_next.pop(0)
                return _error(status, "injected failure")
            return await call_next(request)

        @app.get("/v1/billingAccounts")
        def list_accounts(request: Request) -> Any:
            return self._page(request, "billingAccounts", catalog.accounts)

        @app.get("/v1/billingAccounts/{account}")
        def get_account(account: str) -> Any:
            found = [a for a in catalog.accounts if a["name"] == f"billingAccounts/{account}"]
            return found[0] if found else _error(404, f"billingAccounts/{account} not found")

        @app.get("/v1/billingAccounts/{account}/projects")
        def list_projects(account: str, request: Request) -> Any:
            infos = [_billing_info(p, a) for p, a in catalog.projects.items() if a == account]
            return self._page(request, "projectBillingInfo", infos)

        @app.get("/v1/projects/{project}/billingInfo")
        def get_billing_info(project: str) -> Any:
            if project not in catalog.projects:
                return _error(404, f"projects/{project} not found")
            return _billing_info(project, catalog.projects[project])

        @app.get("/v1/services")
        def list_services(request: Request) -> Any:
            return self._page(request, "services", catalog.services)

        @app.get("/v1/services/{service}/skus")
        def list_skus(service: str, request: Request) -> Any:
            if service not in catalog.skus:
                return _error(404, f"services/{service} not found")
            currency = request.query_params.get("currencyCode") or "USD"
            if currency not in catalog.rates:
                return _error(400, f"unsupported currency {currency}")
            skus = [_convert(s, currency, catalog.rates[currency]) for s in catalog.skus[service]]
            return self._page(request, "skus", skus)

        return app

    def _page(self, request: Request, key: str, items: list[dict[str, Any]]) -> Any:
        size = int(request.query_params.get("pageSize") or self.page_size) or self.page_size
        token = request.query_params.get("pageToken") or "0"
        if not token.isdigit() or int(token) > len(items):
            return _error(400, "invalid page token")
        offset = int(token)
        body: dict[str, Any] = {key: items[offset : offset + size]}
        if offset + size < len(items):
            body["nextPageToken"] = str(offset + size)
        return body


def _account(account_id: str, name: str, currency: str) -> dict[str, Any]:
    return {
        "name": f"billingAccounts/{account_id}",
        "open": True,
        "displayName": name,
        "masterBillingAccount": "",
        "currencyCode": currency,
    }


def _service(service_id: str, name: str) -> dict[str, Any]:
    return {
        "name": f"services/{service_id}",
        "serviceId": service_id,
        "displayName": name,
        "businessEntityName": "businessEntities/GCP",
    }


def _billing_info(project: str, account: str) -> dict[str, Any]:
    return {
        "name": f"projects/{project}/billingInfo",
        "projectId": project,
        "billingAccountName": f"billingAccounts/{account}" if account else "",
        "billingEnabled": bool(account),
    }


def _convert(item: dict[str, Any], currency: str, rate: Decimal) -> dict[str, Any]:
    pricing = []
    for info in item["pricingInfo"]:
        expression = dict(info["pricingExpression"])
        tiers = []
        for tier in expression["tieredRates"]:
            price = tier["unitPrice"]
            value = (Decimal(price["units"]) + Decimal(price["nanos"]) / 10**9) * rate
            units, nanos = _money(value)
            money = {"currencyCode": currency, "units": str(units), "nanos": nanos}
            tiers.append({**tier, "unitPrice": money})
        expression["tieredRates"] = tiers
        pricing.append({**info, "pricingExpression": expression, "currencyConversionRate": rate})
    return {**item, "pricingInfo": pricing}


def _money(value: Decimal) -> tuple[int, int]:
    nanos_total = int((value * 10**9).to_integral_value())
    units, nanos = divmod(abs(nanos_total), 10**9)
    sign = -1 if nanos_total < 0 else 1
    return sign * units, sign * nanos


def _error(status: int, message: str) -> JSONResponse:
    names = {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        503: "UNAVAILABLE",
    }
    body = {"error": {"code": status, "message": message, "status": names.get(status, "UNKNOWN")}}
    return JSONResponse(body, status_code=status)
