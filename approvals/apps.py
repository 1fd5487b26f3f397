from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Expense approvals"

    def ready(self) -> None:
        from core import tracing

        from . import checks, signals  # noqa: F401  (checks, receivers)

        tracing.setup()  # only when OTEL_EXPORTER_OTLP_ENDPOINT is set
