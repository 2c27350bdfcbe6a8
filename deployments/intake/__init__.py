"""The intake service: signed webhooks from ticketing systems become data-subject requests.

- :mod:`deployments.intake.signing`: per-source signature schemes (verify and sign).
- :mod:`deployments.intake.payloads`: Jira / ServiceNow / Zendesk / generic bodies -> requests.
- :mod:`deployments.intake.allowlist`: deployments a signed request may run, with parameters.
- :mod:`deployments.intake.starter`: starting flow runs through the Prefect API (and later).
- :mod:`deployments.intake.app`: the FastAPI app served by ``traceo intake serve``.
"""

from deployments.intake.signing import sign_request, verify_request

__all__ = ["sign_request", "verify_request"]
