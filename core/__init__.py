"""Cross-cutting web plumbing, shared by every app and owned by none.

ASGI middleware in front of Django (`body_limit`, `admission`, `ws_origin`), Django
middleware (`middleware`: security headers; `observability`: request ids, JSON logs),
`tracing` (OpenTelemetry), `metrics` (the `/metrics` text, the worker's endpoint, the web
tier's metrics), `shared_state` (Redis between web processes), `text` (what a person types,
made safe), `language` (a raw ASGI scope's language).

`core` imports no app (`accounts`, `approvals`, `payouts`, `config`):
tests/config/test_layout.py keeps it so. Not a Django app: it registers nothing.
"""
