from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payouts"
    verbose_name = "Payouts"

    def ready(self) -> None:
        from approvals import ports

        from . import holds  # noqa: F401 - connects the bank-change receivers
        from .extension import EXTENSION

        ports.register(EXTENSION)  # payouts builds on approvals through its ports
