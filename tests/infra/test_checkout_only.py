"""Traceo installs as an editable checkout only: a wheel or an sdist build is refused in one line.

A wheel would install the generic top-level packages (flows, tasks, blocks, deployments, infra)
into site-packages; workers run from the checkout instead (infra/hatch_build.py). The editable
install itself is what every other test runs in, and what tests/infra/test_worker_roles.py
installs per role.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infra.worker_roles import ROOT

REFUSAL = "traceo-jobs builds no wheel or sdist"


@pytest.mark.parametrize("kind", ["--wheel", "--sdist"])
def test_a_distribution_build_is_refused_naming_the_editable_install(
    kind: str, tmp_path: Path
) -> None:
    uv = shutil.which("uv")
    assert uv is not None
    build = subprocess.run(
        [uv, "build", kind, "--out-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode != 0
    assert [line for line in build.stderr.splitlines() if line.startswith(REFUSAL)], build.stderr
    assert "pip install -e" in build.stderr
    assert not [*tmp_path.glob("*.whl"), *tmp_path.glob("*.tar.gz")]
