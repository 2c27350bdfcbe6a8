from __future__ import annotations

import os
import sqlite3

from deployments.privacy_demo import run_privacy_demo
from tasks.privacy.fulfil import run_request
from tasks.store import get_engine


def test_privacy_demo_fulfils_an_access_and_an_erasure_from_signed_webhooks(traceo_home):
    engine = get_engine()
    lines: list[str] = []
    before = dict(os.environ)
    result = run_privacy_demo(
        lines.append, engine, traceo_home, fulfil=lambda rid: run_request(engine, rid, "demo")
    )
    output = "\n".join(lines)
    assert dict(os.environ) == before  # the demo restores what it changed
    assert result["chain_ok"] and len(result["requests"]) == 2
    assert all(o["status"] == "completed" for o in result["requests"].values())
    assert "PRIV-1 access   -> 202" in output and "forged signature  -> 401" in output
    assert "access bundle: 6 files" in output and ", 0 not erased" in output
    assert "Audit chain: intact" in output
    assert "PRIV-1 [Done] Data-subject request" in output  # the Jira fake got comment + status
    assert "PRIV-2 [Done]" in output
    with sqlite3.connect(traceo_home / "privacy" / "shop.db") as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM customers ORDER BY id")]
    assert names == ["Ada", "[erased]", "Linus"]
    assert "grace@" not in output and "ada@" not in output
