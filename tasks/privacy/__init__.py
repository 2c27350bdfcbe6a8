"""Data-subject requests (GDPR / CCPA): intake, fulfilment across datastores, audit.

Intake (requests arrive, are stored, tickets are updated):

- :mod:`tasks.privacy.requests`: request types, validation, legal due dates, create /
  de-duplicate / load / status changes of :class:`~tasks.store.privacy_models.DsrRequest`.
- :mod:`tasks.privacy.tickets`: progress and outcome back to Jira, ServiceNow or Zendesk.

Fulfilment (the ``data-subject-request`` flow and its scheduled jobs):

- :mod:`tasks.privacy.datamap`: the YAML data map (datastores, collections, identity fields,
  references, data categories, erasure strategy per field) and its validation.
- :mod:`tasks.privacy.datastores`: connections and per-store operations (SQL, Redis, S3).
- :mod:`tasks.privacy.plan`: graph traversal from the identities to every record to touch.
- :mod:`tasks.privacy.execute`: export, erase, correct and opt out, per datastore.
- :mod:`tasks.privacy.verify`: querying again to prove the outcome.
- :mod:`tasks.privacy.package`: access bundles (JSON / CSV, checksummed, time-limited link).
- :mod:`tasks.privacy.audit`: the hash-chained audit log and its verification.
- :mod:`tasks.privacy.retention`: deleting data older than its region's retention.
- :mod:`tasks.privacy.deadlines`: alerts on requests close to or past their due date.
- :mod:`tasks.privacy.config`: fulfilment settings (``TRACEO_DSR_*``) and signing keys.
- :mod:`tasks.privacy.progress`: per (request, step, datastore) progress a rerun resumes from.
- :mod:`tasks.privacy.fulfil`: the fulfilment steps as plain functions.
- :mod:`tasks.privacy.tasks`: the Prefect tasks wrapping those steps (ids and counts only).

Personal data lives only in the store's ``dsr_requests`` row; Prefect parameters, logs,
artifacts, exception messages and ticket comments carry the request id only.
"""
