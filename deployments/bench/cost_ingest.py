"""Benchmark ``cost_ingest``: FOCUS rows from Parquet into the cost lake, next to PostgreSQL.

Ours: :class:`~tasks.cost.sources.focus_files.FocusFileSource` + :func:`~tasks.cost.ingest.
ingest_source` into a local cost lake (Arrow validation, Parquet partitions switched in one
step; the run's records in the PostgreSQL store). Reference, measured in the same run: the path
before the lake, the same source's validated chunks streamed by ``COPY`` into PostgreSQL's
``cost_lines`` in one transaction (:class:`~tasks.cost.bulk.RowStream`). Each runs in a fresh
child process, so that its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its
own, after an untimed warm-up. Both use a throw-away schema of 127.0.0.1:5432/test, dropped
afterwards.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from deployments.bench import Measurement
from deployments.bench.child import in_child

__all__ = ["generate_focus_parquet", "run"]

FULL_ROWS = 1_000_000
QUICK_ROWS = 100_000
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PERIOD = (date(2024, 9, 1), date(2024, 10, 1))
_ACCOUNTS = (
    ("111111111111", "USD", "AWS"),
    ("222222222222", "USD", "AWS"),
    ("ba-3", "EUR", "Google Cloud"),
)
_SERVICES = (
    ("Amazon Elastic Compute Cloud", "Compute"),
    ("Amazon Simple Storage Service", "Storage"),
    ("Amazon Relational Database Service", "Databases"),
    ("AWS Lambda", "Compute"),
    ("Amazon CloudFront", "Networking"),
    ("Amazon DynamoDB", "Databases"),
    ("Elastic Load Balancing", "Networking"),
    ("Amazon Simple Queue Service", "Integration"),
)
_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")


def generate_focus_parquet(path: Path, rows: int, seed: int = 20240901) -> Path:
    """Write ``rows`` deterministic FOCUS 1.2 rows (hourly, September 2024) to ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    account = rng.integers(0, len(_ACCOUNTS), rows)
    service = rng.integers(0, len(_SERVICES), rows)
    hour = rng.integers(0, 30 * 24, rows)
    start = np.datetime64("2024-09-01T00:00:00", "us") + hour.astype("timedelta64[h]")
    quantity = rng.integers(1, 10**9, rows)  # pico-units
    unit_price = rng.integers(1, 10**6, rows)  # micro-currency per unit
    list_cost = quantity // 1000 * unit_price // 10**3  # scale 12 unscaled ints
    billed = list_cost * rng.integers(70, 101, rows) // 100
    tags = [
        json.dumps({"team": f"team-{i % 12}", "env": ("prod", "dev")[i % 2]}) for i in range(24)
    ]

    def money(unscaled: np.ndarray) -> pa.Array:
        raw = np.zeros((rows, 2), dtype=np.int64)
        raw[:, 0] = unscaled
        return pa.Array.from_buffers(pa.decimal128(38, 12), rows, [None, pa.py_buffer(raw)])

    def pick(values: tuple[Any, ...], index: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), pa.array(values))

    ts = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "BilledCost": money(billed),
            "BillingAccountId": pick(tuple(a[0] for a in _ACCOUNTS), account),
            "BillingAccountName": pick(("Payer A", "Payer B", "GCP billing"), account),
            "BillingCurrency": pick(tuple(a[1] for a in _ACCOUNTS), account),
            "BillingPeriodStart": pa.array(np.repeat(np.datetime64("2024-09-01", "us"), rows), ts),
            "BillingPeriodEnd": pa.array(np.repeat(np.datetime64("2024-10-01", "us"), rows), ts),
            "ChargeCategory": pick(("Usage",), np.zeros(rows, dtype=np.int32)),
            "ChargeClass": pa.nulls(rows, pa.string()),
            "ChargeDescription": pick(tuple(f"{s[0]} usage" for s in _SERVICES), service),
            "ChargeFrequency": pick(("Usage-Based",), np.zeros(rows, dtype=np.int32)),
            "ChargePeriodStart": pa.array(start, ts),
            "ChargePeriodEnd": pa.array(start + np.timedelta64(1, "h"), ts),
            "ConsumedQuantity": money(quantity),
            "ConsumedUnit": pick(("Hours",), np.zeros(rows, dtype=np.int32)),
            "ContractedCost": money(billed),
            "EffectiveCost": money(billed),
            "InvoiceIssuerName": pick(("AWS", "AWS", "Google"), account),
            "ListCost": money(list_cost),
            "ListUnitPrice": money(unit_price * 10**6),
            "PricingQuantity": money(quantity),
            "PricingUnit": pick(("Hours",), np.zeros(rows, dtype=np.int32)),
            "ProviderName": pick(tuple(a[2] for a in _ACCOUNTS), account),
            "PublisherName": pick(tuple(a[2] for a in _ACCOUNTS), account),
            "RegionId": pick(_REGIONS, rng.integers(0, len(_REGIONS), rows)),
            "ResourceId": pa.array([f"arn:aws:svc:r:{i % 50_000:08d}" for i in range(rows)]),
            "ServiceCategory": pick(tuple(s[1] for s in _SERVICES), service),
            "ServiceName": pick(tuple(s[0] for s in _SERVICES), service),
            "SkuId": pick(tuple(f"SKU{i:04d}" for i in range(64)), rng.integers(0, 64, rows)),
            "SubAccountId": pick(tuple(f"{i:012d}" for i in range(40)), rng.integers(0, 40, rows)),
            "SubAccountName": pick(
                tuple(f"account-{i}" for i in range(40)), rng.integers(0, 40, rows)
            ),
            "Tags": pick(tuple(tags), rng.integers(0, len(tags), rows)),
        }
    )
    pq.write_table(table, path, row_group_size=100_000)
    return path


