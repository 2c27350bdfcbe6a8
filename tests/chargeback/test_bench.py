from __future__ import annotations

from deployments.bench import WORKLOADS
from deployments.bench.chargeback_allocation import (
    _cents,
    generate_lines,
    make_config,
    reference_allocate,
)
from tasks.chargeback import allocate
from tasks.chargeback.allocate import METRICS


def test_ours_and_the_pandas_reference_agree_to_the_cent() -> None:
    config = make_config()
    columns = generate_lines(5_000, seed=3)
    ours = allocate(columns, config, [], "2024-09")
    assert config.metric == "EffectiveCost"  # amortised, like every default config
    frame = columns.table.to_pandas().rename(columns={METRICS[config.metric]: "cost"})
    reference = reference_allocate(frame, config)
    assert _cents(ours) == _cents(reference)
    assert ours.unallocated and len(ours.statements) == 200
    assert sum(_cents(ours).values()) == ours.cloud_total()


def test_the_workload_is_registered() -> None:
    assert WORKLOADS["chargeback_allocation"] == "deployments.bench.chargeback_allocation"
