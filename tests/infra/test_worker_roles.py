"""Worker roles: each installs alone from uv.lock and runs its flows; the wiring names its image.

The fast tests check the wiring (pools, images, Dockerfile targets, extras). The slow ones build
each role's environment into a temporary directory (``uv sync --frozen --no-dev --extra ...``,
from uv's cache), import the role's flows there with nothing else installed, and run one of its
flows there against the test session's Prefect server (the drift role seeds two weeks of
generated payments and materialises them into Feast's online store).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from deployments.regions import PREFECT_FILE
from infra.worker_roles import ROLES, ROOT, WorkerRole, environment_bytes, role_of_pool, sync_role
from tasks.extras import EXTRA_MODULES

DEPLOYMENTS = yaml.safe_load(PREFECT_FILE.read_text())["deployments"]
DOCKERFILE = (ROOT / "infra" / "prefect" / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROBE_WORKER_LIMIT = 400 * 1024 * 1024  # issue 16: Playwright's package included, no browser


def _stage(target: str) -> str:
    stage = re.search(rf"^FROM base AS {target}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, re.M | re.S)
    assert stage, f"infra/prefect/Dockerfile has no target {target}"
    return stage.group(1)


def _target_extras(target: str) -> set[str]:
    [sync] = re.findall(r"uv sync [^\n]*(?:\\\n[^\n]*)*", _stage(target))
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


# One flow run per role that needs no outside service; the snippet prints RESULT and the result.
_SMOKE_CHECKS = """
import http.server, os, pathlib, threading
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_port}/"
checks = pathlib.Path(os.environ["TRACEO_CHECKS_PATH"])
checks.mkdir()
checks.joinpath("smoke.yaml").write_text(
    f"checks:\\n  - id: smoke\\n    service: smoke\\n    request: {{url: '{url}'}}\\n"
)
"""
SMOKE_RUNS = {
    "core": "from flows.store import enforce_store_retention as f; print('RESULT', f())",
    "probes": _SMOKE_CHECKS
    + "from flows.synthetic import synthetic_probes as f; print('RESULT', f(region='us-east-1'))",
    "cost": "from flows.cost import ingest_costs as f; print('RESULT', f(source='focus-sample'))",
    "privacy": "from flows.privacy import watch_deadlines as f; print('RESULT', f())",
    "chaos": "from flows.chaos import run_experiment as f; print('RESULT', f("
    f"'{ROOT / 'deployments/experiments/shop-latency-100ms.yaml'}', dry_run=True))",
    # Two weeks of generated payments written to the Feast source, then materialised online.
    "drift": "from click.testing import CliRunner\n"
    "from deployments.cli import main\n"
    "seeded = CliRunner().invoke(main, ['drift', 'seed', '--weeks', '2', '--rows-per-day', '20'])\n"
    "assert seeded.exit_code == 0, seeded.output\n"
    "from flows.drift import materialize_features as f; print('RESULT', f())",
}


_CHECK_ROLE = """
import importlib, json, sys
from tasks.extras import EXTRA_MODULES, missing_modules, require_extras
modules, extras = sys.argv[1].split(","), sys.argv[2].split(",") if sys.argv[2] else []
for module in modules:
    importlib.import_module(module)
