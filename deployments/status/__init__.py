"""The public status page: its spec for the sample shop and the read-only web app serving it.

- ``deployments/status/shop.yaml``: what the shop publishes (:mod:`tasks.status.spec`).
- :mod:`deployments.status.app`: the ASGI app behind ``traceo status serve``.
"""
