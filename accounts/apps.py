from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import sections  # noqa: F401  registers the personal-data sections and demo seeder
        from .dsr import sections as dsr_sections  # noqa: F401  requests section, export-file purger, DSR demo data