require_extras(*extras)
print("MISSING", json.dumps({extra: missing_modules(extra) for extra in EXTRA_MODULES}))
"""


@pytest.fixture(scope="module")
def role_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """Where each role's environment is built, in turn, and the environment its processes get.

    Every role installs alone into the same (emptied) directory, so a module's source path is the
    same in each; with one bytecode cache outside the environment (``PYTHONPYCACHEPREFIX``) a
    role compiles only what earlier roles did not import (Prefect alone is ~1,000 modules), and
    the environment itself holds no bytecode. Bytecode is written even where the caller's shell
    sets PYTHONDONTWRITEBYTECODE.
    """
    root = tmp_path_factory.mktemp("roles")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    yield root / "env", env


def _sync_alone(role_env: tuple[Path, dict[str, str]], extras: tuple[str, ...]) -> Path:
    """A fresh environment with the core and ``extras`` only (the previous one is moved aside)."""
    dest, _ = role_env
    if dest.exists():  # a rename, not a delete: pytest prunes old temporary directories later
        dest.rename(dest.with_name(f"{dest.name}-{uuid.uuid4().hex[:8]}"))
    return sync_role(extras, dest)


def _check_role(
    python: Path, role: WorkerRole, tmp_path: Path, base_env: dict[str, str]
) -> tuple[dict, str | None]:
    """In the role's environment, one process: import its flows, then run one (if it has one).

    The flow runs against this test session's Prefect server (one server for every role: an
    ephemeral server per role cost ~15 s each).
    """
    from prefect.settings import PREFECT_API_URL

    env = {
        **base_env,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "TRACEO_HOME": str(tmp_path / "traceo"),
        "TRACEO_CHECKS_PATH": str(tmp_path / "checks"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    script = _CHECK_ROLE + SMOKE_RUNS.get(role.name, "")
    run = subprocess.run(
        [python, "-c", script, ",".join(role.flow_modules), ",".join(role.extras)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    [missing] = [json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("MISSING ")]
    results = [line for line in lines if line.startswith("RESULT ")]
    return missing, results[0] if results else None


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_each_role_installs_alone_and_runs_its_flows(
    role: WorkerRole,
    tmp_path: Path,
    role_env: tuple[Path, dict[str, str]],
    prefect_server: None,
) -> None:
    python = _sync_alone(role_env, role.extras)
    missing, result = _check_role(python, role, tmp_path, role_env[1])
    assert not any(missing[extra] for extra in role.extras)
    # Nothing beyond the role: a library only other roles need is absent.
    own = {m for extra in role.extras for m in EXTRA_MODULES[extra]}
    others = {m for extra, modules in EXTRA_MODULES.items() for m in modules} - own
    absent = {m for extra in missing for m in missing[extra]}
    assert {"feast", "evidently", "chaoslib", "playwright"} & others <= absent
    if role.name == "probes":
        assert environment_bytes(role_env[0]) < PROBE_WORKER_LIMIT
        assert result == "RESULT {'pass': 1, 'degraded': 0, 'fail': 0, 'error': 0}"
    assert (result is not None) == (role.name in SMOKE_RUNS)


def test_every_role_runs_a_flow_in_the_slow_test() -> None:
    assert set(SMOKE_RUNS) == {role.name for role in ROLES}


@pytest.mark.slow
def test_the_core_alone_names_the_missing_extra_in_one_line(
    tmp_path: Path, role_env: tuple[Path, dict[str, str]]
) -> None:
    python = _sync_alone(role_env, ())
    hint = "not installed: pip install 'traceo-jobs[drift]'"
    flow = subprocess.run(
        [python, "-c", "import flows.drift"],
        cwd=tmp_path,
        env=role_env[1],
        capture_output=True,
        text=True,
    )
    assert flow.returncode != 0 and flow.stderr.splitlines()[-1].endswith(hint), flow.stderr
    cli = subprocess.run(
        [python.parent / "traceo", "drift", "check"],
        cwd=tmp_path,
        env={**role_env[1], "TRACEO_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2 and "Traceback" not in cli.stderr, cli.stderr
    [line] = cli.stderr.splitlines()
    assert line.endswith(hint)


def test_every_image_quiets_its_logs_like_the_traceo_command() -> None:
    """Flow-run pods start `prefect flow-run execute`, not `traceo`: the image sets the config."""
    assert "PREFECT_LOGGING_SETTINGS_PATH=/app/prefect-logging.yml" in DOCKERFILE
    for role in ROLES:
        stage = re.search(
            rf"^FROM base AS {role.name}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, re.M | re.S
        )
        assert stage and "python -m tasks.console_logs /app\n" in stage.group(1), role.name


def test_the_logging_config_module_writes_the_file_the_image_names(tmp_path: Path) -> None:
    import yaml as pyyaml

    run = subprocess.run(
        [sys.executable, "-m", "tasks.console_logs", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    config = pyyaml.safe_load((tmp_path / "prefect-logging.yml").read_text())
    assert config["handlers"]["console"]["filters"] == ["traceo_outside_runs"]
