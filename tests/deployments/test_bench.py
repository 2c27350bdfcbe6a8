from __future__ import annotations

import json

from click.testing import CliRunner

from deployments.bench import Measurement, format_table, write_json
from deployments.cli import main

SAMPLE = [
    Measurement("probe_throughput", 1500.0, 30.0, "checks/s", 50.0, ">=500 checks/s", True, "n"),
    Measurement("slo_evaluation", 4.0, 10.0, "s", 2.5, "< 3 s", False),
]


def test_json_has_exactly_the_documented_keys(tmp_path):
    path = tmp_path / "bench.json"
    write_json(SAMPLE, path)
    data = json.loads(path.read_text())
    assert [set(d) for d in data] == [
        {"workload", "ours", "reference", "unit", "ratio", "target", "met"}
    ] * 2
    assert data[1]["met"] is False


def test_table_shows_ours_reference_ratio_and_verdict():
    table = format_table(SAMPLE)
    assert "1,500.000" in table and "30.000" in table and "50.0x" in table
    assert table.splitlines()[3].rstrip().endswith("NO")
    assert "- probe_throughput: n" in table


def test_unknown_workload_is_rejected_by_name():
    result = CliRunner().invoke(main, ["bench", "--only", "probe_throughput,nope"])
    assert result.exit_code == 2
    assert "unknown workload(s) nope" in result.output
