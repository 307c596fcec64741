from django.apps import AppConfig


class VoipxsConfig(AppConfig):
    name = "voipxs"
    verbose_name = "Privacy kernel"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .statements import connection_prepare

        connection_created.connect(connection_prepare, dispatch_uid="voipxs.statements.connection_prepare")
