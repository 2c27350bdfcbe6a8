"""The sources file: the shipped example loads, and mistakes name the file, source and field."""

from __future__ import annotations

import pytest

from tasks.cost.sources import build_source, get_source_config, load_source_configs
from tasks.cost.sources.aws_cost_explorer import CostExplorerSource
from tasks.cost.sources.focus_files import FocusFileSource
from tasks.cost.sources.gcp_billing import GcpBillingSource
from tasks.errors import NotFoundError, SpecError


def test_the_shipped_sources_file_defines_the_three_example_sources():
    configs = load_source_configs()
    assert sorted(configs) == ["aws-ce", "focus-sample", "gcp-export"]
    assert isinstance(build_source(configs["aws-ce"]), CostExplorerSource)
    assert isinstance(build_source(configs["focus-sample"]), FocusFileSource)
    assert isinstance(build_source(configs["gcp-export"]), GcpBillingSource)


def test_traceo_cost_sources_points_at_another_file(tmp_path, monkeypatch):
    from tasks.settings import get_settings

    path = tmp_path / "mine.yaml"
    path.write_text("sources:\n  local:\n    type: focus_files\n    location: exports/\n")
    monkeypatch.setenv("TRACEO_COST_SOURCES", str(path))
    get_settings.cache_clear()
    config = get_source_config(load_source_configs(), "local")
    assert config.base_dir == tmp_path


def test_mistakes_are_reported_with_file_source_and_field(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  aws:\n    type: aws_cost_explorer\n    max_attempts: 0\n    secret_key: nope\n"
        "  files:\n    type: focus_files\n"
        "  Bad Name:\n    type: focus_files\n    location: x\n"
    )
    with pytest.raises(SpecError) as caught:
        load_source_configs(path)
    assert [(i.item, i.field, i.reason) for i in caught.value.issues] == [
        ("aws", "max_attempts", "Input should be greater than or equal to 1"),
        ("aws", "secret_key", "unknown field (not supported)"),
        ("files", "location", "Field required"),
        ("Bad Name", "name", "String should match pattern '^[a-z0-9][a-z0-9_-]{0,63}$'"),
    ]
    assert all(i.file == str(path) for i in caught.value.issues)


KINDS = (
    "x: type: must be one of aws_cost_explorer, aws_data_export, focus_files, "
    "gcp_billing, gcp_bigquery_export"
)


def test_an_unknown_type_or_source_name_is_refused(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  x:\n    type: azure\n")
    with pytest.raises(SpecError, match=KINDS):
        load_source_configs(path)
    with pytest.raises(NotFoundError, match=r"unknown cost source 'nope' \(defined: aws-ce, "):
        get_source_config(load_source_configs(), "nope")


def test_a_type_that_is_not_text_is_refused_like_an_unknown_one(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  x:\n    type: [focus_files]\n")
    with pytest.raises(SpecError, match=KINDS):
        load_source_configs(path)
