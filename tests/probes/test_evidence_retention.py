"""Evidence follows the raw results' retention: slots before the cutoff go, local and on S3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from infra.sandbox.moto_server import MotoServer
from tasks.probes.evidence import LocalEvidenceStore, S3EvidenceStore, evidence_key

CUTOFF = datetime(2026, 11, 15, tzinfo=UTC)
SLOTS = [CUTOFF - timedelta(days=2), CUTOFF - timedelta(minutes=1), CUTOFF, CUTOFF + timedelta(1)]


def fill(store) -> list[str]:  # type: ignore[no-untyped-def]
    keys = [
        evidence_key("web-shop", region, slot, 1, name)
        for slot in SLOTS
        for region in ("eu-west-1", "us-east-1")
        for name in ("screenshot.png", "trace.zip")
    ]
    for key in keys:
        store.put(key, b"x", "application/octet-stream")
    return keys


def kept(keys: list[str]) -> set[str]:
    return {
        k
        for k in keys
        if datetime.strptime(k.split("/")[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) >= CUTOFF
    }


def test_local_evidence_of_older_slots_is_removed_with_its_folders(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    keys = fill(store)
    (tmp_path / "README.txt").write_text("not evidence")

    assert store.expire(CUTOFF) == 8
    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert left == kept(keys) | {"README.txt"}
    old_slot = tmp_path / "web-shop" / "eu-west-1" / SLOTS[0].strftime("%Y%m%dT%H%M%SZ")
    assert not old_slot.exists()
    assert store.expire(CUTOFF) == 0  # a rerun removes nothing more


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


def test_s3_evidence_of_older_slots_is_deleted_under_its_prefix_only(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in moto.environment().items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=moto.url)
    client.create_bucket(Bucket="evidence")
    client.put_object(
        Bucket="evidence", Key="other/web-shop/eu-west-1/20200101T000000Z/a/b", Body=b""
    )
    store = S3EvidenceStore("evidence", "probes", endpoint_url=moto.url)
    keys = fill(store)

    assert store.expire(CUTOFF) == 8
    listed = {o["Key"] for o in client.list_objects_v2(Bucket="evidence")["Contents"]}
    assert listed == {f"probes/{k}" for k in kept(keys)} | {
        "other/web-shop/eu-west-1/20200101T000000Z/a/b"
    }
