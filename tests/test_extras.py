"""A missing extra is named in one line; the table of extras matches pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tasks.errors import PermanentError
from tasks.extras import (
    EXTRA_MODULES,
    MissingExtraError,
    install_hint,
    missing_extra_message,
    missing_modules,
    require_extras,
)

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_every_role_of_the_table_is_an_extra_and_all_installs_every_one() -> None:
    assert set(EXTRA_MODULES) == set(EXTRAS) - {"all"}
    [everything] = EXTRAS["all"]
    assert everything == f"traceo-jobs[{','.join(EXTRA_MODULES)}]"


def test_this_environment_has_every_extra() -> None:
    assert not any(missing_modules(extra) for extra in EXTRA_MODULES)
    require_extras(*EXTRA_MODULES)


def test_a_missing_module_fails_once_naming_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(EXTRA_MODULES, "drift", ("pandas", "no_such_module_here"))
    with pytest.raises(MissingExtraError) as caught:
        require_extras("probes", "drift")
    assert isinstance(caught.value, PermanentError)  # never retried
    assert str(caught.value) == (
        "no_such_module_here not installed: pip install 'traceo-jobs[drift]'"
    )
    assert "\n" not in str(caught.value)


def test_a_missing_parent_package_counts_as_missing(monkeypatch) -> None:
    monkeypatch.setitem(EXTRA_MODULES, "cost", ("no_such_package.billing_v1",))
    assert missing_modules("cost") == ["no_such_package.billing_v1"]


def test_an_import_error_names_every_extra_that_provides_the_module() -> None:
    line = missing_extra_message(ModuleNotFoundError("No module named 'boto3'", name="boto3"))
    extras = ("cost", "athena", "privacy", "s3")
    assert line == "boto3 not installed: " + " or ".join(install_hint(e) for e in extras)
    sub = ModuleNotFoundError("No module named 'feast.infra'", name="feast.infra")
    assert missing_extra_message(sub) == "feast not installed: pip install 'traceo-jobs[drift]'"


def test_an_import_error_of_no_extra_is_left_alone() -> None:
    assert missing_extra_message(ModuleNotFoundError("x", name="not_ours")) is None
