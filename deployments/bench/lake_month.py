"""A generated month of cost lines in a local cost lake, for the at-scale benchmarks.

September 2024 of a large AWS organisation: 5 payer (billing) accounts, 40 sub-accounts, 50,000
resources over 10 services and 5 regions, each resource with its own tag set drawn from 30 tag
keys (95% carry ``business_unit``, one of 220: 200 owned by a team, 20 unowned), hourly lines
(a few resources are much busier than most), 2% tax and 1% credits, support fees. Lines are
written through the lake's own writer (:class:`tasks.cost.lake.Lake`), so the benchmarks read
what ingestion would have written. Generating takes minutes and is not timed: the lake is kept
under ``$TRACEO_BENCH_CACHE`` (default ``~/.cache/traceo/bench``) and reused while its stamp
says it is complete for the same size and seed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from deployments.bench.chargeback_allocation import SERVICES
from tasks.cost.focus import DECIMAL
from tasks.cost.lake import Lake
from tasks.cost.lake.layout import LAKE_SCHEMA, PartitionKey

__all__ = ["PERIOD", "RESOURCES", "month_lake", "sizes"]

PERIOD = "2024-09"
FULL_LINES = 100_000_000  # the month the at-scale benchmarks measure
REFERENCE_LINES = 10_000_000  # what the in-memory references hold here (--quick: a tenth each)
RESOURCES = 50_000
TAG_KEYS = 30
_CHUNK = 2_000_000
_SEED = 20240901
_PAYERS = tuple(f"{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}" for i in range(1, 6))
_SERVICES = (
    *SERVICES,
    ("Amazon Elastic Kubernetes Service", "Compute"),
    ("Amazon Simple Queue Service", "Integration"),
)
_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")


def month_lake(lines: int, cache: Path | None = None) -> Lake:
    """The lake holding ``lines`` generated lines of :data:`PERIOD` (generated once, cached)."""
    root = (cache or _cache_dir()) / f"lake-{lines}-{_SEED}"
    stamp = root / "complete.json"
    expected = {"lines": lines, "seed": _SEED, "resources": RESOURCES, "tag_keys": TAG_KEYS}
    if stamp.exists() and json.loads(stamp.read_text()) == expected:
        return Lake.at(str(root / "lake"))
    if root.exists():
        import shutil

        shutil.rmtree(root)
    lake = Lake.at(str(root / "lake"))
    _generate(lake, lines)
    stamp.write_text(json.dumps(expected))
    return lake


def sizes(quick: bool) -> tuple[int, int]:
    """The lines of the measured month and of the references' smaller month."""
    return (REFERENCE_LINES, REFERENCE_LINES // 10) if quick else (FULL_LINES, REFERENCE_LINES)


def _cache_dir() -> Path:
    configured = os.environ.get("TRACEO_BENCH_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "traceo" / "bench"


class _Resources:
    """Each resource's fixed attributes, as Arrow arrays indexed by resource number."""

    def __init__(self, rng: np.random.Generator) -> None:
        n = RESOURCES
        self.service = rng.integers(0, len(_SERVICES), n)
        self.payer = rng.integers(0, len(_PAYERS), n)
        self.sub_account = self.payer * 8 + rng.integers(0, 8, n)  # 8 per payer, 40 in all
        self.region = rng.integers(0, len(_REGIONS), n)
        self.ids = pa.array(
            [f"arn:aws:svc:{_REGIONS[r]}:res-{i:08d}" for i, r in enumerate(self.region)]
        )
        self.tags = pa.array([_tag_set(rng, i) for i in range(n)], pa.string())
        weights = rng.pareto(1.2, n) + 1  # a few busy resources, a long tail of quiet ones
        self.weights = weights / weights.sum()


def _tag_set(rng: np.random.Generator, resource: int) -> str | None:
    if rng.random() < 0.03:
        return None
    tags: dict[str, str] = {}
    if rng.random() < 0.95:
        tags["business_unit"] = f"bu-{resource % 220:03d}"
    for key in rng.choice(TAG_KEYS - 1, size=int(rng.integers(3, 9)), replace=False):
        tags[f"tag-{key:02d}"] = f"value-{int(rng.integers(0, 50)):02d}"
    return json.dumps(tags, sort_keys=True)


def _generate(lake: Lake, lines: int) -> None:
    rng = np.random.default_rng(_SEED)
    resources = _Resources(rng)
    with lake.writer() as writer:
        done = 0
        while done < lines:
            size = min(_CHUNK, lines - done)
            table = _chunk(rng, resources, size)
            payer = table["BillingAccountId"]
            for account in _PAYERS:
                mask = pc.equal(payer, account)
                writer.write(PartitionKey("AWS", account, PERIOD), table.filter(mask))
            done += size
        writer.commit(None)


def _chunk(rng: np.random.Generator, resources: _Resources, rows: int) -> pa.Table:
    pick = pa.array(rng.choice(RESOURCES, size=rows, p=resources.weights))
    index = pick.to_numpy()
    service = resources.service[index]
    category = rng.choice(np.array(["Usage", "Tax", "Credit"]), rows, p=[0.97, 0.02, 0.01])
    cost = rng.integers(0, 10**12, rows)  # up to 1.000000000000, 12 decimals
    cost = np.where(category == "Credit", -cost // 10, cost)
    hour = np.datetime64("2024-09-01T00:00:00", "us") + rng.integers(0, 30 * 24, rows).astype(
        "timedelta64[h]"
    )

    def money(unscaled: np.ndarray) -> pa.Array:
        raw = np.zeros((rows, 2), dtype=np.int64)
        raw[:, 0] = unscaled
        raw[:, 1] = np.where(unscaled < 0, -1, 0)  # two's complement high word
        return pa.Array.from_buffers(DECIMAL, rows, [None, pa.py_buffer(raw)])

    def text(values: tuple[str, ...], codes: np.ndarray) -> pa.Array:
        return pa.array(values).take(pa.array(codes))

    ts = LAKE_SCHEMA.field("ChargePeriodStart").type
    columns = {
        "BilledCost": money(cost),
        "EffectiveCost": money(cost * 9 // 10),  # amortised commitments cover a tenth
        "ListCost": money(cost * 11 // 10),
        "BillingAccountId": text(_PAYERS, resources.payer[index]),
        "BillingCurrency": pa.array(np.full(rows, "USD")),
        "ChargeCategory": pa.array(category),
        "ChargePeriodStart": pa.array(hour, ts),
        "ChargePeriodEnd": pa.array(hour + np.timedelta64(1, "h"), ts),
        "ProviderName": pa.array(np.full(rows, "AWS")),
        "RegionId": text(_REGIONS, resources.region[index]),
        "ResourceId": resources.ids.take(pick),
        "ServiceName": text(tuple(s[0] for s in _SERVICES), service),
        "ServiceCategory": text(tuple(s[1] for s in _SERVICES), service),
        "SubAccountId": text(tuple(f"{i:012d}" for i in range(40)), resources.sub_account[index]),
        "Tags": resources.tags.take(pick),
        "x_Estimated": pa.array(np.zeros(rows, dtype=bool)),
        "x_Source": pa.array(np.full(rows, "aws-data-export")),
    }
    arrays = [columns[f.name] if f.name in columns else pa.nulls(rows, f.type) for f in LAKE_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=LAKE_SCHEMA)
