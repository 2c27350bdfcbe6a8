from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, event

from tasks.probes.metrics import ServiceNames, StoreCollector, fetch_latest
from tests.probes.metrics.helpers import EXPIRY, NOW, key, scrape, seed

SERVICES = {"shop-health": "shop-api", "shop-port": "shop-api"}


def test_latest_result_per_check_and_region_in_blackbox_names(store_engine) -> None:
    seed(store_engine)
    samples = scrape(StoreCollector(store_engine, SERVICES))
    us = {"check": "shop-health", "region": "us-east-1", "service": "shop-api"}
    eu = {"check": "shop-health", "region": "eu-west-1", "service": "shop-api"}
    port = {"check": "shop-port", "region": "eu-west-1", "service": "shop-api"}

    successes = {k: v for k, v in samples.items() if k[0] == "probe_success"}
    assert successes == {
        key("probe_success", **us): 1.0,  # newest real row passes (a newer one is simulated)
        key("probe_success", **eu): 1.0,  # degraded counts as success
        key("probe_success", **port): 0.0,  # error counts as failure
    }
    for phase, seconds in [
        ("connect", 0.0015),
        ("tls", 0.004),
        ("ttfb", 0.03),
        ("transfer", 0.0025),
        ("total", 0.038),
    ]:
        assert samples[key("probe_duration_seconds", **us, phase=phase)] == seconds
    # only what a check type measured is exported; total falls back to duration_ms
    eu_phases = {
        dict(labels)["phase"]
        for name, labels in samples
        if name == "probe_duration_seconds" and dict(labels).items() >= eu.items()
    }
    assert eu_phases == {"total"}
    assert samples[key("probe_duration_seconds", **eu, phase="total")] == 0.9
    assert samples[key("probe_duration_seconds", **port, phase="connect")] == 0.0008
    assert key("probe_duration_seconds", **port, phase="ttfb") not in samples

    assert samples[key("probe_ssl_earliest_cert_expiry", **us)] == EXPIRY.timestamp()
    assert key("probe_ssl_earliest_cert_expiry", **eu) not in samples
    started = (NOW - timedelta(minutes=2, seconds=-7)).timestamp()
    assert samples[key("traceo_probe_last_run_timestamp_seconds", **us)] == started
    assert samples[key("traceo_store_up")] == 1.0
    assert not any(dict(k[1]).get("check") == "gone" for k in samples)  # beyond the lookback


def test_two_queries_per_scrape_and_simulated_rows_on_request(store_engine) -> None:
    seed(store_engine)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store_engine, "before_cursor_execute", count)
    try:
        scrape(StoreCollector(store_engine, SERVICES))
    finally:
        event.remove(store_engine, "before_cursor_execute", count)
    # The newest hot row per (check, region), and the packed hours within the lookback.
    assert len(statements) == 2

    simulated = fetch_latest(store_engine, NOW - timedelta(hours=2), include_simulated=True)
    us = next(r for r in simulated if (r.check_id, r.region) == ("shop-health", "us-east-1"))
    assert us.verdict == "fail"


def test_unreachable_store_reports_store_down_and_nothing_else() -> None:
    engine = create_engine("postgresql+psycopg://traceo@127.0.0.1:1/none?connect_timeout=2")
    samples = scrape(StoreCollector(engine))
    assert samples == {key("traceo_store_up"): 0.0}


def test_service_labels_follow_the_check_files_and_survive_a_broken_edit(tmp_path: Path) -> None:
    checks = tmp_path / "checks.yaml"

    def write(service: str) -> None:
        checks.write_text(
            "checks:\n"
            f"  - {{id: shop-port, service: {service}, type: tcp, host: 127.0.0.1, port: 80}}\n",
            encoding="utf-8",
        )

    write("shop-api")
    names = ServiceNames([checks], ttl=0)
    assert names() == {"shop-port": "shop-api"}
    write("storefront")
    assert names() == {"shop-port": "storefront"}
    checks.write_text("checks: [{id: shop-port, type: tcp}]\n", encoding="utf-8")
    assert names() == {"shop-port": "storefront"}  # the last good mapping is kept
