from __future__ import annotations

import httpx
import pytest

from infra.sandbox.sample_service.app import DEMO_PASSWORD, DEMO_USER
from infra.sandbox.sample_service.server import SampleService


@pytest.fixture(scope="module")
def shop():
    with SampleService() as service:
        yield service


def test_health_and_products(shop):
    assert shop.get("/health").json()["status"] == "UP"
    products = shop.get("/api/products")
    assert products.status_code == 200
    assert products.headers["x-request-id"]
    assert {p["id"] for p in products.json()} == {1, 2, 3, 4}
    assert shop.get("/api/products/99").status_code == 404


def test_order_journey_needs_a_token(shop):
    with httpx.Client(base_url=shop.url) as client:
        assert client.get("/api/orders").status_code == 401
        bad = client.post("/api/login", json={"username": DEMO_USER, "password": "wrong"})
        assert bad.status_code == 401
        token = client.post(
            "/api/login", json={"username": DEMO_USER, "password": DEMO_PASSWORD}
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = client.post("/api/orders", json={"product_id": 2, "quantity": 1}, headers=auth)
        assert created.status_code == 201
        order_id = created.json()["id"]
        assert created.headers["location"] == f"/api/orders/{order_id}"
        assert client.get(f"/api/orders/{order_id}", headers=auth).json()["status"] == "created"


def test_fault_switches_inject_errors_and_latency(shop):
    with httpx.Client(base_url=shop.url) as client:
        client.post("/_control", json={"latency_ms": 0, "error_rate": 1.0})
        try:
            assert client.get("/health").status_code == 503
            client.post("/_control", json={"latency_ms": 150, "error_rate": 0.0})
            response = client.get("/health")
            assert response.status_code == 200
            assert response.elapsed.total_seconds() >= 0.15
        finally:
            client.post("/_control", json={"latency_ms": 0, "error_rate": 0.0})


def test_login_page_has_the_form(shop):
    page = shop.get("/login").text
    assert 'id="username"' in page and 'id="submit"' in page
