"""Hypothesis strategies for hostile spec inputs: raw bytes, YAML-ish text, mutated real files.

Mutations start from a parsed seed document (a shipped example) and change one to a few nodes:
a value swapped for a hostile one (wrong type, empty, huge, control characters, deep nesting,
a shared subtree that YAML writes as an alias), a key renamed or dropped, a list item
duplicated. The result is written back as YAML or JSON, so most inputs still parse and reach
the models and cross-checks behind the parser, where a bare ``float()`` or ``dict.get`` waits.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import strategies as st

__all__ = ["document_text", "hostile_values", "mutated", "raw_bytes", "yaml_like_text"]

_TOKENS = (
    "{", "}", "[", "]", ": ", ":", "- ", ", ", "\n", "  ", "---\n", "...\n", "#", "'", '"',
    "&a ", "*a", "<<: *a", "!!str ", "!!int ", "!!float ", "!!binary ", "!!set ", "!!omap ",
    "!!python/object:os.system ", "%YAML 1.1\n", "? ", "|\n", ">-\n", "~", "null", "true",
    "1e999", "-.inf", ".nan", "0x1F", "0o17", "1_000", "9" * 80, "2024-02-30", "P1D", "30d",
    "checks", "apiVersion", "kind", "spec", "monitors", "sources", "teams", "datastores",
    "method", "provider", "\x00", "\u202e", "\ufeff",
)  # fmt: skip


def raw_bytes() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes: invalid UTF-8, NULs, BOMs."""
    return st.binary(max_size=2_000)


def yaml_like_text() -> st.SearchStrategy[str]:
    """Text built from YAML's own syntax and the specs' keys, so the parser gets far."""
    pieces = st.one_of(st.sampled_from(_TOKENS), st.text(max_size=8))
    return st.lists(pieces, max_size=60).map("".join)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def hostile_values() -> st.SearchStrategy[Any]:
    """Values that break parsers that trust a type: wrong kinds, extremes, odd text."""
    shared = ["a", "b", "c"]
    return st.one_of(
        st.sampled_from(
            [
                None, "", " ", 0, -1, 1.5, -0.0, True, False, [], {}, [None], {"": None},
                10**60, -(10**60), 1e308, float("inf"), float("nan"), "1e999", "nan", "-1",
                "x" * 10_000, "\x00", "a\u202eb", "${UNSET}", "{{ nope }}", "P1D", "30d",
                "2024-02-30", "0s", "-5m", "1" + "0" * 63, _nested(70), _nested(20),
                [shared] * 8, {"a": shared, "b": shared},
            ]
        ),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.lists(st.integers() | st.text(max_size=5), max_size=4),
        st.dictionaries(st.text(max_size=8), st.integers() | st.none(), max_size=3),
    )  # fmt: skip


@st.composite
def _mutate(draw: st.DrawFn, node: Any) -> Any:
    """One mutation somewhere in ``node``: at this node, or inside one of its children."""
    children = list(node) if isinstance(node, dict | list) else []
    if not children or draw(st.integers(0, 4)) == 0:
        if isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(children))
            copy = dict(node)
            action = draw(st.sampled_from(["drop", "rename", "add"]))
            if action == "drop":
                del copy[key]
            elif action == "rename":
                copy[draw(st.text(max_size=12) | st.integers())] = copy.pop(key)
            else:
                copy[draw(st.text(max_size=12))] = draw(hostile_values())
            return copy
        if isinstance(node, list) and node and draw(st.booleans()):
            index = draw(st.integers(0, len(node) - 1))
            return [*node[: index + 1], node[index], *node[index + 1 :]] * draw(st.integers(1, 3))
        return draw(hostile_values())
    child = draw(st.sampled_from(children))
    if isinstance(node, dict):
        return {**node, child: draw(_mutate(node[child]))}
    index = draw(st.integers(0, len(node) - 1))
    return [*node[:index], draw(_mutate(node[index])), *node[index + 1 :]]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Any]) -> Any:
    """A seed document with one to four mutations."""
    document = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        document = draw(_mutate(document))
    return document


def document_text(document: Any, suffix: str) -> str:
    """``document`` written as the file type ``suffix`` names (JSON or YAML)."""
    if suffix == ".json":
        return json.dumps(document, default=str)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
