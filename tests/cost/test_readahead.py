"""The source is read one chunk ahead on a thread: same items, same errors, nothing left running."""

from __future__ import annotations

import threading

import pytest

from tasks.cost.readahead import ReadAhead


def _alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "cost-read-ahead"]


def test_items_arrive_in_order():
    with ReadAhead(iter(range(50))) as ahead:
        assert list(ahead) == list(range(50))
    assert _alive() == []


def test_a_source_error_is_raised_after_the_items_before_it():
    def source():
        yield "a.csv"
        yield "b.csv"
        raise ValueError("c.csv is corrupt")

    seen = []
    with pytest.raises(ValueError, match=r"c\.csv is corrupt"), ReadAhead(source()) as ahead:
        seen.extend(ahead)
    assert seen == ["a.csv", "b.csv"]


def test_leaving_early_stops_the_source_after_the_item_in_hand():
    produced = []

    def source():
        for number in range(1000):
            produced.append(number)
            yield number

    with pytest.raises(RuntimeError), ReadAhead(source(), depth=1) as ahead:
        for _item in ahead:
            raise RuntimeError("the write failed")
    assert _alive() == []
    assert len(produced) <= 3  # the one consumed, one queued, one in hand
