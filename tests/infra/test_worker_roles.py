"""Worker roles: each installs alone from uv.lock and runs its flows; the wiring names its image.

The fast tests check the wiring (pools, images, Dockerfile targets, extras). The slow ones build
each role's environment into a temporary directory (``uv sync --frozen --no-dev --extra ...``,
from uv's cache) and import the role's flows there with nothing else installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from deployments.regions import PREFECT_FILE
from infra.worker_roles import ROLES, ROOT, WorkerRole, environment_bytes, role_of_pool, sync_role
from tasks.extras import ROLE_MODULES

DEPLOYMENTS = yaml.safe_load(PREFECT_FILE.read_text())["deployments"]
DOCKERFILE = (ROOT / "infra" / "prefect" / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROBE_WORKER_LIMIT = 400 * 1024 * 1024  # issue 16: Playwright's package included, no browser


def _target_extras(target: str) -> set[str]:
    stage = re.search(rf"^FROM base AS {target}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, re.M | re.S)
    assert stage, f"infra/prefect/Dockerfile has no target {target}"
    [sync] = re.findall(r"uv sync [^\n]*(?:\\\n[^\n]*)*", stage.group(1))
    assert "--no-dev" in sync and "--frozen" in sync
    return set(re.findall(r"--extra (\w+)", sync))


def test_every_deployment_runs_in_the_image_of_its_pools_role() -> None:
    for deployment in DEPLOYMENTS:
        role = role_of_pool(deployment["work_pool"]["name"])
        assert deployment["work_pool"]["job_variables"]["image"] == role.image, deployment["name"]
        module = deployment["entrypoint"].split(":")[0].removesuffix(".py").replace("/", ".")
        assert module in role.flow_modules, (deployment["name"], role.name)


def test_every_role_has_a_pool_and_a_dockerfile_target_with_its_extras() -> None:
    pools = {d["work_pool"]["name"] for d in DEPLOYMENTS}
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    for role in ROLES:
        assert set(role.pools) <= pools, role.name
        assert set(role.extras) <= extras, role.name
        assert _target_extras(role.name) == set(role.extras), role.name


def test_demo_servers_and_test_tools_are_only_in_groups() -> None:
    core = " ".join(PYPROJECT["project"]["dependencies"])
    optional = " ".join(" ".join(d) for d in PYPROJECT["project"]["optional-dependencies"].values())
    for name in ("moto", "pytest", "hypothesis", "schemathesis"):
        assert name not in core and name not in optional, name
    assert any(str(d).startswith("moto") for d in PYPROJECT["dependency-groups"]["demo"])


def test_an_unknown_pool_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="no-such-pool"):
        role_of_pool("no-such-pool")


_CHECK_ROLE = """
import importlib, json, sys
from tasks.extras import ROLE_MODULES, missing_modules, require_extras
modules, extras = sys.argv[1].split(","), sys.argv[2].split(",") if sys.argv[2] else []
for module in modules:
    importlib.import_module(module)
require_extras(*extras)
print(json.dumps({extra: missing_modules(extra) for extra in ROLE_MODULES}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_each_role_installs_alone_and_imports_its_flows(role: WorkerRole, tmp_path: Path) -> None:
    python = sync_role(role.extras, tmp_path / role.name)
    out = subprocess.run(
        [python, "-c", _CHECK_ROLE, ",".join(role.flow_modules), ",".join(role.extras)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    missing = json.loads(out.stdout)
    assert not any(missing[extra] for extra in role.extras)
    # Nothing beyond the role: a library only other roles need is absent.
    own = {m for extra in role.extras for m in ROLE_MODULES[extra]}
    others = {m for extra, modules in ROLE_MODULES.items() for m in modules} - own
    absent = {m for extra in missing for m in missing[extra]}
    assert {"feast", "evidently", "chaoslib", "playwright"} & others <= absent
    if role.name == "probes":
        assert environment_bytes(tmp_path / role.name) < PROBE_WORKER_LIMIT


@pytest.mark.slow
def test_the_core_alone_names_the_missing_extra_in_one_line(tmp_path: Path) -> None:
    python = sync_role((), tmp_path / "core")
    hint = "not installed: pip install 'traceo-jobs[drift]'"
    flow = subprocess.run(
        [python, "-c", "import flows.drift"], cwd=tmp_path, capture_output=True, text=True
    )
    assert flow.returncode != 0 and flow.stderr.splitlines()[-1].endswith(hint), flow.stderr
    cli = subprocess.run(
        [python.parent / "traceo", "drift", "check"],
        cwd=tmp_path,
        env={**os.environ, "TRACEO_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2 and "Traceback" not in cli.stderr, cli.stderr
    [line] = cli.stderr.splitlines()
    assert line.endswith(hint)
