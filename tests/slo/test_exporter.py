"""The per-SLO counters of ``traceo metrics serve``: closed slots only, each counted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.probes.metrics import build_registry
from tasks.slo.definition import Indicator, PrometheusSli, PromQuery
from tasks.slo.exporter import SloCollector
from tasks.store.check_results import upsert_check_results
from tests.probes.metrics.helpers import key, scrape
from tests.slo.helpers import slo

T = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _result(seconds: int, verdict: str, region: str = "eu-west-1") -> dict:
    at = T + timedelta(seconds=seconds)
    return {
        "check_id": "shop-health",
        "region": region,
        "scheduled_at": at,
        "started_at": at,
        "verdict": verdict,
        "duration_ms": 50.0,
    }


def test_each_slot_is_counted_once_after_it_closes_and_its_grace(store_engine) -> None:
    clock = [(T + timedelta(seconds=30)).timestamp()]
    collector = SloCollector(store_engine, [slo()], {}, grace=60, clock=lambda: clock[0])
    upsert_check_results(
        store_engine,
        [
            _result(-50, "pass"),
            _result(-40, "fail", region="us-east-1"),
            _result(-30, "error"),  # the probe could not run: not an event
            _result(10, "fail"),
            _result(20, "pass"),
            _result(70, "fail"),
        ],
    )
    upsert_check_results(store_engine, [_result(-20, "fail")], simulated=True)
    labels = {"slo": "test-slo", "service": "shop-api"}

    def counts() -> tuple[float, float, float]:
        samples = scrape(collector)  # type: ignore[arg-type]
        names = ("traceo_slo_events_total", "traceo_slo_units_total", "traceo_slo_bad_units_total")
        return tuple(samples[key(name, **labels)] for name in names)  # type: ignore[return-value]

    assert counts() == (0, 0, 0)  # 11:59 is still within its grace
    clock[0] = (T + timedelta(seconds=65)).timestamp()
    assert counts() == (2, 2, 1)  # 11:59 closed; the simulated row and the error left out
    assert counts() == (2, 2, 1)  # a second scrape counts nothing twice
    clock[0] = (T + timedelta(seconds=121)).timestamp()
    assert counts() == (4, 4, 2)  # 12:00 closed; 12:01 not yet


def test_an_slo_read_from_prometheus_is_not_counted(store_engine) -> None:
    query = PromQuery("sum(increase(x[1m]))", "slos.yaml", "SLO api", "spec.indicator")
    api = slo(
        id="api", indicator=Indicator("api", prometheus=PrometheusSli(total=query, good=query))
    )
    collector = SloCollector(store_engine, [api, slo()], {}, grace=0, clock=lambda: T.timestamp())

    samples = scrape(collector)  # type: ignore[arg-type]

    assert key("traceo_slo_events_total", slo="test-slo", service="shop-api") in samples
    assert not any(("slo", "api") in labels for _, labels in samples)


def test_a_store_that_fails_keeps_the_totals_and_catches_up(store_engine) -> None:
    clock = [T.timestamp()]
    collector = SloCollector(store_engine, [slo()], {}, grace=0, clock=lambda: clock[0])
    upsert_check_results(store_engine, [_result(5, "fail"), _result(65, "pass")])
    registry = build_registry(collector)
    store_engine.dispose()
    real_connect = store_engine.connect

    def broken():  # type: ignore[no-untyped-def]
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT", {}, Exception("down"))

    store_engine.connect = broken
    clock[0] = (T + timedelta(seconds=120)).timestamp()
    try:
        first = {s.name: s.value for m in registry.collect() for s in m.samples}
    finally:
        store_engine.connect = real_connect
    assert first["traceo_slo_events_total"] == 0
    second = {s.name: s.value for m in registry.collect() for s in m.samples}
    assert (second["traceo_slo_events_total"], second["traceo_slo_bad_units_total"]) == (2, 1)


def test_failures_in_a_maintenance_window_are_not_counted_like_traceo_does(store_engine) -> None:
    from tasks.slo.maintenance import MaintenanceCalendar
    from tasks.slo.maintenance_spec import MaintenanceWindow

    window = MaintenanceWindow.model_validate(
        {
            "id": "db-upgrade",
            "check": "shop-health",
            "start": (T - timedelta(seconds=45)).isoformat(),
            "end": (T + timedelta(seconds=15)).isoformat(),
            "reason": "PostgreSQL upgrade",
        }
    )
    calendar = MaintenanceCalendar([window], {"shop-health": "shop-api"})
    clock = [(T - timedelta(seconds=60)).timestamp()]
    collector = SloCollector(
        store_engine, [slo()], {}, grace=0, clock=lambda: clock[0], maintenance=lambda: calendar
    )
    upsert_check_results(
        store_engine,
        [
            _result(-50, "fail"),  # before the window: bad
            _result(-40, "fail", region="us-east-1"),  # planned: left out
            _result(-30, "pass"),  # planned but good: counted
            _result(10, "fail"),  # planned: left out
            _result(30, "fail"),  # after the window: bad
        ],
    )
    clock[0] = (T + timedelta(seconds=120)).timestamp()
    samples = scrape(collector)  # type: ignore[arg-type]
    labels = {"slo": "test-slo", "service": "shop-api"}
    assert samples[key("traceo_slo_events_total", **labels)] == 3
    assert samples[key("traceo_slo_bad_units_total", **labels)] == 2
