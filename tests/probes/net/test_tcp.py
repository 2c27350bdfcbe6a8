from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.probes.net.helpers import FAST_RETRY, run_net, run_net_one, tcp_check
from tests.probes.net.pki import Pki, self_signed
from tests.probes.net.servers import TcpServer
from tests.probes.server import free_port

Serve = Callable[..., TcpServer]


def test_banner_that_matches_passes_with_timings(serve: Serve) -> None:
    server = serve(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
    result = run_net_one(tcp_check(server.port, expect_banner="SSH-2.0-"))
    assert result.verdict == "pass", result.error
    assert result.attempts == 1 and result.status_code is None
    assert result.detail["banner_match"] is True
    assert result.detail["banner"].startswith("SSH-2.0-OpenSSH")
    timings = result.detail["timings"]
    assert timings["connect"] > 0 and timings["ttfb"] > 0
    assert timings["total"] == result.duration_ms >= timings["connect"]
    assert result.detail["target"] == f"127.0.0.1:{server.port}"


def test_regex_banner_and_plain_connect(serve: Serve) -> None:
    smtp = serve(b"220 mail.traceo.test ESMTP Postfix\r\n")
    plain = serve()
    regex, connect = run_net(
        [
            tcp_check(smtp.port, id="smtp", expect_banner={"matches": r"^220 \S+ ESMTP"}),
            tcp_check(plain.port, id="plain"),
        ]
    )
    assert regex.verdict == "pass" and regex.detail["expect_banner"].startswith("matches")
    assert connect.verdict == "pass" and "banner" not in connect.detail
    assert set(connect.detail["timings"]) == {"resolve", "connect", "total"}


def test_send_then_expect_the_answer(serve: Serve) -> None:
    server = serve(reply=lambda data: b"+PONG\r\n" if data == b"PING\r\n" else b"-ERR\r\n")
    result = run_net_one(tcp_check(server.port, send="PING\r\n", expect_banner="+PONG"))
    assert result.verdict == "pass", result.error
    assert result.detail["banner"] == "+PONG\r\n"


def test_wrong_banner_fails_and_is_not_retried(serve: Serve) -> None:
    server = serve(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    check = tcp_check(server.port, expect_banner="SSH-2.0", timeout_seconds=0.3, retry=FAST_RETRY)
    result = run_net_one(check)
    assert result.verdict == "fail" and result.attempts == 1
    expected = "banner does not contain 'SSH-2.0': got 'HTTP/1.1 400 Bad Request\\r\\n\\r\\n'"
    assert result.error == expected
    assert result.detail["banner_match"] is False
    assert server.connections == 1


def test_closed_port_fails_after_every_attempt_is_recorded() -> None:
    result = run_net_one(tcp_check(free_port(), retry=FAST_RETRY))
    assert result.verdict == "fail" and result.attempts == 3
    attempts = result.detail["attempts"]
    assert [a["number"] for a in attempts] == [1, 2, 3]
    assert all(a["verdict"] == "fail" for a in attempts)
    assert all(a["error"].startswith("ConnectionRefusedError") for a in attempts)
    assert result.duration_ms is not None


def test_silent_server_times_out_and_is_retried(serve: Serve) -> None:
    server = serve(hang=True)
    check = tcp_check(
        server.port,
        expect_banner="READY",
        timeout_seconds=0.3,
        retry={"strategy": "fixed", "max_attempts": 2, "backoff_seconds": 0.01},
    )
    result = run_net_one(check)
    assert result.verdict == "fail" and result.attempts == 2
    assert result.error == "timed out after 0.3s (banner)"
    assert result.duration_ms is not None and result.duration_ms >= 300  # waited out a timeout
    assert server.connections == 2


def test_partial_wrong_banner_then_silence_is_a_banner_failure(serve: Serve) -> None:
    server = serve(b"* OK IMAP4rev1", hang_after_banner=True)
    check = tcp_check(server.port, expect_banner="SSH", timeout_seconds=0.3, retry=FAST_RETRY)
    result = run_net_one(check)
    assert result.verdict == "fail" and result.attempts == 1  # an answer, not a network error
    assert result.error == "banner does not contain 'SSH': got '* OK IMAP4rev1'"


def test_slow_banner_is_degraded_then_failed_by_thresholds(serve: Serve) -> None:
    server = serve(b"READY\n", delay=0.25)
    degraded, failed = run_net(
        [
            tcp_check(server.port, id="d", expect_banner="READY", degraded_ms=150),
            tcp_check(server.port, id="f", expect_banner="READY", degraded_ms=100, failed_ms=200),
        ]
    )
    assert degraded.verdict == "degraded" and degraded.error is None
    assert degraded.detail["reason"].startswith("connection time ")
    assert failed.verdict == "fail" and "failed_ms 200" in (failed.error or "")


def test_env_placeholders_expand_and_missing_ones_are_probe_errors(serve: Serve) -> None:
    server = serve(reply=lambda data: b"echo:" + data)
    check = tcp_check("${PORT}", host="${HOST:-127.0.0.1}", send="${TOKEN}", expect_banner="echo:")
    ok = run_net_one(check, env={"PORT": str(server.port), "TOKEN": "tok-abcdef123456"})
    assert ok.verdict == "pass", ok.error
    assert "tok-abcdef123456" not in str(ok.detail)  # the echoed secret is scrubbed
    assert ok.detail["target"] == "${HOST:-127.0.0.1}:${PORT}"

    missing = run_net_one(check, env={"TOKEN": "x"})
    assert missing.verdict == "error" and missing.attempts == 1
    assert "environment variable PORT is not set" in (missing.error or "")
    bad = run_net_one(check, env={"PORT": "http", "TOKEN": "x"})
    assert bad.verdict == "error" and "not a number between 1 and 65535" in (bad.error or "")


def test_tls_connect_checks_verification_and_expiry(serve: Serve, pki: Pki, tmp_path: Path) -> None:
    good = pki.leaf("tcp-good", days=60)
    expiring = self_signed(tmp_path, "tcp-expiring", days=2)
    good_server = serve(b"+OK ready\r\n", certificate=(good.chain, good.key))
    expiring_server = serve(b"+OK ready\r\n", certificate=(expiring.chain, expiring.key))
    trusted, soon, untrusted = run_net(
        [
            tcp_check(
                good_server.port,
                id="trusted",
                tls=True,
                ca_bundle=str(pki.root_pem),
                expect_banner="+OK",
            ),
            tcp_check(expiring_server.port, id="soon", tls=True, ca_bundle=str(expiring.chain)),
            tcp_check(good_server.port, id="untrusted", tls=True, retry=FAST_RETRY),
        ]
    )
    assert trusted.verdict == "pass", trusted.error
    assert trusted.detail["timings"]["tls"] > 0
    assert trusted.detail["cert"]["subject"] == "CN=tcp-good.traceo.test"
    assert "IP:127.0.0.1" in trusted.detail["cert"]["sans"]
    assert trusted.cert_expires_at is not None

    assert soon.verdict == "fail" and "expires in" in (soon.error or "")
    assert "tls_expiry_days 14" in (soon.error or "")

    assert untrusted.verdict == "fail" and untrusted.attempts == 3  # TLS failures are retried
    assert (untrusted.error or "").startswith("TLS error: certificate verify failed")


def test_tls_handshake_that_never_completes_times_out(serve: Serve) -> None:
    server = serve(hang=True)  # plain TCP: the client's ClientHello is never answered
    result = run_net_one(tcp_check(server.port, tls=True, verify_tls=False, timeout_seconds=0.3))
    assert result.verdict == "fail" and result.error == "timed out after 0.3s (TLS handshake)"
    assert "tls" not in result.detail["timings"]
