"""Build hook: Traceo installs only as an editable checkout, never as a wheel or an sdist.

Its top-level packages (``flows``, ``tasks``, ``blocks``, ``deployments``, ``infra``) are generic
names; a wheel would put them into an environment's site-packages, where they collide with
anything else of that name. Workers run from the repository checkout instead (their pull step
moves into ``TRACEO_REPO_DIR``), installed editable: ``uv sync`` or ``pip install -e '.[role]'``
(docs/operations.md). Any other build stops here with one line saying so.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

REFUSAL = (
    "traceo-jobs builds no wheel or sdist: its packages (flows, tasks, ...) would be installed "
    "as generic top-level names; install the checkout editable instead: uv sync, or "
    "pip install -e '.[probes]' (docs/operations.md)"
)


class CheckoutOnly(BuildHookInterface):
    """Allow the editable wheel (``uv sync``, ``pip install -e``); refuse every other build."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if not (self.target_name == "wheel" and version == "editable"):
            raise SystemExit(REFUSAL)
