"""Benchmark ``chargeback_allocation``: allocate a month of cost lines to 200 teams, in memory.

Ours: :func:`~tasks.chargeback.allocate` (Arrow grouping on the selector columns, rules evaluated
once per distinct combination, exact ``decimal128`` sums, largest-remainder cents, reconciliation)
over :class:`~tasks.chargeback.CostColumns`. Reference: a straightforward pandas version over a
DataFrame whose cost column holds ``Decimal`` objects: one boolean mask per selector over all
lines (first match wins), ``groupby(["dest", "service_name"]).sum()`` of the Decimals, then the
same rounding/pricing step (:func:`~tasks.chargeback.allocate.build_allocation`) so that cents can
be compared team by team. Building the inputs (Arrow table, DataFrame) is not timed for either.
"""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any, Literal, cast

import numpy as np

from deployments.bench import Measurement
from deployments.bench.child import in_child

__all__ = ["SERVICES", "generate_lines", "load_lines", "make_config", "reference_allocate", "run"]

FULL_LINES = 1_000_000
QUICK_LINES = 100_000
TEAMS = 200
PERIOD = "2024-09"
_TARGET = "< 3 s in memory and >= 5x pandas, identical cents"
_PG_TARGET = "whole run from PostgreSQL < 30 s, peak < 2 GB"
SERVICES = (
    ("Amazon Elastic Compute Cloud", "Compute"),
    ("Amazon Simple Storage Service", "Storage"),
    ("Amazon Relational Database Service", "Databases"),
    ("AWS Lambda", "Compute"),
    ("Amazon CloudFront", "Networking"),
    ("Amazon Virtual Private Cloud", "Networking"),
    ("AWS Support (Business)", "Other"),
    ("Amazon DynamoDB", "Databases"),
)


def make_config() -> Any:
    """200 teams owned by ``business_unit`` tag, a glob rule, a sub-account rule, 3 shared pools."""
    from tasks.chargeback.config import ChargebackConfig, OwnershipRule, SharedPolicy, Team
    from tasks.chargeback.ratecard import RateCard
    from tasks.chargeback.rules import Selector

    tiers: tuple[Literal["showback", "soft", "hard"], ...] = ("showback", "soft", "hard")
    teams = tuple(Team(name=f"team-{i:03d}", tier=tiers[i % 3]) for i in range(TEAMS))
    rules = [
        OwnershipRule(team="team-000", resource_ids=["arn:aws:ec2:*:i-000001*"]),
        OwnershipRule(team="team-001", sub_accounts=["000000000039"]),
        *(
            OwnershipRule(team=f"team-{i:03d}", tags={"business_unit": f"bu-{i:03d}"})
            for i in range(TEAMS)
        ),
    ]
    shared = (
        SharedPolicy(name="tax", match=Selector(charge_categories=["Tax"]), split="proportional"),
        SharedPolicy(
            name="untagged-networking",
            match=Selector(service_categories=["Networking"], missing_tags=["business_unit"]),
            split="even",
        ),
        SharedPolicy(
            name="support",
            match=Selector(services=["AWS Support (Business)"]),
            split="weights",
            teams=["team-000", "team-001", "team-002"],
            weights={
                "team-000": Decimal("0.5"),
                "team-001": Decimal("0.3"),
                "team-002": Decimal("0.2"),
            },
        ),
    )
    ratecard = RateCard.model_validate(
        {"currency": "USD", "metrics": {"metrics_ingested": {"unit": "metric", "price": "0"}}}
    )
    return ChargebackConfig(teams, tuple(rules), shared, None, ratecard)


