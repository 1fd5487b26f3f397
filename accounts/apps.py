from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and org chart"

    def ready(self) -> None:
        from . import stepup  # noqa: F401  (a sign-in counts as a fresh confirmation)
