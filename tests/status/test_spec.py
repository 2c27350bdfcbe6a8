"""The status page spec publishes only what it names, and refuses private checks."""

from __future__ import annotations

import pytest

from tasks.errors import SpecError
from tests.status.conftest import DEPLOYMENTS, sources

PAGE = (DEPLOYMENTS / "status" / "shop.yaml").read_text()


def issues_of(tmp_path, checks_dir, text: str) -> list[str]:
    page = tmp_path / "page.yaml"
    page.write_text(text)
    with pytest.raises(SpecError) as caught:
        sources(checks_dir, page)
    return [str(i) for i in caught.value.issues]


def test_the_shop_page_publishes_its_two_services_under_public_names(checks_dir) -> None:
    spec = sources(checks_dir).spec

    storefront, checkout = spec.services
    assert (storefront.name, checkout.name) == ("Storefront", "Checkout")
    assert storefront.checks == ("shop-health", "shop-products-list")
    assert storefront.alerting == {
        "shop-api-availability": "availability",
        "shop-api-latency": "latency",
    }
    assert checkout.bar_checks == ("shop-order-journey",)


def test_a_private_check_marked_public_is_refused_with_file_field_and_reason(
    tmp_path, checks_dir
) -> None:
    text = PAGE.replace(
        "          slos: [shop-order-journey]",
        "          slos: [shop-order-journey]\n          checks: [shop-orders-require-auth]",
    )

    (issue,) = issues_of(tmp_path, checks_dir, text)

    assert issue.startswith(f"{tmp_path / 'page.yaml'}: Checkout: ")
    assert "statusPage.groups[0].services[1].checks[0]" in issue
    assert "check 'shop-orders-require-auth' is private" in issue
    assert "shop-orders.yaml" in issue


def test_an_slo_counting_a_private_check_is_refused(tmp_path, checks_dir) -> None:
    orders = checks_dir / "shop-orders.yaml"
    orders.write_text(
        orders.read_text().replace("tags: [shop, orders]", "tags: [shop, orders]\n  private: true")
    )

    (issue,) = issues_of(tmp_path, checks_dir, PAGE)

    assert "statusPage.groups[0].services[1].slos[0]" in issue
    assert "counts private check(s) shop-order-journey" in issue


def test_unknown_names_and_a_page_without_an_availability_slo_are_each_reported(
    tmp_path, checks_dir
) -> None:
    text = PAGE.replace(
        "slos: [shop-order-journey]", "slos: [shop-api-latency, no-such-slo]"
    ).replace("shop-web-release-train: Monthly", "no-such-window: Monthly")

    issues = issues_of(tmp_path, checks_dir, text)

    assert any("services[1].slos[1]: unknown SLO 'no-such-slo'" in i for i in issues)
    assert any("needs exactly one availability SLO" in i for i in issues)
    assert any("maintenance.no-such-window: unknown maintenance window" in i for i in issues)


def test_a_field_the_spec_does_not_know_is_refused(tmp_path, checks_dir) -> None:
    text = PAGE.replace(
        "  title: Example Shop status", "  title: Example Shop status\n  theme: dark"
    )

    (issue,) = issues_of(tmp_path, checks_dir, text)

    assert "statusPage.theme" in issue and "unknown field" in issue
