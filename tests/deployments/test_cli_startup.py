"""`traceo --help` stays fast because the CLI module imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("prefect", "numpy", "pandas", "sqlalchemy", "httpx", "playwright", "boto3", "pyarrow")


def test_cli_help_imports_no_heavy_package():
    code = (
        "import sys; from click.testing import CliRunner; from deployments.cli import main; "
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
