"""The differential corpus: every data set decided as Evidently decides it, given the same kinds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from infra.sandbox.drift_corpus import drift_cases
from tasks.ml.drift import detect_drift

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CASES = drift_cases()


def test_the_corpus_covers_the_hard_columns() -> None:
    assert len(CASES) >= 14
    dtypes = {str(case.reference[c].dtype) for case in CASES for c in case.reference.columns}
    assert {"uint32", "uint8", "Int64", "boolean", "bool", "object", "float32"} <= dtypes
    assert any(d.startswith("datetime64") for d in dtypes)
    kinds = {k for case in CASES for k in case.kinds.values()}
    assert kinds == {"numeric", "categorical", "text", "datetime"}
    assert any(len(case.reference) < 1_000 for case in CASES)
    assert any(np.isinf(case.reference.select_dtypes("float")).any().any() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_data_set_is_decided_as_evidently_decides_it(case) -> None:
    from deployments.bench.drift_parity import compare_case

    parity = compare_case(case)

    assert parity.differences == []
    assert parity.ours.judged_columns == parity.theirs.judged_columns
    for mine, theirs in zip(parity.ours.columns, parity.theirs.columns, strict=True):
        assert mine.score == pytest.approx(theirs.score, rel=1e-6, abs=1e-9), mine.column


def test_unsigned_integers_do_not_wrap_around() -> None:
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 4_000_000_000, 50_000, dtype=np.uint32)
    current = rng.integers(0, 4_000_000_000, 40_000, dtype=np.uint32)
    expected = wasserstein_distance(reference, current) / reference.astype(float).std()

    result = detect_drift(pd.DataFrame({"u": reference}), pd.DataFrame({"u": current}))

    assert result.column("u").method == "wasserstein"
    assert result.column("u").score == pytest.approx(expected, rel=1e-9)
    assert not result.dataset_drift  # it was 3.48 (drifted) when unsigned differences wrapped
