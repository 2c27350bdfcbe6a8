from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.probes.net.helpers import FAST_RETRY, cert_check, run_net, run_net_one
from tests.probes.net.pki import Pki, make_pki, self_signed
from tests.probes.net.servers import TcpServer
from tests.probes.server import free_port

Serve = Callable[..., TcpServer]


def _tls_server(serve: Serve, files) -> TcpServer:  # type: ignore[no-untyped-def]
    return serve(certificate=(files.chain, files.key))


def test_complete_chain_far_from_expiry_passes_with_details(serve: Serve, pki: Pki) -> None:
    server = _tls_server(serve, pki.leaf("good", days=60))
    result = run_net_one(cert_check(server.port, ca_bundle=str(pki.root_pem)))
    assert result.verdict == "pass", result.error
    cert = result.detail["cert"]
    assert cert["subject"] == "CN=good.traceo.test"
    assert cert["issuer"] == "CN=Traceo Test Intermediate CA"
    assert 59.9 < cert["days_left"] <= 60
    assert cert["sans"] == ["DNS:localhost", "IP:127.0.0.1"]
    assert cert["chain_length"] == 2 and cert["chain_verified"] is True
    assert cert["hostname_match"] is True and cert["verify_error"] is None
    assert cert["chain"][1]["subject"] == "CN=Traceo Test Intermediate CA"
    # the earliest expiry in the chain is the leaf's (the intermediate lives a year)
    assert result.cert_expires_at is not None
    expected = datetime.now(UTC) + timedelta(days=60)
    assert abs((result.cert_expires_at - expected).total_seconds()) < 120
    timings = result.detail["timings"]
    assert timings["connect"] > 0 and timings["tls"] > 0
    assert result.duration_ms == timings["total"]


def test_expiry_is_judged_against_min_days_left_or_tls_expiry_days(serve: Serve, pki: Pki) -> None:
    server = _tls_server(serve, pki.leaf("soon", days=2))
    bundle = str(pki.root_pem)
    default, strict, relaxed = run_net(
        [
            cert_check(server.port, id="default", ca_bundle=bundle),
            cert_check(server.port, id="strict", ca_bundle=bundle, min_days_left=30),
            cert_check(server.port, id="relaxed", ca_bundle=bundle, min_days_left=1),
        ]
    )
    assert default.verdict == "fail"
    assert re.fullmatch(
        r"certificate expires in (1\.9|2\.0) days \(\d{4}-\d\d-\d\d\), less than "
        r"tls_expiry_days 14",
        default.error or "",
    )
    assert strict.verdict == "fail" and "less than min_days_left 30" in (strict.error or "")
    assert relaxed.verdict == "pass" and 1.9 < relaxed.detail["cert"]["days_left"] <= 2


def test_expired_certificate_fails_without_blaming_the_chain(serve: Serve, pki: Pki) -> None:
    server = _tls_server(serve, pki.leaf("expired", days=-3))
    result = run_net_one(cert_check(server.port, ca_bundle=str(pki.root_pem), retry=FAST_RETRY))
    assert result.verdict == "fail" and result.attempts == 1  # an answer: not retried
    assert (result.error or "").startswith("certificate expired 3.0 days ago")
    assert "chain" not in (result.error or "")
    assert result.detail["cert"]["chain_verified"] is False  # OpenSSL refuses expired chains


def test_an_intermediate_expiring_first_sets_the_earliest_expiry(
    serve: Serve, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path / "short-ca", intermediate_days=5)
    server = _tls_server(serve, pki.leaf("leaf", days=90))
    result = run_net_one(cert_check(server.port, ca_bundle=str(pki.root_pem)))
    assert result.verdict == "fail"
    assert (result.error or "").startswith(
        "intermediate certificate CN=Traceo Test Intermediate CA expires in"
    )
    assert result.detail["cert"]["days_left"] > 89  # the leaf itself is fine
    assert result.cert_expires_at is not None
    assert result.cert_expires_at < datetime.now(UTC) + timedelta(days=6)