def generate_lines(rows: int, seed: int = 20240901) -> Any:
    """``rows`` deterministic cost lines of September 2024 as :class:`CostColumns`."""
    import pyarrow as pa

    from tasks.chargeback.source import SCHEMA, CostColumns
    from tasks.cost.focus import DECIMAL

    rng = np.random.default_rng(seed)
    # 220 business units (20 without a team -> unallocated), two environments, 5% untagged
    tag_values = [
        json.dumps({"business_unit": f"bu-{i % 220:03d}", "environment": ("prod", "dev")[i % 2]})
        for i in range(440)
    ]
    tag_index = rng.integers(0, len(tag_values), rows)
    tags = pa.array(np.array(tag_values, dtype=object)[tag_index], pa.string())
    tags = pa.array(np.where(rng.random(rows) < 0.05, None, tags.to_numpy(zero_copy_only=False)))
    service = rng.integers(0, len(SERVICES), rows)
    category = rng.choice(
        np.array(["Usage", "Tax", "Credit"], dtype=object), rows, p=[0.97, 0.02, 0.01]
    )
    unscaled = rng.integers(0, 10**13, rows)  # up to 10.000000000000, 12 decimals
    unscaled = np.where(category == "Credit", -unscaled // 10, unscaled)

    def money(values: np.ndarray) -> pa.Array:
        raw = np.zeros((rows, 2), dtype=np.int64)
        raw[:, 0] = values
        raw[:, 1] = np.where(values < 0, -1, 0)  # two's complement high word
        return pa.Array.from_buffers(DECIMAL, rows, [None, pa.py_buffer(raw)])

    hours = rng.integers(0, 30 * 24, rows).astype("timedelta64[h]")
    table = pa.table(
        {
            "billed_cost": money(unscaled),
            "effective_cost": money(unscaled * 9 // 10),
            "charge_period_start": pa.array(
                np.datetime64("2024-09-01T00:00:00", "us") + hours,
                SCHEMA.field("charge_period_start").type,
            ),
            "billing_currency": pa.array(np.full(rows, "USD", dtype=object), pa.string()),
            "charge_category": pa.array(category, pa.string()),
            "service_name": pa.array(np.array([s[0] for s in SERVICES], dtype=object)[service]),
            "service_category": pa.array(np.array([s[1] for s in SERVICES], dtype=object)[service]),
            "sub_account_id": pa.array(
                np.array([f"{i:012d}" for i in range(40)], dtype=object)[rng.integers(0, 40, rows)]
            ),
            "resource_id": pa.array(
                [f"arn:aws:ec2:us-east-1:i-{i % 50_000:08d}" for i in range(rows)]
            ),
            "tags": tags,
        }
    )
    return CostColumns(table.select(SCHEMA.names).cast(SCHEMA))


def reference_allocate(df: Any, config: Any) -> Any:
    """The pandas reference: a mask per selector, first match wins, Decimal groupby sums."""
    import pandas as pd

    from tasks.chargeback.allocate import GroupedCosts, build_allocation
    from tasks.chargeback.rules import glob_regex

    parsed = df["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else {})
    tag_value: dict[str, pd.Series] = {}

    def tag(key: str) -> pd.Series:
        if key not in tag_value:
            tag_value[key] = parsed.map(lambda d: d.get(key))
        return tag_value[key]

    selectors = [p.match for p in config.shared] + list(config.rules)
    names = [p.name for p in config.shared] + [r.team for r in config.rules]
    dest = pd.Series(np.full(len(df), "", dtype=object), index=df.index)
    open_rows = pd.Series(True, index=df.index)
    columns = {
        "services": "service_name",
        "service_categories": "service_category",
        "sub_accounts": "sub_account_id",
        "charge_categories": "charge_category",
    }
    for sel, name in zip(selectors, names, strict=True):
        mask = open_rows.copy()
        for criterion, column in columns.items():
            if getattr(sel, criterion):
                mask &= df[column].isin(getattr(sel, criterion))
        for key, pattern in sel.tags.items():
            values = tag(key)
            if any(c in pattern for c in "*?["):
                mask &= values.map(lambda v, p=pattern: bool(v) and fnmatchcase(str(v), p))
            else:
                mask &= values == pattern
        for key in sel.missing_tags:
            mask &= tag(key).isna()
        if sel.resource_ids:
            regex = "|".join(glob_regex(g) for g in sel.resource_ids)
            mask &= df["resource_id"].str.contains(regex, regex=True, na=False)
        dest[mask] = name
        open_rows &= ~mask
    sums = df.assign(dest=dest).groupby(["dest", "service_name"], dropna=False)["cost"].sum()
    grouped = GroupedCosts(sum(df["cost"], Decimal(0)))
    pools = {p.name for p in config.shared}
    for (owner, service), amount in sums.items():
        service = None if pd.isna(service) else service
        if owner in pools:
            grouped.pools[owner] = grouped.pools.get(owner, Decimal(0)) + amount
        elif owner:
            grouped.direct[(owner, service)] = amount
        else:
            grouped.unowned[service] = amount
    return build_allocation(grouped, config, [], PERIOD)


def _cents(allocation: Any) -> dict[str, Decimal]:
    out = {team: s.total for team, s in allocation.statements.items()}
    out["(unallocated)"] = sum((ln.amount for ln in allocation.unallocated), Decimal(0))
    return out


def run(quick: bool) -> list[Measurement]:
    """Allocate ``FULL_LINES`` (quick: ``QUICK_LINES``) lines; time ours against pandas."""
    from tasks.chargeback import allocate
    from tasks.chargeback.allocate import METRICS

    rows = QUICK_LINES if quick else FULL_LINES
    config = make_config()
    columns = generate_lines(rows)
    allocate(generate_lines(1_000, seed=1), config, [], PERIOD)  # warm-up (imports, caches)
    started = time.perf_counter()
    ours = allocate(columns, config, [], PERIOD)
    ours.reconcile()
    ours_s = time.perf_counter() - started

    frame = columns.table.to_pandas()
    frame = frame.rename(columns={METRICS[config.metric]: "cost"})  # the metric ours charges
    started = time.perf_counter()
    reference = reference_allocate(frame, config)
    reference_s = time.perf_counter() - started

    mine, theirs = _cents(ours), _cents(reference)
    agree = mine == theirs
    differing = sum(1 for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    ratio = reference_s / ours_s if ours_s > 0 else float("inf")
    met = agree and ratio >= 5 and (quick or ours_s < 3)
    note = (
        f"{rows:,} cost lines, {TEAMS} teams ({len(config.rules)} rules incl. a resource-id glob "
        f"and a sub-account rule), 3 shared pools (proportional/even/weights), 20 business units "
        f"and 5% untagged lines unallocated; source total {ours.source_total:.2f} USD; cents per "
        f"team and unallocated {'IDENTICAL' if agree else f'DIFFER for {differing} keys'} "
        f"({len(mine)} keys); ours = allocate + reconcile from Arrow columns; reference = pandas "
        f"masks + Decimal groupby + the same rounding step; input building untimed. The "
        f"from-PostgreSQL part of the target (lines_from_store) is not measured here."
    )
    return [
        Measurement("chargeback_allocation", ours_s, reference_s, "s", ratio, _TARGET, met, note),
        run_from_postgres(quick),
    ]


# --- the whole run from PostgreSQL: lines_from_store + allocate + post_allocation -------------


def load_lines(conn: Any, columns: Any) -> int:
    """Insert generated :class:`CostColumns` into ``cost_lines`` (COPY on PostgreSQL)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from sqlalchemy import Table

    from tasks.cost.bulk import write_rows
    from tasks.store.cost_models import CostLine

    table = columns.table
    end = pc.add(table.column("charge_period_start"), pa.scalar(3_600_000_000, pa.duration("us")))
    table = table.append_column("charge_period_end", end)
    constants = {
        "source": "bench",
        "estimated": False,
        "billing_account_id": "111111111111",
        "provider_name": "AWS",
    }
    return write_rows(conn, cast(Table, CostLine.__table__), table, constants)


def run_from_postgres(quick: bool) -> Measurement:
    """Load the lines into a throw-away schema; time both whole runs in fresh child processes."""
    from deployments.bench.cost_ingest import POSTGRES_URL, _migrate, _port_open

    name = "chargeback_allocation_pg"
    if not _port_open("127.0.0.1", 5432):
        note = "skipped: PostgreSQL is not reachable on 127.0.0.1:5432 (nothing measured)"
        return Measurement(name, 0.0, 0.0, "s", 0.0, _PG_TARGET, False, note)
    from sqlalchemy import create_engine, text

    rows = QUICK_LINES if quick else FULL_LINES
    schema = f"traceo_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        _migrate(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            stored = load_lines(conn, generate_lines(rows))
        with engine.begin() as conn:
            conn.execute(text("ANALYZE cost_lines"))
        ours = in_child("chargeback_allocation_pg (ours)", _whole_run, url, "ours")
        with engine.begin() as conn:  # an empty ledger again, so the reference posts as much
            conn.execute(text("DELETE FROM ledger_entries"))
            conn.execute(text("DELETE FROM chargeback_runs"))
        reference = in_child("chargeback_allocation_pg (pandas)", _whole_run, url, "pandas")
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    ours_s, ours_mb = ours["seconds"], ours["peak_mb"]
    ref_s, ref_mb = reference["seconds"], reference["peak_mb"]
    agree = ours["checksum"] == reference["checksum"] and ours["totals"] == reference["totals"]
    ran = ours["lines"] == stored == rows and ours["status"] == "posted"
    ratio = ref_s / ours_s if ours_s > 0 else float("inf")
    met = ran and agree and (quick or (ours_s < 30 and ours_mb < 2048))
    note = (
        f"{rows:,} cost lines COPYed (tasks.cost.bulk.write_rows, untimed) into cost_lines of a "
        f"throw-away schema of 127.0.0.1:5432/test, same 200-team config and 3 shared pools as "
        f"above; ours = lines_from_store + allocate + reconcile + post_allocation "
        f"({ours['entries']:,} ledger entries, status {ours['status']}) in a fresh child "
        f"process (read/allocate/post {ours['phases']} s): peak RSS {ours_mb:,.0f} MB "
        f"(getrusage ru_maxrss, interpreter and imports included); reference = the same whole "
        f"run but reading the lines with pandas.read_sql (same SELECT, coerce_float=False) -> "
        f"Arrow -> the same allocate + post_allocation path, on an emptied ledger, in its own "
        f"fresh child ({reference['phases']} s, peak RSS {ref_mb:,.0f} MB); ledger checksum "
        f"and statement totals {'IDENTICAL' if agree else 'DIFFER'}; imports and a 1,000-line "
        f"warm-up untimed in both"
    )
    return Measurement(name, ours_s, ref_s, "s", ratio, _PG_TARGET, met, note)


def _whole_run(url: str, mode: str) -> dict[str, Any]:
    """One whole run (read, allocate, reconcile, post) from the store at ``url``, timed."""
    from sqlalchemy import create_engine

    from tasks.chargeback import allocate, lines_from_store, period_bounds
    from tasks.chargeback.ledger import post_allocation

    config = make_config()
    engine = create_engine(url)
    with engine.connect():  # connect before timing
        pass
    allocate(generate_lines(1_000, seed=1), config, [], PERIOD)  # warm-up (imports, caches)
    if mode == "pandas":
        import pandas  # noqa: F401  (imported untimed, like ours)
    start, end = period_bounds(PERIOD)
    started = time.perf_counter()
    if mode == "ours":
        columns = lines_from_store(engine, start, end)
    else:
        columns = _read_sql_lines(engine, start, end)
    read = time.perf_counter()
    allocation = allocate(columns, config, [], PERIOD)
    allocation.reconcile()
    allocated = time.perf_counter()
    result = post_allocation(engine, allocation)
    seconds = time.perf_counter() - started
    phases = (read - started, allocated - read, started + seconds - allocated)
    engine.dispose()
    return {
        "seconds": seconds,
        "phases": "/".join(f"{p:.1f}" for p in phases),
        "lines": len(columns),
        "status": result.status,
        "entries": len(result.postings),
        "checksum": result.checksum,
        "totals": {k: str(v) for k, v in result.statement_totals.items()},
    }


def _read_sql_lines(engine: Any, start: Any, end: Any) -> Any:
    """The reference read: ``pandas.read_sql`` of the same columns, then Arrow for allocate."""
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy import Text, cast, select

    from tasks.chargeback.source import SCHEMA, CostColumns
    from tasks.store.cost_models import CostLine

    names = [f.name for f in SCHEMA if f.name != "tags"]
    query = select(
        *(getattr(CostLine, n) for n in names), cast(CostLine.tags, Text).label("tags")
    ).where(CostLine.charge_period_start >= start, CostLine.charge_period_start < end)
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn, coerce_float=False)  # keep Decimal, not float
    arrays = {
        f.name: pa.array(frame[f.name].astype(object).where(frame[f.name].notna(), None), f.type)
        if f.type != SCHEMA.field("charge_period_start").type
        else pa.Array.from_pandas(frame[f.name]).cast(f.type)
        for f in SCHEMA
    }
    return CostColumns(pa.table(arrays, schema=SCHEMA))
