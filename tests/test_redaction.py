from __future__ import annotations

import logging

import pytest

from tasks.redaction import REDACTED, RedactingFilter, install_redaction, redact


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("GET https://admin:s3cr3tpw@db.example.com/x", "s3cr3tpw"),
        ("postgresql://svc:pa55word@10.0.0.1/app", "pa55word"),
        ("Authorization: Bearer abcdef0123456789xyz", "abcdef0123456789xyz"),
        ("calling https://api.example.com/v1?api_key=KEY12345&page=2", "KEY12345"),
        ('{"password": "hunter22", "user": "x"}', "hunter22"),
        ("token=tok_live_998877", "tok_live_998877"),
        ("subject jane.doe@example.org asked for erasure", "jane.doe@example.org"),
        ("key AKIAABCDEFGHIJKLMNOP used", "AKIAABCDEFGHIJKLMNOP"),
        ("https://hooks.slack.com/services/T000/B000/XXXXYYYYZZZZ", "XXXXYYYYZZZZ"),
        ("client_secret: 'abc.def-123'", "abc.def-123"),
    ],
)
def test_redact_removes_secrets_and_personal_data(raw, secret):
    out = redact(raw)
    assert secret not in out
    assert REDACTED in out


def test_redact_keeps_ordinary_text():
    text = "check api-health in eu-west-1 passed in 120 ms (status 200)"
    assert redact(text) == text


def test_filter_redacts_args_and_tracebacks():
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "GET %s", ("https://u:pw1234@h/",), None
    )
    try:
        raise ValueError("bad password=topsecret")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    assert "pw1234" not in record.getMessage()
    assert "topsecret" not in record.exc_text


def test_install_redaction_covers_prefect_and_httpx_handlers(caplog):
    import prefect.logging.configuration as prefect_logging

    prefect_logging.setup_logging()
    install_redaction()
    handlers = logging.getLogger("prefect").handlers + logging.getLogger().handlers
    assert handlers
    assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in handlers)
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info("HTTP Request: GET https://x.test/?token=abc123456")
    assert "abc123456" not in caplog.text
