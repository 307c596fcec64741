from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoipxsConfig(AppConfig):
    name = "voipxs"
    verbose_name = _("Privacy kernel")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .statements import connection_prepare

        connection_created.connect(connection_prepare, dispatch_uid="voipxs.statements.connection_prepare")
