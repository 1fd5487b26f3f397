"""System checks: a malformed payload key stops `check` (and the Docker entrypoint)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def payload_keys_parse(app_configs=None, **kwargs):
    from .temporal.codec import configured_keys

    try:
        configured_keys()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="approvals.E001", obj="TEMPORAL_PAYLOAD_KEYS")]
    if not settings.DEBUG and settings.TEMPORAL_PAYLOAD_KEYS.startswith("dev:"):
        return [
            checks.Warning(
                "TEMPORAL_PAYLOAD_KEYS uses the id 'dev' in production.",
                id="approvals.W001",
                obj="TEMPORAL_PAYLOAD_KEYS",
            )
        ]
    return []
