from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Expense approvals"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers the checks, connects receivers)
