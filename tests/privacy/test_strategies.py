"""Erasure strategies, Redis key templates and S3 record formats, without services."""

from __future__ import annotations

import hashlib
import hmac

from tasks.privacy.datamap import Erasure
from tasks.privacy.datastores.base import is_masked, mask_value
from tasks.privacy.datastores.redis_store import key_pattern
from tasks.privacy.datastores.s3 import S3Datastore

KEY = b"k" * 16


def test_each_strategy_gives_its_erased_form_and_recognises_it():
    hashed = mask_value(Erasure(strategy="hmac"), "ada@example.com", KEY)
    assert hashed == hmac.new(KEY, b"ada@example.com", hashlib.sha256).hexdigest()
    assert mask_value(Erasure(strategy="nullify"), "x", KEY) is None
    assert mask_value(Erasure(strategy="fixed", value="[erased]"), "x", KEY) == "[erased]"
    assert mask_value(Erasure(strategy="hmac"), None, KEY) is None
    assert is_masked(Erasure(strategy="hmac"), hashed)
    assert not is_masked(Erasure(strategy="hmac"), "ada@example.com")
    assert not is_masked(Erasure(strategy="fixed", value="[erased]"), "Ada")
    assert not is_masked(Erasure(strategy="nullify"), "")


def test_key_templates_become_a_scan_glob_and_a_parser():
    glob, parser = key_pattern("shop[1]:cart:{customer_id}:{cart_id}")
    assert glob == "shop\\[1\\]:cart:*:*"
    match = parser.match("shop[1]:cart:42:abc")
    assert match is not None and match.groupdict() == {"customer_id": "42", "cart_id": "abc"}
    assert parser.match("shop[1]:session:42") is None


def test_s3_objects_keep_their_format_when_rewritten():
    array = S3Datastore._parse("a.json", '[{"id": 1}, {"id": 2}]', "json")
    lines = S3Datastore._parse("b.jsonl", '{"id": 1}\n{"id": 2}\n', "json")
    table = S3Datastore._parse("c.csv", "id,email\n1,a@x.io\n", "csv")
    assert (array.lines, lines.lines) == (False, True)
    assert [r["id"] for r in lines.records] == [1, 2]
    assert table.header == ["id", "email"] and table.records == [{"id": "1", "email": "a@x.io"}]
