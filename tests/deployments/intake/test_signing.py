"""Signature schemes, checked against signatures computed independently of our signer."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from deployments.intake.signing import SignatureError, sign_request, verify_request

BODY = b'{"ticket": {"id": "4242"}}'
NOW = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)


def test_zendesk_is_base64_hmac_of_timestamp_plus_body():
    stamp = "2026-12-04T21:00:00Z"
    expected = base64.b64encode(
        hmac.new(b"s3cret", stamp.encode() + BODY, hashlib.sha256).digest()
    ).decode()
    headers = {
        "X-Zendesk-Webhook-Signature": expected,
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    assert sign_request("zendesk", BODY, "s3cret", NOW) == headers
    verified = verify_request("zendesk", headers, BODY, "s3cret", NOW)
    assert verified.signed_at == NOW and verified.delivery_id.startswith("sig:")


def test_jira_is_sha256_prefixed_hex_of_the_body_with_a_delivery_id():
    expected = "sha256=" + hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    headers = sign_request("jira", BODY, "s3cret", delivery_id="d-1")
    assert headers["X-Hub-Signature"] == expected
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify_request("jira", lower, BODY, "s3cret").delivery_id == "jira:d-1"
    del lower["x-atlassian-webhook-identifier"]
    with pytest.raises(SignatureError, match="x-atlassian-webhook-identifier"):
        verify_request("jira", lower, BODY, "s3cret")


@pytest.mark.parametrize("source", ["servicenow", "generic"])
def test_traceo_scheme_is_hex_hmac_of_timestamp_dot_body(source):
    stamp = str(int(NOW.timestamp()))
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + BODY, hashlib.sha256).hexdigest()
    headers = sign_request(source, BODY, "s3cret", NOW)
    assert headers == {"X-Traceo-Signature": f"sha256={expected}", "X-Traceo-Timestamp": stamp}
    assert verify_request(source, headers, BODY, "s3cret", NOW).signed_at == NOW


@pytest.mark.parametrize(
    ("source", "header", "value", "reason"),
    [
        ("zendesk", "X-Zendesk-Webhook-Signature-Timestamp", "yesterday", "ISO 8601"),
        ("generic", "X-Traceo-Timestamp", "2026-12-04", "Unix seconds"),
        ("generic", "X-Traceo-Signature", "sha256=00", "does not match"),
    ],
)
def test_malformed_headers_are_refused(source, header, value, reason):
    headers = sign_request(source, BODY, "s3cret", NOW)
    headers[header] = value
    with pytest.raises(SignatureError, match=reason):
        verify_request(source, headers, BODY, "s3cret", NOW)


def test_a_source_without_a_secret_accepts_nothing():
    headers = sign_request("generic", BODY, "", NOW)
    with pytest.raises(SignatureError, match="no secret configured"):
        verify_request("generic", headers, BODY, None, NOW)


def test_errors_never_contain_the_secret():
    headers = sign_request("generic", BODY, "s3cret", NOW)
    with pytest.raises(SignatureError) as caught:
        verify_request("generic", headers, BODY, "other-s3cret", NOW)
    assert "s3cret" not in str(caught.value)
