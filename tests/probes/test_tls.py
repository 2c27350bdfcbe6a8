from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tasks.probes.tls import CertInfo, certificate_problem
from tests.probes.helpers import http_check, run, run_one

Start = Callable[[float], tuple[str, Path]]
STATUS_200 = [{"source": "status_code", "operator": "equals", "target": 200}]


def test_certificate_expiring_within_the_threshold_fails(https_target: Start) -> None:
    url, cert = https_target(2)
    result = run_one(http_check(f"{url}/json", STATUS_200, ca_bundle=str(cert)))
    assert result.verdict == "fail" and result.status_code == 200
    assert re.search(r"TLS certificate expires in (1\.9|2\.0) days", result.error or "")
    assert "tls_expiry_days 14" in (result.error or "")
    assert result.cert_expires_at is not None
    expected = datetime.now(UTC) + timedelta(days=2)
    assert abs((result.cert_expires_at - expected).total_seconds()) < 120
    cert_info = result.detail["cert"]
    assert 1.9 < cert_info["days_left"] <= 2.0 and "traceo-test" in cert_info["subject"]
    timings = result.detail["steps"][0]["timings"]
    assert timings["tls"] is not None and timings["tls"] > 0  # handshake measured


def test_certificate_far_from_expiry_passes_and_is_recorded(https_target: Start) -> None:
    url, cert = https_target(60)
    result = run_one(http_check(f"{url}/json", STATUS_200, ca_bundle=str(cert)))
    assert result.verdict == "pass", result.error
    assert result.cert_expires_at is not None and 59.9 < result.detail["cert"]["days_left"] <= 60


def test_expiry_is_checked_with_verification_off_and_threshold_is_configurable(
    https_target: Start,
) -> None:
    url, _ = https_target(2)
    strict, relaxed = run(
        [
            http_check(f"{url}/json", STATUS_200, id="strict", verify_tls=False),
            http_check(
                f"{url}/json", STATUS_200, id="relaxed", verify_tls=False, tls_expiry_days=1
            ),
        ]
    )
    assert strict.verdict == "fail" and "expires in" in (strict.error or "")
    assert relaxed.verdict == "pass" and relaxed.cert_expires_at is not None


def test_untrusted_certificate_is_a_retried_tls_failure(https_target: Start) -> None:
    url, _ = https_target(60)
    check = http_check(
        f"{url}/json",
        STATUS_200,
        retry={"strategy": "fixed", "max_attempts": 2, "backoff_seconds": 0.01},
    )
    result = run_one(check)
    assert result.verdict == "fail" and result.attempts == 2
    assert (result.error or "").startswith("TLS error:")
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")


def test_unreadable_ca_bundle_is_a_probe_error(tmp_path: Path) -> None:
    check = http_check("https://127.0.0.1:1/", STATUS_200, ca_bundle=str(tmp_path / "nope.pem"))
    result = run_one(check)
    assert result.verdict == "error" and "cannot load CA bundle" in (result.error or "")


@pytest.mark.parametrize(
    ("days", "min_days", "expected"),
    [
        (30, 14, None),
        (10, 14, "expires in 10.0 days"),
        (-3, 14, "expired 3.0 days ago"),
        (0.5, 0, None),
    ],
)
def test_certificate_problem(days: float, min_days: int, expected: str | None) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    info = CertInfo("CN=x", "CN=x", now - timedelta(days=90), now + timedelta(days=days))
    problem = certificate_problem(info, min_days, now)
    assert problem is None if expected is None else expected in (problem or "")
