"""The status web app serves prepared files (gzip, ETag, 304) and never waits on the store."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from deployments.cli import main
from deployments.status.app import PageCache, StatusApp
from tasks.local_server import ThreadedApp, free_port
from tasks.status.model import ServiceStatus, StatusPage
from tests.status.conftest import NOW

PAGE = StatusPage(
    "Shop", NOW, (ServiceStatus("Shop", "Storefront", None, "operational", 0.999, ()),), (), ()
)


@pytest.fixture
def served():
    cache = PageCache(lambda: PAGE, refresh=3600).start()
    with ThreadedApp(StatusApp(cache), "status-test") as server:
        yield server.url
    cache.stop()


def test_status_and_json_are_served_with_an_etag_that_answers_304(served) -> None:
    with httpx.Client(base_url=served) as client:
        page = client.get("/status", headers={"Accept-Encoding": "identity"})
        again = client.get("/status", headers={"If-None-Match": page.headers["etag"]})
        summary = client.get("/status.json").json()
        root = client.get("/", follow_redirects=False)

    assert page.status_code == 200 and "Storefront" in page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == "default-src 'self'"
    assert again.status_code == 304 and again.content == b""
    assert summary["status"] == {"indicator": "none", "description": "All systems operational"}
    assert (root.status_code, root.headers["location"]) == (307, "/status")


def test_gzip_is_sent_only_to_clients_that_accept_it(served) -> None:
    raw = httpx.get(f"{served}/status.css", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    plain = httpx.get(f"{served}/status.css", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert raw.text == plain.text  # httpx decoded the gzip body


def test_unknown_paths_and_writes_are_refused(served) -> None:
    assert httpx.get(f"{served}/admin").status_code == 404
    assert httpx.post(f"{served}/status").status_code == 405


def test_before_a_first_page_exists_the_app_answers_503_and_keeps_the_last_on_failure() -> None:
    builds: list[int] = []

    def every_other_fails() -> StatusPage:
        builds.append(1)
        if len(builds) % 2:
            raise RuntimeError("store down")
        return PAGE

    cache = PageCache(every_other_fails, refresh=3600)
    cache.rebuild()
    with ThreadedApp(StatusApp(cache), "status-test") as server:
        assert httpx.get(f"{server.url}/status").status_code == 503
        cache.rebuild()
        assert httpx.get(f"{server.url}/status").status_code == 200
        cache.rebuild()  # fails: the page above stays
        assert httpx.get(f"{server.url}/status").status_code == 200


def test_export_writes_the_static_files_and_validate_refuses_a_private_check(tmp_path) -> None:
    out = tmp_path / "site"
    exported = CliRunner().invoke(main, ["status", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html",
        "status.css",
        "status.js",
        "status.json",
    ]
    assert json.loads((out / "status.json").read_text())["page"]["name"] == "Example Shop status"

    page = tmp_path / "page.yaml"
    page.write_text(
        "statusPage:\n  title: T\n  groups:\n    - name: G\n      services:\n"
        "        - name: S\n          slos: [shop-order-journey]\n"
        "          checks: [shop-orders-require-auth]\n"
    )
    refused = CliRunner().invoke(main, ["status", "validate", "--page", str(page)])
    assert refused.exit_code == 1
    assert "checks[0]: check 'shop-orders-require-auth' is private" in refused.output


def test_gzip_bodies_are_the_page() -> None:
    cache = PageCache(lambda: PAGE, refresh=3600)
    cache.rebuild()
    assert cache.files is not None
    html = cache.files["index.html"]
    assert gzip.decompress(html.gzipped) == html.body


def test_traceo_status_serve_serves_the_shop_page_until_interrupted(tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "TRACEO_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "deployments.cli", "status", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/status")
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.2)
        assert page.status_code == 200 and "Example Shop status" in page.text
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/status" in stderr
