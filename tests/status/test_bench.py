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


def test_the_page_and_the_plain_reader_count_the_same_days_from_the_store(tmp_path) -> None:
    from deployments.bench.status_store import NOW, fleet, plain_bars, write_rollups
    from tasks.slo.maintenance import MaintenanceCalendar
    from tasks.status.collect import collect_page
    from tasks.store import get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'fleet.db'}")
    spec, checks = fleet(3)
    write_rollups(engine, checks, 90)

    page = collect_page(engine, spec, checks, MaintenanceCalendar([], {}), NOW)

    bars = [[(d.good, d.total) for d in s.days] for s in page.services]
    assert bars == plain_bars(engine, spec, 90)
    assert bars[0][0][1] == 2 * 3 * 1440  # a whole day: two checks, three regions, each minute
    assert {s.state for s in page.services} == {"operational"}
