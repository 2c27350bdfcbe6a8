"""The intake's read-only file route: artifact files and signed, expiring access bundles."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from deployments.intake.files import files_router
from tasks.privacy.package import LocalSink
from tasks.settings import get_settings
from tests.privacy.conftest import HASH_KEY

BASE = "http://testserver/files"


@pytest.fixture
def home(traceo_home: Path, monkeypatch) -> Path:
    monkeypatch.setenv("TRACEO_FILES_URL", BASE)
    monkeypatch.setenv("TRACEO_DSR_HASH_KEY", HASH_KEY)
    monkeypatch.setenv("TRACEO_DSR_DATAMAP", str(Path("deployments/datamaps/demo.yaml").resolve()))
    get_settings.cache_clear()
    statement = traceo_home / "chargeback" / "2026-11" / "summary.md"
    statement.parent.mkdir(parents=True)
    statement.write_text("# November\n")
    (traceo_home / "traceo.db").write_text("the store")
    (traceo_home / "chargeback" / "escape").symlink_to(traceo_home / "traceo.db")
    return traceo_home


@pytest.fixture
def client(home: Path) -> TestClient:
    app = FastAPI()
    app.include_router(files_router(home))
    return TestClient(app, raise_server_exceptions=False)


def _bundle_link(home: Path, expires_at: datetime) -> str:
    sink = LocalSink(home / "dsr" / "bundles" / "req-1", HASH_KEY.encode())
    sink.put("bundle.zip", b"PK zip bytes")
    link = sink.link("bundle.zip", expires_at)
    assert link.startswith(f"{BASE}/dsr/bundles/req-1/bundle.zip?expires=")
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_a_chargeback_statement_is_served_from_its_artifact_link(client: TestClient):
    response = client.get("/files/chargeback/2026-11/summary.md")
    assert response.status_code == 200 and response.text == "# November\n"


@pytest.mark.parametrize(
    "path",
    [
        "/files/traceo.db",  # under TRACEO_HOME but not an artifact folder
        "/files/chargeback/%2e%2e/traceo.db",
        "/files/chargeback/..%2ftraceo.db",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/chargeback/..%5c..%5ctraceo.db",
        "/files//etc/passwd",
        "/files/%2fetc/passwd",
        "/files/chargeback/2026-11/summary.md%00.png",
        "/files/chargeback/%2e/2026-11/summary.md",
        "/files/chargeback/escape",  # a symlink leading out of the folder
        "/files/chargeback/2026-11/",  # directories are never listed
        "/files/chargeback",
        "/files/",
        "/files/chargeback/missing.md",
        "/files/chargeback/" + "a" * 5000,
        "/files/chargeback/%E2%80%AEdm.yrammus",  # a bidi override
    ],
)
def test_anything_but_an_artifact_file_is_not_found(client: TestClient, path: str):
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert "the store" not in response.text and "root:" not in response.text


def test_an_access_bundle_is_served_decrypted_only_through_its_signed_link(
    client: TestClient, home: Path
):
    link = _bundle_link(home, datetime.now(UTC) + timedelta(hours=1))
    response = client.get(link)
    assert response.status_code == 200 and response.content == b"PK zip bytes"
    assert response.headers["cache-control"] == "no-store"
    assert b"PK zip bytes" not in (home / "dsr/bundles/req-1/bundle.zip").read_bytes()

    path, _, query = link.partition("?")
    assert client.get(path).status_code == 403  # unsigned
    forged = query.replace("signature=", "signature=0")
    assert client.get(f"{path}?{forged}").status_code == 403
    later = query.replace("expires=", "expires=9")  # a longer life is a different signature
    assert client.get(f"{path}?{later}").status_code == 403
    manifest = path.replace("bundle.zip", "manifest.json")
    assert client.get(f"{manifest}?{query}").status_code == 403  # the link grants one file


def test_an_expired_bundle_link_is_refused(client: TestClient, home: Path):
    link = _bundle_link(home, datetime.now(UTC) - timedelta(seconds=1))
    response = client.get(link)
    assert response.status_code == 403 and "expired" in response.json()["detail"]


def test_the_intake_serves_files_when_given_a_home(home: Path, store_engine):
    from deployments.intake.app import create_app
    from tests.deployments.intake.conftest import FakeStarter

    app = create_app(store_engine, FakeStarter(), {}, files_home=home, jira_fields={})
    with TestClient(app) as client:
        assert client.get("/files/chargeback/2026-11/summary.md").status_code == 200
    assert os.environ["TRACEO_FILES_URL"] == BASE
