"""FOCUS files survive hostile content: each is read and validated, or refused naming the file."""

from __future__ import annotations

import csv
import functools
import gzip
import io
import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.documents import raw_bytes
from tests.fuzz.targets import FOCUS, check_outcome

_CELLS = st.one_of(
    st.sampled_from(
        ["", "NULL", "-1", "1e400", "NaN", "inf", "0x10", "2024-02-30", "2024-13-01T00:00:00Z",
         "USD", "Token", "usd", "€", "Usage", "Purchase", "\x00", "a\u202eb", "9" * 100]
    ),
    st.text(max_size=20),
)  # fmt: skip


@functools.cache
def _tables() -> list[list[list[str]]]:
    """The header and first rows of each seed file."""
    tables = []
    for path in FOCUS.seeds:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            tables.append(list(itertools.islice(csv.reader(handle), 20)))
    return tables


@st.composite
def _mutated_csv(draw: st.DrawFn) -> str:
    rows = [list(row) for row in draw(st.sampled_from(_tables()))]
    for _ in range(draw(st.integers(1, 6))):
        row = draw(st.integers(0, len(rows) - 1))
        action = draw(st.sampled_from(["cell", "drop-column", "short-row", "duplicate"]))
        if action == "cell":
            cell = draw(st.integers(0, len(rows[row])))
            rows[row][cell : cell + 1] = [draw(_CELLS)]  # past the end: one more field
        elif action == "drop-column":
            column = draw(st.integers(0, max(len(rows[0]) - 1, 0)))
            rows = [r[:column] + r[column + 1 :] for r in rows]
        elif action == "short-row":
            rows[row] = rows[row][: draw(st.integers(0, len(rows[row])))]
        else:
            rows.insert(row, list(rows[row]))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


@given(text=_mutated_csv(), compressed=st.booleans())
def test_mutated_spec_examples_load_or_name_the_file(text: str, compressed: bool, tmp_path) -> None:
    data = text.encode("utf-8")
    path = tmp_path / ("fuzzed.csv.gz" if compressed else "fuzzed.csv")
    path.write_bytes(gzip.compress(data) if compressed else data)
    check_outcome(FOCUS.load, path)


@given(content=raw_bytes(), suffix=st.sampled_from([".csv", ".csv.gz", ".parquet"]))
def test_raw_bytes_load_or_name_the_file(content: bytes, suffix: str, tmp_path: Any) -> None:
    path = tmp_path / f"fuzzed{suffix}"
    path.write_bytes(content)
    check_outcome(FOCUS.load, path)
