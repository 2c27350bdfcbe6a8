from __future__ import annotations

from datetime import timedelta

import pytest

from tasks.slo.burn import NoDataRule
from tasks.slo.definition import Indicator
from tasks.slo.evaluate import evaluate_slo
from tasks.slo.events import Events
from tasks.slo.gate import decide_gate
from tasks.slo.report import SloReport
from tests.slo.helpers import NOW, REGIONS, slo, traffic

EU = REGIONS[0]
TEN_DAYS = 10 * 1440  # minutes: 3 regions x 1/min = 43,200 results, a 99.9% budget of 43.2


def report(bad=lambda age, region: False, minutes: int = TEN_DAYS, **overrides) -> SloReport:
    """A 99.9%, 30-day SLO of shop-api evaluated at NOW over steady traffic."""
    return evaluate_slo(slo(**overrides), traffic(minutes, bad), NOW)


def test_gate_passes_when_every_slo_keeps_budget_and_no_page_fires() -> None:
    health = report(lambda age, region: region == EU and age in (5000, 6000, 7000, 8000))
    catalogue = report(id="catalogue", indicator=Indicator("c", checks=("shop-products-list",)))
    assert health.budget_remaining == pytest.approx(1 - 4 / 43.2)

    decision = decide_gate([health, catalogue], "shop-api")

    assert decision.passed and decision.service == "shop-api"
    assert decision.reasons == [
        "test-slo: 90.7% of the error budget left",
        "catalogue: 100.0% of the error budget left",
    ]


def test_gate_blocks_when_the_budget_left_is_below_the_minimum() -> None:
    # 41 failures five days ago: 5.1% of the budget left, and no window is burning now.
    low = report(lambda age, region: region == EU and 7200 <= age < 7241)
    assert low.firing == []

    decision = decide_gate([low], "shop-api")

    assert not decision.passed
    assert decision.reasons == [
        "test-slo: 5.1% of the error budget left (needs more than 10%)",
    ]


def test_gate_blocks_when_the_budget_left_is_exactly_the_minimum() -> None:
    # 8,000 minutes x 3 regions = 24,000 results: a budget of 24; 12 failures leave exactly half.
    half = report(lambda age, region: region == EU and 7000 <= age < 7012, minutes=8000)
    assert half.budget_remaining == 0.5 and half.firing == []

    assert not decide_gate([half], "shop-api", min_budget=0.5).passed  # "more than", not "at least"
    assert decide_gate([half], "shop-api", min_budget=0.49).passed


def test_gate_blocks_when_the_budget_is_overspent() -> None:
    spent = report(lambda age, region: region == EU and 7200 <= age < 7300)

    decision = decide_gate([spent], "shop-api", min_budget=0.0)

    assert spent.budget_remaining is not None and spent.budget_remaining < 0
    assert not decision.passed
    assert decision.reasons[0].startswith("test-slo: -131.5% of the error budget left")


def test_gate_blocks_when_a_page_alert_fires_despite_plenty_of_budget() -> None:
    # 3 failures in the last 5 minutes: 16.7x over 1h and 200x over 5m, threshold 14.4x.
    burning = report(lambda age, region: region == EU and 1 <= age <= 3)
    assert burning.budget_remaining == pytest.approx(1 - 3 / 43.2)  # 93% left
    assert [a.key for a in burning.firing] == ["page:1h/5m"]

    decision = decide_gate([burning], "shop-api")

    assert not decision.passed
    (reason,) = decision.reasons
    assert reason.startswith(
        "test-slo: page alert page:1h/5m firing (page 1h/5m FIRING: burn 16.7x"
    )


def test_gate_passes_when_only_a_ticket_alert_fires() -> None:
    # One EU failure an hour over the last day: 5.6x everywhere, above the ticket thresholds
    # (3x for 1d/2h, 1x for 3d/6h) and below the page ones (14.4x for 1h/5m, 6x for 6h/30m).
    slow_burn = report(lambda age, region: region == EU and age < 1440 and age % 60 == 30)
    assert [a.key for a in slow_burn.firing] == ["ticket:1d/2h", "ticket:3d/6h"]

    decision = decide_gate([slow_burn], "shop-api")

    assert decision.passed
    assert decision.reasons == ["test-slo: 44.4% of the error budget left"]


def test_gate_blocks_when_a_page_severity_no_data_alert_fires() -> None:
    # Probes went silent 20 minutes ago; the budget is intact but the page says "look now".
    silent = evaluate_slo(
        slo(no_data=NoDataRule(severity="page")),
        traffic(TEN_DAYS, now=NOW - timedelta(minutes=20)),
        NOW,
    )

    decision = decide_gate([silent], "shop-api")

    assert silent.budget_remaining == 1.0
    assert not decision.passed
    assert decision.reasons[0].startswith("test-slo: page alert no-data firing")


def test_gate_blocks_when_an_slo_has_no_data() -> None:
    empty = evaluate_slo(slo(), Events.empty(), NOW)

    decision = decide_gate([empty, report(id="healthy")], "shop-api")

    assert not decision.passed
    assert decision.reasons == ["test-slo: no data in its window"]


def test_gate_blocks_an_unknown_service() -> None:
    decision = decide_gate([report()], "payments")

    assert not decision.passed and decision.service == "payments"
    assert decision.reasons == ["no SLOs found for service 'payments'"]


def test_gate_ignores_other_services_slos() -> None:
    billing_paging = report(lambda age, region: age <= 3, id="billing-slo", service="billing")

    assert decide_gate([report(), billing_paging], "shop-api").passed
    assert not decide_gate([report(), billing_paging], "billing").passed


def test_gate_lists_every_reason_naming_its_slo() -> None:
    low = report(lambda age, region: region == EU and 7200 <= age < 7241, id="low-budget")
    paging = report(lambda age, region: region == EU and 1 <= age <= 3, id="paging")
    empty = evaluate_slo(slo(id="silent"), Events.empty(), NOW)

    decision = decide_gate([low, paging, empty], "shop-api")

    assert not decision.passed
    assert [r.split(":", 1)[0] for r in decision.reasons] == ["low-budget", "paging", "silent"]
