"""Structured logs: a request id per web request, and JSON lines when LOG_FORMAT=json.

Every log record gets `request_id` (web: from `RequestIdMiddleware`),
`workflow_id` (inside an activity: from `activity.info()`) and `trace_id` (the
current OpenTelemetry span, when tracing is on), whatever the format; the JSON
formatter writes them as fields, one object per line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _workflow_id() -> str:
    try:
        from temporalio import activity

        return activity.info().workflow_id if activity.in_activity() else ""
    except Exception:
        return ""


def _in_workflow_sandbox() -> bool:
    # Workflow code logs too (workflow.logger): inside the sandbox no import may
    # run (opentelemetry reads os.environ at import), and no trace context exists.
    try:
        from temporalio import workflow

        return workflow.unsafe.in_sandbox()
    except Exception:
        return False


def _trace_id() -> str:
    if _in_workflow_sandbox():
        return ""
    try:
        from opentelemetry import trace
    except ImportError:
        return ""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


class ContextFilter(logging.Filter):
    """Adds request_id, workflow_id and trace_id to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        if not getattr(record, "workflow_id", ""):
            record.workflow_id = _workflow_id()
        if not getattr(record, "trace_id", ""):
            record.trace_id = _trace_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "workflow_id", "trace_id"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdMiddleware:
    """A request id for each web request: the proxy's `X-Request-ID` if sane, else new.

    Set for the request's logs and echoed in the response's `X-Request-ID`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


def logging_config(*, log_format: str, level: str) -> dict:
    """Django's LOGGING: plain text by default, JSON lines with LOG_FORMAT=json."""
    handler = {
        "class": "logging.StreamHandler",
        "filters": ["context"],
    }
    if log_format == "json":
        handler["formatter"] = "json"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "core.observability.ContextFilter"}},
        "formatters": {"json": {"()": "core.observability.JsonFormatter"}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.channels.server": {"level": "WARNING"}},
    }
