from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from . import sections  # noqa: F401  registers the personal-data sections and demo seeder
        from .dsr import sections as dsr_sections  # noqa: F401  requests section, export-file purger, DSR demo data
        from . import ops_status  # noqa: F401  what is late (CIOT sync, mail owed) for the staff warnings (voipxs.ops)
