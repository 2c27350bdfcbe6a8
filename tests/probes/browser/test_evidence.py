"""Failure evidence: local files and S3 (moto), and what a stored trace must never contain."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tasks.errors import ConfigurationError, ServiceUnavailableError
from tasks.probes.evidence import (
    LocalEvidenceStore,
    S3EvidenceStore,
    evidence_key,
    evidence_store,
    scrub_trace,
)
from tasks.probes.reporting import evidence_lines
from tasks.redaction import REDACTED
from tasks.settings import get_settings
from tests.probes.browser.conftest import SLOT, SharedBrowser, Site, browser_check
from tests.probes.server import free_port

FAILING = [
    {"goto": "${SITE}/form"},
    {"fill": {"selector": "#note", "value": "${NOTE}"}},
    {"fill": {"selector": "#q", "value": "abc"}},  # short: only the trace structure can tell
    {"name": "check title", "assert_title": {"equals": "Nope"}, "timeout_seconds": 0.3},
]
NOTE = "hunter2-very-private"


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# ---- stores --------------------------------------------------------------------------------------


def test_local_store_writes_below_its_root_and_returns_a_file_uri(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    key = evidence_key("web/1", "eu-west-1", SLOT, 2, "screenshot.png")
    assert key == "web_1/eu-west-1/20261101T120000Z/attempt-2/screenshot.png"
    uri = store.put(key, b"png", "image/png")
    assert uri == (tmp_path / key).as_uri()
    assert (tmp_path / key).read_bytes() == b"png"
    assert store.put(key, b"again", "image/png") == uri  # a rerun replaces its own evidence
    with pytest.raises(ValueError, match="escapes"):
        store.put("../outside.png", b"x", "image/png")


def test_evidence_store_follows_the_settings(
    monkeypatch: pytest.MonkeyPatch, traceo_home: Path, tmp_path: Path
) -> None:
    default = evidence_store()
    assert isinstance(default, LocalEvidenceStore) and default.root == traceo_home / "evidence"
    assert evidence_store(str(tmp_path / "ev")).root == tmp_path / "ev"  # type: ignore[attr-defined]
    assert evidence_store((tmp_path / "ev").as_uri()).root == tmp_path / "ev"  # type: ignore[attr-defined]
    monkeypatch.setenv("TRACEO_EVIDENCE_URL", "s3://bucket/some/prefix/")
    monkeypatch.setenv("TRACEO_EVIDENCE_ENDPOINT_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    s3 = evidence_store()
    assert isinstance(s3, S3EvidenceStore)
    assert (s3.bucket, s3.prefix, s3.endpoint_url) == (
        "bucket",
        "some/prefix",
        "http://127.0.0.1:9",
    )
    for bad in ("s3:///no-bucket", "gs://bucket/x"):
        with pytest.raises(ConfigurationError):
            evidence_store(bad)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=moto_url)
    client.create_bucket(Bucket="evidence")
    yield client
    for item in client.list_objects_v2(Bucket="evidence").get("Contents", []):
        client.delete_object(Bucket="evidence", Key=item["Key"])
    client.delete_bucket(Bucket="evidence")


def test_a_failed_check_stores_its_evidence_in_s3(
    chromium: SharedBrowser, pages: Site, s3: object, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEO_EVIDENCE_URL", "s3://evidence/probes")
    monkeypatch.setenv("TRACEO_EVIDENCE_ENDPOINT_URL", moto_url)
    get_settings.cache_clear()
    (result,) = chromium.run(
        [browser_check(FAILING, id="web-s3")], env={"SITE": pages.url, "NOTE": NOTE}
    )
    assert result.verdict == "fail" and result.failing_step == "check title"
    prefix = "probes/web-s3/eu-west-1/20261101T120000Z/attempt-1"
    assert result.detail["evidence"] == {
        "screenshot": f"s3://evidence/{prefix}/screenshot.png",
        "trace": f"s3://evidence/{prefix}/trace.zip",
    }
    shot = s3.get_object(Bucket="evidence", Key=f"{prefix}/screenshot.png")  # type: ignore[attr-defined]
    assert shot["ContentType"] == "image/png"
    assert shot["Body"].read().startswith(b"\x89PNG")
    trace = s3.get_object(Bucket="evidence", Key=f"{prefix}/trace.zip")["Body"].read()  # type: ignore[attr-defined]
    assert "trace.trace" in _members(trace)


def test_an_unreachable_evidence_store_is_noted_and_the_verdict_stands(
    chromium: SharedBrowser, pages: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    store = S3EvidenceStore("evidence", endpoint_url=f"http://127.0.0.1:{free_port()}")
    store._client = boto3.client(  # no retries against a closed port: fail fast
        "s3",
        endpoint_url=store.endpoint_url,
        region_name="us-east-1",
        config=__import__("botocore.config").config.Config(retries={"max_attempts": 1}),
    )
    (result,) = chromium.run(
        [browser_check(FAILING, id="web-nostore")],
        env={"SITE": pages.url, "NOTE": NOTE},
        evidence=store,
    )
    assert result.verdict == "fail" and result.failing_step == "check title"
    assert "cannot store evidence" in result.detail["evidence"]["error"]
    assert "screenshot" not in result.detail["evidence"]
    with pytest.raises(ServiceUnavailableError):
        store.put("k", b"x", "text/plain")


# ---- privacy -------------------------------------------------------------------------------------


def test_filled_values_never_reach_results_screenshots_or_traces(
    chromium: SharedBrowser, pages: Site, evidence: LocalEvidenceStore
) -> None:
    (result,) = chromium.run(
        [browser_check(FAILING, id="web-private")],
        env={"SITE": pages.url, "NOTE": NOTE},
        evidence=evidence,
    )
    assert result.verdict == "fail"
    assert NOTE not in json.dumps(result.detail, default=str) + (result.error or "")
    trace = Path(result.detail["evidence"]["trace"].removeprefix("file://")).read_bytes()
    members = _members(trace)
    assert all(NOTE.encode() not in body for body in members.values())
    events = [json.loads(line) for line in members["trace.trace"].splitlines() if line.strip()]
    fills = [e for e in events if e.get("type") == "before" and e.get("method") == "fill"]
    assert len(fills) == 2 and {f["params"]["value"] for f in fills} == {REDACTED}
    text = members["trace.trace"].decode()
    assert '"__playwright_value_":"abc"' not in text and 'fill("abc")' not in text


def test_scrub_trace_removes_typed_values_and_secrets_from_every_member() -> None:
    events = [
        {"type": "before", "method": "fill", "params": {"selector": "#p", "value": "pw"}},
        {"type": "log", "message": '  fill("pw")'},
        {"type": "frame-snapshot", "html": ["INPUT", {"__playwright_value_": "pw", "id": "p"}]},
        {"type": "before", "method": "click", "params": {"selector": "#go"}},
    ]
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("trace.trace", "\n".join(json.dumps(e) for e in events))
        archive.writestr("resources/body.json", '{"token":"tok-123456","q":"tok-123456"}')
        archive.writestr("trace.network", "/login?t=a%2Fb%20c%2Bsecret&u=a%2Fb+c%2Bsecret")
    out = _members(scrub_trace(raw.getvalue(), {"tok-123456", "a/b c+secret", "x"}))
    lines = [json.loads(line) for line in out["trace.trace"].splitlines()]
    assert lines[0]["params"] == {"selector": "#p", "value": REDACTED}
    assert lines[1]["message"] == f'  fill("{REDACTED}")'
    assert lines[2]["html"][1] == {"__playwright_value_": REDACTED, "id": "p"}
    assert lines[3] == events[3]
    assert out["resources/body.json"] == f'{{"token":"{REDACTED}","q":"{REDACTED}"}}'.encode()
    assert b"secret" not in out["trace.network"]
    with pytest.raises(ValueError, match="not a trace zip"):
        scrub_trace(b"not a zip", set())


def test_run_artifacts_link_the_evidence(
    chromium: SharedBrowser, pages: Site, evidence: LocalEvidenceStore
) -> None:
    passing = browser_check([{"goto": "${SITE}/form"}], id="web-ok")
    failing = browser_check(FAILING, id="web-bad")
    results = chromium.run(
        [passing, failing], env={"SITE": pages.url, "NOTE": "n"}, evidence=evidence
    )
    (line,) = evidence_lines(results)
    uris = results[1].detail["evidence"]
    assert line == (
        f"- `web-bad` fail at step 'check title': "
        f"[screenshot]({uris['screenshot']}), [trace]({uris['trace']})"
    )


def test_a_misconfigured_evidence_url_is_noted_on_the_failed_result(
    chromium: SharedBrowser, pages: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEO_EVIDENCE_URL", "gs://bucket/x")
    get_settings.cache_clear()
    (result,) = chromium.run(
        [browser_check(FAILING, id="web-misconfigured")], env={"SITE": pages.url, "NOTE": "n"}
    )
    assert result.verdict == "fail" and result.failing_step == "check title"
    assert result.detail["evidence"] == {
        "error": "evidence not stored: evidence URL 'gs://bucket/x': unsupported scheme 'gs' "
        "(use s3://, file:// or a path)"
    }
