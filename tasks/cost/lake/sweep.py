"""Which files in a lake partition are strays: written by a version that never became current.

A crash between writing a version's files and switching the manifest leaves those files in the
partition; no manifest names them, so readers never see them, but they take space and any
engine that reads a partition's whole folder (an Athena table over the lake) would count them.
They are removed by the next successful replace of the partition and by ``traceo cost lake
vacuum``, but only once older than a safety age: a concurrent writer's files are also named by
no manifest until its switch, and they are young.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

import pyarrow.fs as pafs

from tasks.cost.lake.manifest import MANIFEST, Manifest

__all__ = ["STRAY_AGE", "is_lake_file", "strays"]

#: Files named by no manifest are left alone until this old (a writer's files, once closed, are
#: switched in within seconds; an hour leaves a wide margin).
STRAY_AGE = timedelta(hours=1)
# Only names the lake itself writes: a version's data files and a staged manifest.
_OWN = re.compile(rf"^(part-[0-9a-f]{{32}}-\d+\.parquet|{re.escape(MANIFEST)}\.[0-9a-f]{{32}})$")


def is_lake_file(name: str) -> bool:
    """Whether ``name`` is a file the lake writes beside the manifest (never the manifest)."""
    return _OWN.match(name) is not None


def strays(infos: Iterable[pafs.FileInfo], current: Manifest | None, cutoff: datetime) -> list[str]:
    """The paths among ``infos`` (one partition's listing) that ``current`` does not name, that
    the lake wrote, and that were last modified at or before ``cutoff``."""
    named = set(current.files) if current is not None else set()
    return sorted(
        info.path
        for info in infos
        if info.type == pafs.FileType.File
        and is_lake_file(info.base_name)
        and info.base_name not in named
        and info.mtime is not None
        and info.mtime <= cutoff
    )
