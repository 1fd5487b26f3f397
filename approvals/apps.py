from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Expense approvals"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
