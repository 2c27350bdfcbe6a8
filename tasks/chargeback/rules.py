"""Selectors (which cost lines a rule or shared policy covers) and their vectorised matching.

A :class:`Selector` ANDs its criteria and ORs the values within one criterion: ``services: [A, B]``
with ``tags: {environment: prod}`` matches prod lines of A or B. ``tags`` values are globs
(``"*"``: key present with any value, ``"*Data"``); ``missing_tags`` matches lines without the
key (untagged cost);
``resource_ids`` are shell globs (``*``, ``?``).

Matching runs on *combinations* (:func:`destinations`): the allocator first groups the lines by
the selector columns (in Arrow, C++), so each rule is evaluated once per distinct value through a
lookup table, never once per line. Resource-id globs are the exception: they run per line as one
vectorised regex each and travel into the grouping as a bit signature.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "KEY_COLUMNS",
    "MAX_GLOBS",
    "Selector",
    "destinations",
    "glob_regex",
    "glob_signature",
    "used_columns",
]

# Store columns a selector can look at, besides the resource-id signature.
KEY_COLUMNS = ("tags", "service_name", "service_category", "sub_account_id", "charge_category")
MAX_GLOBS = 62
_CRITERIA = {
    "services": "service_name",
    "service_categories": "service_category",
    "sub_accounts": "sub_account_id",
    "charge_categories": "charge_category",
}


class Selector(BaseModel):
    """Which cost lines match: every given criterion must hold (an empty selector is refused)."""

    model_config = ConfigDict(extra="forbid")

    tags: dict[str, str] = Field(default_factory=dict)
    missing_tags: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    service_categories: list[str] = Field(default_factory=list)
    sub_accounts: list[str] = Field(default_factory=list)
    charge_categories: list[str] = Field(default_factory=list)
    resource_ids: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Selector:
        if not any(getattr(self, name) for name in Selector.model_fields):
            raise ValueError(
                "a selector needs at least one of: " + ", ".join(Selector.model_fields)
            )
        return self


def glob_regex(glob: str) -> str:
    """An anchored RE2 regex for a shell glob (``*`` any run, ``?`` one character)."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob]
    return "^" + "".join(parts) + "$"


def glob_signature(resource_ids: pa.Array | pa.ChunkedArray, globs: Sequence[str]) -> np.ndarray:
    """Per line, a bit mask of the ``globs`` its resource id matches (bit i = ``globs[i]``)."""
    signature = np.zeros(len(resource_ids), dtype=np.int64)
    for bit, glob in enumerate(globs):
        hit = pc.fill_null(pc.match_substring_regex(resource_ids, glob_regex(glob)), False)
        signature |= np.asarray(hit, dtype=bool).astype(np.int64) << bit
    return signature


def destinations(
    combos: pa.Table, selectors: Sequence[Selector], globs: Sequence[str]
) -> np.ndarray:
    """For each row of ``combos``, the index of the first matching selector, or -1.

    ``combos`` has the :func:`used_columns` (dictionary-encoded or plain) and ``signature``.
    """
    n = combos.num_rows
    codes = {name: _codes(combos.column(name)) for name in used_columns(selectors)}
    parsed_tags = [_parse_tags(v) for v in codes["tags"][1]] if "tags" in codes else []
    tag_values: dict[str, np.ndarray] = {}
    signature = np.asarray(combos.column("signature"), dtype=np.int64)
    bits = {glob: 1 << i for i, glob in enumerate(globs)}
    result = np.full(n, -1, dtype=np.int64)
    open_rows = np.ones(n, dtype=bool)
    for index, sel in enumerate(selectors):
        mask = open_rows.copy()
        for criterion, column in _CRITERIA.items():
            wanted = set(getattr(sel, criterion))
            if wanted:
                idx, values = codes[column]
                mask &= _lookup([v in wanted for v in values])[idx]
        if sel.tags or sel.missing_tags:
            idx, _ = codes["tags"]
            lut = np.ones(len(parsed_tags) + 1, dtype=bool)
            for key, pattern in sel.tags.items():
                lut &= _tag_lookup(tag_values, key, pattern, parsed_tags)
            for key in sel.missing_tags:
                lut &= _tag_lookup(tag_values, key, None, parsed_tags)
            mask &= lut[idx]
        if sel.resource_ids:
            wanted_bits = sum(bits[g] for g in set(sel.resource_ids))
            mask &= (signature & wanted_bits) != 0
        result[mask] = index
        open_rows &= ~mask
    return result


def used_columns(selectors: Sequence[Selector]) -> list[str]:
    """The :data:`KEY_COLUMNS` some selector looks at (the others need not be grouped by)."""
    used = {column for sel in selectors for crit, column in _CRITERIA.items() if getattr(sel, crit)}
    if any(sel.tags or sel.missing_tags for sel in selectors):
        used.add("tags")
    return [c for c in KEY_COLUMNS if c in used]


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[Any]]:
    """Dictionary indices (null -> -1, which the lookup maps to its last slot) and values."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    indices = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False)
    return indices.astype(np.int64), array.dictionary.to_pylist()


def _lookup(flags: list[bool], null: bool = False) -> np.ndarray:
    return np.array([*flags, null], dtype=bool)  # index -1 (a null value) reads the last slot


def _parse_tags(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _tag_lookup(
    cache: dict[str, np.ndarray], key: str, pattern: str | None, parsed: list[dict[str, Any]]
) -> np.ndarray:
    """Per tags-dictionary slot (+ the null slot): does ``key`` match ``pattern``?

    ``pattern`` None means "the key is missing or empty"; ``"*"`` any value; else a glob.
    """
    if key not in cache:
        texts = [_tag_text(t.get(key)) for t in parsed]
        cache[key] = np.array([*texts, None], dtype=object)
    values = cache[key]
    present = np.asarray(values != None, dtype=bool)  # noqa: E711 - element-wise comparison
    if pattern is None:
        return ~present
    if pattern == "*":
        return present
    if not any(c in pattern for c in "*?["):
        return np.asarray(values == pattern, dtype=bool)
    return np.array([v is not None and fnmatchcase(v, pattern) for v in values], dtype=bool)


def _tag_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
