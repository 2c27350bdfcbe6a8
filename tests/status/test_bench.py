"""The status_page benchmark measures what it says: 200 x 90 days, the same page both ways."""

from __future__ import annotations

import httpx

from deployments.bench import WORKLOADS
from deployments.bench.status_page import _app, build_page
from tasks.local_server import ThreadedApp


def test_the_benchmark_page_has_200_services_of_90_days() -> None:
    page = build_page()
    assert len(page.services) == 200
    assert {len(s.days) for s in page.services} == {90}
    assert WORKLOADS["status_page"] == "deployments.bench.status_page"


def test_ours_and_the_reference_serve_the_same_page_gzipped(tmp_path) -> None:
    bodies = []
    for kind in ("ours", "reference"):
        with ThreadedApp(_app(kind, tmp_path / kind), f"bench-{kind}") as server:
            response = httpx.get(f"{server.url}/status", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        bodies.append(response.text)
    assert bodies[0] == bodies[1]
    assert bodies[0].count('<svg class="bars"') == 200
