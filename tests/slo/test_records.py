from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tasks.slo.evaluate import evaluate_slos
from tasks.slo.records import save_evaluations
from tasks.slo.report import SloReport
from tasks.store import SloEvaluation, session_scope
from tests.slo.helpers import NOW, REGIONS, slo, traffic

EU = REGIONS[0]


def reports(now=NOW) -> list[SloReport]:
    """Two SLOs of two services over a day of traffic with a short EU outage 30 minutes ago."""
    events = traffic(1440, lambda age, region: region == EU and 30 <= age < 35, now=now)
    definitions = [slo(id="api-availability"), slo(id="billing-availability", service="billing")]
    return evaluate_slos(definitions, [events, events], now)


def stored(engine) -> list[SloEvaluation]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(SloEvaluation).order_by(SloEvaluation.evaluated_at, SloEvaluation.slo_id)
            )
        )


def test_save_stores_one_row_per_report_with_its_figures(store_engine) -> None:
    api, billing = reports()

    assert save_evaluations(store_engine, [api, billing]) == 2

    rows = stored(store_engine)
    assert [(r.slo_id, r.service) for r in rows] == [
        ("api-availability", "shop-api"),
        ("billing-availability", "billing"),
    ]
    row = rows[0]
    assert row.evaluated_at == NOW
    assert row.objective == 0.999
    # 3 regions x 1/min for a day = 4,320 results, 5 failed; the budget is 0.1% of them.
    assert row.sli == api.sli == pytest.approx(1 - 5 / 4320)
    assert row.budget_remaining == api.budget_remaining == pytest.approx(1 - 5 / 4.32)


def test_detail_is_the_report_as_json(store_engine) -> None:
    (api, _) = reports()
    save_evaluations(store_engine, [api])

    (row,) = stored(store_engine)
    assert row.detail == json.loads(json.dumps(api.to_dict()))
    assert row.detail["evaluated_at"] == NOW.isoformat()
    assert row.detail["burn_rates"]["1h"]["bad"] == 5
    assert {a["key"] for a in row.detail["alerts"]} >= {"page:1h/5m", "no-data"}


def test_rerun_at_the_same_instant_replaces_the_rows(store_engine) -> None:
    first = reports()
    save_evaluations(store_engine, first)
    # The rerun sees different results for the same instant (e.g. late probe results arrived).
    events = traffic(1440, now=NOW)
    rerun = evaluate_slos([slo(id="api-availability")], [events], NOW)

    save_evaluations(store_engine, rerun)
    save_evaluations(store_engine, rerun)

    rows = stored(store_engine)
    assert [r.slo_id for r in rows] == ["api-availability", "billing-availability"]
    assert rows[0].sli == 1.0 and rows[0].budget_remaining == 1.0
    assert rows[0].detail["bad"] == 0
    assert rows[1].budget_remaining == first[1].budget_remaining  # untouched


def test_evaluations_at_other_instants_are_kept(store_engine) -> None:
    later = NOW + timedelta(minutes=5)
    save_evaluations(store_engine, reports())
    save_evaluations(store_engine, reports(later))

    rows = stored(store_engine)
    assert [(r.slo_id, r.evaluated_at) for r in rows] == [
        ("api-availability", NOW),
        ("billing-availability", NOW),
        ("api-availability", later),
        ("billing-availability", later),
    ]


def test_saving_nothing_writes_nothing(store_engine) -> None:
    assert save_evaluations(store_engine, []) == 0
    assert stored(store_engine) == []
