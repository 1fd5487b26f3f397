"""OpenTelemetry tracing: browser request -> Django -> Temporal client -> workflow -> activities.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (then spans go out by OTLP/HTTP,
`OTEL_SERVICE_NAME` names the process, default "approvals"). When on:

- Django requests get server spans (opentelemetry-instrumentation-django, which
  handles ASGI too);
- every Temporal client of the process carries `TracingInterceptor`, so a start,
  an Update, a Signal or a query is a client span whose context travels in the
  Temporal headers; the worker (built from such a client) continues that trace
  in the workflow's handlers and in the activities.

`setup(exporter=...)` is for tests: an in-memory exporter, no OTLP.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)
_enabled = False


def enabled() -> bool:
    return _enabled


def interceptors() -> list:
    """The Temporal client interceptors for this process (empty when tracing is off)."""
    if not _enabled:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def setup(*, exporter=None, instrument_django: bool = True) -> bool:
    """Turn tracing on for this process (idempotent). True when it is on."""
    global _enabled
    if _enabled:
        return True
    if exporter is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "approvals")})
    )
    if exporter is None:
        # Reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT) itself.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if instrument_django:
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        DjangoInstrumentor().instrument(tracer_provider=provider)
    _enabled = True
    log.info("tracing on (%s)", "OTLP" if exporter is None else type(exporter).__name__)
    return True


def teardown() -> None:
    """Tests only: stop instrumenting Django and adding interceptors to new clients."""
    global _enabled
    if _enabled:
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        DjangoInstrumentor().uninstrument()
    _enabled = False
