"""A service's state from its latest verdicts, the page's headline, and the page's colours."""

from __future__ import annotations

import pytest

from tasks.status.assets import BACKGROUND, BARS, MUTED, PALETTE, TEXT, contrast_ratio
from tasks.status.model import Incident, ServiceStatus, StatusPage, service_state
from tests.status.conftest import NOW


@pytest.mark.parametrize(
    ("latest", "maintenance", "state"),
    [
        (["pass", "pass", "degraded"], False, "degraded_performance"),
        (["pass", "fail", "pass"], False, "partial_outage"),
        (["fail", "fail", "error"], False, "major_outage"),
        (["pass", "error"], False, "operational"),
        (["error", "error"], False, "unknown"),
        ([], False, "unknown"),
        (["fail", "fail"], True, "under_maintenance"),
    ],
)
def test_state_follows_the_latest_verdicts_with_probe_errors_left_out(
    latest, maintenance, state
) -> None:
    assert service_state(latest, maintenance) == state


def page(*states: str, incidents: tuple[Incident, ...] = ()) -> StatusPage:
    services = tuple(ServiceStatus("g", f"s{i}", None, s, 0.999, ()) for i, s in enumerate(states))  # type: ignore[arg-type]
    return StatusPage("t", NOW, services, incidents, ())


def test_the_headline_is_the_worst_service_and_an_incident_is_never_all_operational() -> None:
    assert page("operational", "partial_outage", "degraded_performance").headline == (
        "partial_outage",
        "Partial outage",
    )
    assert page("operational").indicator == "none"
    firing = page("operational", incidents=(Incident("s0", "latency", NOW),))
    assert firing.headline == ("degraded_performance", "Investigating an incident")
    assert firing.indicator == "minor"
    assert page("major_outage", "under_maintenance").indicator == "major"


def test_every_colour_meets_wcag_aa_contrast() -> None:
    # text and badges: 4.5:1 (WCAG 1.4.3); bars against the page: 3:1 (1.4.11)
    assert contrast_ratio(TEXT, BACKGROUND) >= 4.5
    assert contrast_ratio(MUTED, BACKGROUND) >= 4.5
    for colour in PALETTE.values():
        assert contrast_ratio("#ffffff", colour) >= 4.5, colour
    for entry in BARS.values():
        assert contrast_ratio(PALETTE[entry], BACKGROUND) >= 3


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
