"""Files a crashed writer leaves are swept; the manifest switch is a compare-and-swap."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from deployments.cli import main
from tasks.cost.lake import Lake, LakeConflictError, PartitionKey, to_lake
from tasks.cost.normalise import normalise
from tests.cost.helpers import focus_row

KEY = PartitionKey("AWS", "acct-1", "2024-09")

# A writer that dies (no cleanup at all) after its files are closed, before its switch.
_CRASH = """
import os, sys
import pyarrow as pa
from tasks.cost.lake import Lake, PartitionKey, to_lake
from tasks.cost.normalise import normalise
from tests.cost.helpers import focus_row

lake = Lake.at(sys.argv[1], sys.argv[2] or None)
Lake._switch = lambda *args: os._exit(3)
writer = lake.writer()
writer.write(PartitionKey("AWS", "acct-1", "2024-09"),
             to_lake(normalise(pa.Table.from_pylist([focus_row(day=9)]), "crash"), "s"))
writer.commit(keep=None)
"""


def _rows(*days: int) -> pa.Table:
    return to_lake(normalise(pa.Table.from_pylist([focus_row(day=d) for d in days]), "t"), "s")


def _replace(lake: Lake, *days: int) -> None:
    with lake.writer() as writer:
        writer.write(KEY, _rows(*days))
        writer.commit(keep=None)


def _crash_a_writer(url: str, endpoint: str = "") -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CRASH, url, endpoint], capture_output=True, check=False
    )
    assert done.returncode == 3, done.stderr.decode()[-2000:]


def _names(lake: Lake) -> set[str]:
    import pyarrow.fs as pafs

    selector = pafs.FileSelector(f"{lake.root}/{KEY.path}", allow_not_found=True)
    return {info.base_name for info in lake.fs.get_file_info(selector)}


def test_a_crashed_writers_files_go_with_the_next_replace_once_old_enough(traceo_home):
    lake = Lake.at(str(traceo_home / "lake"))
    _replace(lake, 1)
    _crash_a_writer(lake.root)
    stray = _names(lake) - {"_current.json", *lake.manifest(KEY).files}
    assert len(stray) == 1 and lake.read([KEY]).num_rows == 1  # never read
    _replace(lake, 2)
    assert stray <= _names(lake)  # young: maybe a writer in flight, kept
    hours_ago = time.time() - 2 * 3600
    (traceo_home / "lake" / KEY.path / "notes.txt").write_text("not the lake's")
    for name in [*stray, "notes.txt"]:
        os.utime(f"{lake.root}/{KEY.path}/{name}", (hours_ago, hours_ago))
    _replace(lake, 3)
    assert _names(lake) == {"_current.json", "notes.txt", *lake.manifest(KEY).files}
    assert lake.read([KEY])["ChargePeriodStart"].to_pylist()[0].day == 3


def test_vacuum_on_s3_removes_only_old_stray_files_and_reruns_remove_nothing(aws):
    aws.client("s3").create_bucket(Bucket="costs")
    lake = Lake.at("s3://costs/lake", aws.url)
    _replace(lake, 1)
    _crash_a_writer("s3://costs/lake", aws.url)
    current = {"_current.json", *lake.manifest(KEY).files}
    assert len(_names(lake) - current) == 1
    assert lake.vacuum() == []  # younger than the safety age
    removed = lake.vacuum(timedelta(0))
    assert len(removed) == 1 and removed[0].startswith(f"{KEY.path}/part-")
    assert _names(lake) == current
    assert lake.vacuum(timedelta(0)) == []
    assert lake.read([KEY]).num_rows == 1


def test_vacuum_command_sweeps_a_partition_that_never_got_a_manifest(traceo_home):
    lake = Lake.from_settings()
    _crash_a_writer(lake.root)
    assert lake.manifest(KEY) is None and len(_names(lake)) == 1
    result = CliRunner().invoke(main, ["cost", "lake", "vacuum", "--min-age", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "1 stray file(s) removed"
    assert _names(lake) == set()


class _SwitchesBetween:
    """An S3 client that lets another writer switch right after this one read the manifest."""

    def __init__(self, client: Any, meanwhile: Any) -> None:
        self._client = client
        self._meanwhile = meanwhile

    def get_object(self, **kwargs: Any) -> Any:
        try:
            return self._client.get_object(**kwargs)  # found, or NoSuchKey: no version yet
        finally:
            meanwhile, self._meanwhile = self._meanwhile, None
            if meanwhile is not None:
                meanwhile()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.parametrize("first_version", [True, False], ids=["first-version", "replace"])
def test_two_writers_switching_at_the_same_instant_on_s3_cannot_both_win(aws, first_version):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="costs")
    lake = Lake.at("s3://costs/lake", aws.url)
    if not first_version:
        _replace(lake, 1)
    other = lake.writer()
    other.touch(KEY)
    other.write(KEY, _rows(2, 3))

    def other_switches() -> None:
        other.commit(keep=None)

    # Same lake, but this writer's client lets `other` switch between its check and its write.
    racing = Lake(lake.fs, lake.root, lake.display, lambda: _SwitchesBetween(s3, other_switches))
    where = f"cost lake s3://costs/lake: {KEY} was replaced by another run meanwhile"
    with pytest.raises(LakeConflictError, match=where), racing.writer() as writer:
        writer.write(KEY, _rows(4))
        writer.commit(keep=None)
    assert sorted(r.day for r in lake.read([KEY])["ChargePeriodStart"].to_pylist()) == [2, 3]
    assert _names(lake) == {"_current.json", *lake.manifest(KEY).files}  # loser's files gone
