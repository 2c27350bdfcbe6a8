"""FOCUS files from disk and S3 (moto): formats, the real sample, and malformed input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tasks.cost.focus import CostDataError
from tasks.cost.sources.focus_files import FocusFileSource
from tasks.errors import ConfigurationError, NotFoundError
from tests.cost.helpers import SAMPLE, focus_row, sample_totals, write_csv, write_parquet

SEPTEMBER = (date(2024, 9, 1), date(2024, 10, 1))


def _fetch(source: FocusFileSource):
    chunks = list(source.fetch(*SEPTEMBER))
    return chunks, sum(c.lines.num_rows for c in chunks)


def test_the_real_sample_parses_with_totals_equal_to_a_direct_decimal_sum():
    chunks, rows = _fetch(FocusFileSource("sample", str(SAMPLE)))
    assert rows == 1000
    lines = chunks[0].lines
    expected = sample_totals()
    for provider, (count, total) in expected.items():
        mine = lines.filter(pc.equal(lines["provider_name"], provider))
        assert mine.num_rows == count
        assert pc.sum(mine["billed_cost"]).as_py() == total
    # the sample's NULL literal is null, its non-FOCUS Id column is kept aside
    assert lines["availability_zone"][0].as_py() is None
    for name in lines.column_names:
        if lines[name].type == pa.string():
            assert not pc.any(pc.equal(lines[name], "NULL")).as_py(), name
    assert '"Id"' in lines["extra"][0].as_py()


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "parquet"])
def test_each_file_format_yields_the_same_rows(tmp_path, kind):
    rows = [focus_row(day=d, BilledCost=f"{d}.25") for d in (1, 2, 3)]
    path = tmp_path / f"export.{kind}"
    if kind == "parquet":
        write_parquet(path, rows)
    else:
        write_csv(path, rows, gz=kind == "csv.gz")
    chunks, count = _fetch(FocusFileSource("files", str(path)))
    assert count == 3
    assert pc.sum(chunks[0].lines["billed_cost"]).as_py() == Decimal("6.75")
    assert chunks[0].origin == str(path)


def test_a_directory_or_glob_reads_every_focus_file_in_order(tmp_path):
    write_csv(tmp_path / "b.csv", [focus_row(day=2)])
    write_parquet(tmp_path / "a.parquet", [focus_row(day=1)])
    (tmp_path / "notes.txt").write_text("not cost")
    chunks, _ = _fetch(FocusFileSource("dir", str(tmp_path)))
    assert [c.origin for c in chunks] == [str(tmp_path / "a.parquet"), str(tmp_path / "b.csv")]
    chunks, _ = _fetch(FocusFileSource("glob", str(tmp_path / "*.csv")))
    assert [c.origin for c in chunks] == [str(tmp_path / "b.csv")]


def test_relative_locations_resolve_against_the_base_dir(tmp_path):
    write_csv(tmp_path / "x.csv", [focus_row()])
    _, count = _fetch(FocusFileSource("rel", "x.csv", base_dir=tmp_path))
    assert count == 1


def test_a_missing_location_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="no file or directory"):
        _fetch(FocusFileSource("none", str(tmp_path / "missing.csv")))


def test_a_row_with_the_wrong_number_of_fields_names_its_row(tmp_path):
    path = write_csv(tmp_path / "short.csv", [focus_row(), focus_row()])
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 3)[0]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CostDataError) as caught:
        _fetch(FocusFileSource("short", str(path)))
    issue = caught.value.issues[0]
    assert (issue.file, issue.row) == (str(path), 2)
    assert "fields" in issue.reason


def test_an_empty_or_header_only_file_still_gets_its_columns_checked(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CostDataError, match="empty file"):
        _fetch(FocusFileSource("e", str(empty)))
    header_only = tmp_path / "header.csv"
    header_only.write_text("BilledCost,ServiceName\n")
    with pytest.raises(CostDataError, match="mandatory FOCUS column missing"):
        _fetch(FocusFileSource("h", str(header_only)))


def test_a_corrupt_parquet_file_is_a_data_error(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(CostDataError, match=r"broken\.parquet: cannot read"):
        _fetch(FocusFileSource("p", str(path)))


def test_focus_files_in_s3_are_listed_and_read(aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="exports")
    s3.put_object(
        Bucket="exports", Key="focus/2024-09/part-1.csv.gz", Body=_gz(tmp_path, [focus_row(day=1)])
    )
    s3.put_object(
        Bucket="exports",
        Key="focus/2024-09/part-2.parquet",
        Body=write_parquet(
            tmp_path / "p.parquet", [focus_row(day=2), focus_row(day=3)]
        ).read_bytes(),
    )
    s3.put_object(Bucket="exports", Key="focus/manifest.json", Body=b"{}")
    source = FocusFileSource("s3", "s3://exports/focus/", s3_client=lambda: aws.client("s3"))
    chunks, count = _fetch(source)
    assert count == 3
    assert [c.origin for c in chunks] == [
        "s3://exports/focus/2024-09/part-1.csv.gz",
        "s3://exports/focus/2024-09/part-2.parquet",
    ]


def test_a_missing_bucket_is_a_configuration_error(aws):
    source = FocusFileSource("s3", "s3://no-such-bucket/x/", s3_client=lambda: aws.client("s3"))
    with pytest.raises(ConfigurationError, match="cannot list s3://no-such-bucket/x/"):
        _fetch(source)


def test_an_empty_prefix_is_not_found(aws):
    aws.client("s3").create_bucket(Bucket="empty")
    source = FocusFileSource("s3", "s3://empty/focus/", s3_client=lambda: aws.client("s3"))
    with pytest.raises(NotFoundError, match="no FOCUS files under s3://empty/focus/"):
        _fetch(source)


def _gz(tmp_path, rows) -> bytes:
    return write_csv(tmp_path / "part.csv.gz", rows, gz=True).read_bytes()