def test_hostname_must_be_covered_by_the_subject_alt_names(serve: Serve, pki: Pki) -> None:
    server = _tls_server(serve, pki.leaf("named", sans=("shop.traceo.test", "*.api.traceo.test")))
    bundle = str(pki.root_pem)
    checks = [
        cert_check(server.port, id="exact", server_name="shop.traceo.test", ca_bundle=bundle),
        cert_check(server.port, id="wild", server_name="eu.api.traceo.test", ca_bundle=bundle),
        cert_check(server.port, id="deep", server_name="a.eu.api.traceo.test", ca_bundle=bundle),
        cert_check(server.port, id="ip", ca_bundle=bundle),  # server_name defaults to the host
        cert_check(server.port, id="off", ca_bundle=bundle, check_hostname=False),
    ]
    exact, wild, deep, ip, off = run_net(checks)
    assert exact.verdict == "pass" and wild.verdict == "pass", (exact.error, wild.error)
    assert deep.verdict == "fail"
    assert deep.error == (
        "certificate does not cover a.eu.api.traceo.test "
        "(SANs: DNS:shop.traceo.test, DNS:*.api.traceo.test)"
    )
    assert ip.verdict == "fail" and "does not cover 127.0.0.1" in (ip.error or "")
    assert ip.detail["cert"]["hostname_match"] is False
    assert off.verdict == "pass" and off.detail["cert"]["hostname_match"] is False


def test_leaf_without_its_intermediate_is_an_incomplete_chain(serve: Serve, pki: Pki) -> None:
    server = _tls_server(serve, pki.leaf("leaf-only", send_intermediate=False))
    strict, unverified = run_net(
        [
            cert_check(server.port, id="strict", ca_bundle=str(pki.root_pem)),
            cert_check(server.port, id="unverified", verify_tls=False),
        ]
    )
    assert strict.verdict == "fail"
    assert strict.error == (
        f"chain does not verify against CA bundle {pki.root_pem}: unable to get local issuer "
        "certificate; the server sent 1 certificate(s) (the server sent no intermediate "
        "certificate)"
    )
    cert = strict.detail["cert"]
    assert cert["chain_length"] == 1 and cert["chain_verified"] is False
    assert cert["subject"] == "CN=leaf-only.traceo.test"  # inspected despite the failure
    assert unverified.verdict == "pass" and unverified.detail["cert"]["chain_verified"] is None


def test_private_ca_does_not_verify_against_the_system_store(serve: Serve, pki: Pki) -> None:
    server = _tls_server(serve, pki.leaf("private"))
    result = run_net_one(cert_check(server.port))
    assert result.verdict == "fail"
    assert (result.error or "").startswith("chain does not verify against the system trust store")
    assert result.detail["cert"]["chain_length"] == 2


def test_self_signed_certificate_trusted_through_its_own_bundle(
    serve: Serve, tmp_path: Path
) -> None:
    files = self_signed(tmp_path, "self", days=30)
    server = _tls_server(serve, files)
    result = run_net_one(cert_check(server.port, ca_bundle=str(files.chain)))
    assert result.verdict == "pass", result.error
    assert result.detail["cert"]["chain_length"] == 1


@pytest.mark.parametrize("hang", [False, True], ids=["refused", "no-handshake"])
def test_unreachable_or_silent_servers_are_retried_network_failures(
    serve: Serve, hang: bool
) -> None:
    port = serve(hang=True).port if hang else free_port()
    result = run_net_one(cert_check(port, timeout_seconds=0.3, retry=FAST_RETRY))
    assert result.verdict == "fail" and result.attempts == 3
    expected = "timed out after 0.3s (TLS handshake)" if hang else "ConnectionRefusedError"
    assert (result.error or "").startswith(expected)
    assert result.cert_expires_at is None and "cert" not in result.detail


def test_unreadable_ca_bundle_is_a_probe_error(tmp_path: Path) -> None:
    result = run_net_one(cert_check(443, ca_bundle=str(tmp_path / "missing.pem")))
    assert result.verdict == "error" and "cannot load CA bundle" in (result.error or "")
