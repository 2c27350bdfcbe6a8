from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from pydantic import ValidationError

from tasks.errors import SpecError
from tasks.probes.catalog import parse_check
from tasks.probes.loader import load_checks
from tasks.probes.net_spec import CertificateCheck, TcpCheck
from tests.probes.net.helpers import run_net
from tests.probes.net.servers import TcpServer

EXAMPLE = Path(__file__).resolve().parents[3] / "deployments" / "checks" / "shop-net.yaml"
BASE = {"id": "n-1", "service": "svc", "host": "db.internal"}


def _error(raw: dict) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_check(raw)
    (err,) = info.value.errors()
    return ".".join(str(p) for p in err["loc"]), err["msg"]


def test_tcp_and_certificate_checks_parse_with_defaults() -> None:
    tcp = parse_check({**BASE, "type": "tcp", "port": "5432", "expect_banner": "PONG"})
    assert isinstance(tcp, TcpCheck)
    assert tcp.port == 5432 and tcp.timeout_seconds == 10 and tcp.tls is False
    assert tcp.expect_banner is not None and tcp.expect_banner.contains == "PONG"
    assert tcp.attempt_timeout_seconds == 10

    cert = parse_check({**BASE, "type": "certificate", "port": "${TLS_PORT:-8443}"})
    assert isinstance(cert, CertificateCheck)
    assert cert.port == "${TLS_PORT:-8443}" and cert.expiry_days == 14
    assert cert.check_hostname and cert.verify_tls
    defaulted = parse_check({**BASE, "type": "certificate", "min_days_left": 30})
    assert isinstance(defaulted, CertificateCheck)
    assert defaulted.port == 443 and defaulted.expiry_days == 30


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"port": 70000}, "port", "port must be a number between 1 and 65535 or a ${VARIABLE}"),
        ({"port": "http"}, "port", "port must be a number between 1 and 65535 or a ${VARIABLE}"),
        ({"port": True}, "port", "port must be a number between 1 and 65535 or a ${VARIABLE}"),
        ({"host": "tcp://db:5432"}, "host", "give a host name or IP address, not a URL"),
        ({"host": "{{ host }}"}, "host", "host may use ${VARIABLE} but not {{ variables }}"),
        ({"send": "${UNCLOSED"}, "send", "send has a malformed ${VARIABLE} placeholder"),
        ({"expect_banner": {"matches": "(["}}, "expect_banner.matches", "invalid regular"),
        (
            {"expect_banner": {"contains": "a", "matches": "b"}},
            "expect_banner",
            "give exactly one of contains (text) or matches (regular expression)",
        ),
        ({"server_name": "db.internal"}, "", "server_name needs tls: true"),
        ({"timeout_seconds": 0}, "timeout_seconds", "greater than 0"),
        ({"banner": "x"}, "banner", "Extra inputs are not permitted"),
    ],
)
def test_invalid_tcp_checks_name_the_field(change: dict, where: str, message: str) -> None:
    raw = {**BASE, "type": "tcp", "port": 5432, **change}
    loc, msg = _error(raw)
    assert loc == where and message in msg


def test_worst_case_longer_than_the_frequency_is_rejected_at_load_time(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(
        dedent(
            """
            checks:
              - id: slow-db
                type: tcp
                service: db
                host: 127.0.0.1
                port: 5432
                frequency: 30s
                timeout_seconds: 10
                retry: {strategy: linear, max_attempts: 3, backoff_seconds: 2}
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_checks([path])
    (issue,) = info.value.issues
    assert (issue.file, issue.item, issue.field) == (str(path), "slow-db", "checks[0].frequency")
    assert issue.reason.startswith(
        "worst case 36s (3 attempt(s) x 10s timeout + 6s of backoff) does not fit in frequency "
        "30s: a check must finish before its next run"
    )


def test_example_file_checks_the_shop_port_from_env() -> None:
    (check,) = load_checks([EXAMPLE])
    assert isinstance(check, TcpCheck)
    assert (check.host, check.port) == ("${SAMPLE_HOST:-127.0.0.1}", "${SAMPLE_PORT}")
    with TcpServer() as shop:
        up, missing = run_net(
            [check, check.model_copy(update={"id": "no-port"})],
            env={"SAMPLE_PORT": str(shop.port)},
        )
    assert up.verdict == "pass", up.error
    [down] = run_net([check], env={})
    assert down.verdict == "error" and "SAMPLE_PORT is not set" in (down.error or "")
    assert missing.verdict == "pass"