_TARGET = "< 2 s for 1M rows; >= 10x the PostgreSQL path"


def run(quick: bool) -> list[Measurement]:
    """Ingest ``FULL_ROWS`` (quick: ``QUICK_ROWS``) Parquet rows into the lake and PostgreSQL."""
    rows = QUICK_ROWS if quick else FULL_ROWS
    if not _port_open("127.0.0.1", 5432):
        note = "skipped: PostgreSQL is not reachable on 127.0.0.1:5432 (nothing measured)"
        return [Measurement("cost_ingest", 0.0, 0.0, "s", 0.0, _TARGET, False, note)]
    from sqlalchemy import create_engine, text

    schema = f"traceo_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory(prefix="traceo-bench-") as tmp:
            path = generate_focus_parquet(Path(tmp) / "focus.parquet", rows)
            _migrate(url)
            lake = str(Path(tmp) / "lake")
            ours = in_child("cost_ingest (lake)", _ingest, "lake", url, str(path), lake)
            reference = in_child(
                "cost_ingest (postgres)", _ingest, "postgres", url, str(path), lake
            )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    ratio = reference["seconds"] / ours["seconds"] if ours["seconds"] > 0 else float("inf")
    stored = ours["stored"] == reference["stored"] == rows
    met = ratio >= 10 and stored and (quick or ours["seconds"] < 2)
    note = (
        f"{rows:,} FOCUS rows (31 columns, Parquet); ours: validation + Parquet partitions of the "
        f"lake ({ours['stored']:,} rows read back, {ours['files']} file(s), peak RSS "
        f"{ours['peak_mb']:,.0f} MB); reference: validation + COPY into PostgreSQL cost_lines in "
        f"one transaction ({reference['stored']:,} rows, peak RSS "
        f"{reference['peak_mb']:,.0f} MB); each in a fresh child process after an untimed "
        f"warm-up, peak RSS with interpreter and imports"
    )
    return [
        Measurement(
            "cost_ingest", ours["seconds"], reference["seconds"], "s", ratio, _TARGET, met, note
        )
    ]


def _port_open(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _migrate(url: str) -> None:
    from tasks.store import dispose_engines, get_engine

    get_engine(url)
    dispose_engines()


def _ingest(path_kind: str, url: str, path: str, lake_dir: str) -> dict[str, Any]:
    """One path, timed after an untimed warm-up: its seconds and rows stored."""
    from tasks.cost.normalise import normalise
    from tasks.cost.sources.focus_files import FocusFileSource, read_focus_batches
    from tasks.store import get_engine

    engine = get_engine(url, migrate=False)
    with engine.connect():  # connect before timing
        pass
    # Untimed warm-up: pyarrow compiles its compute wrappers on first use (~0.6 s).
    _first, sample = next(read_focus_batches(Path(path), path, batch_rows=1_000))
    normalise(sample, path)
    source = FocusFileSource("bench", path)
    if path_kind == "lake":
        return _lake(engine, source, lake_dir)
    return _postgres(engine, source)


def _lake(engine: Any, source: Any, lake_dir: str) -> dict[str, Any]:
    from tasks.cost.ingest import ingest_source
    from tasks.cost.lake import Lake

    lake = Lake.at(lake_dir)
    start = time.perf_counter()
    ingest_source(engine, source, *PERIOD, lake=lake)
    seconds = time.perf_counter() - start
    keys = lake.partitions()
    stored = lake.dataset(keys).count_rows()
    return {"seconds": seconds, "stored": stored, "files": len(lake.files(keys))}


def _postgres(engine: Any, source: Any) -> dict[str, Any]:
    from typing import cast

    from sqlalchemy import Table, text

    from tasks.cost.bulk import RowStream
    from tasks.cost.focus import STORE_SCHEMA
    from tasks.store.cost_models import CostLine

    table = cast(Table, CostLine.__table__)
    start = time.perf_counter()
    with (
        engine.begin() as conn,
        RowStream(conn, table, STORE_SCHEMA.names, {"source": "bench"}) as s,
    ):
        for chunk in source.fetch(*PERIOD):
            s.write(chunk.lines)
    seconds = time.perf_counter() - start
    with engine.connect() as conn:
        stored = int(conn.execute(text("SELECT count(*) FROM cost_lines")).scalar_one())
    return {"seconds": seconds, "stored": stored, "files": 0}
