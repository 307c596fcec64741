from django.apps import AppConfig


class VoipxsConfig(AppConfig):
    name = "voipxs"
    verbose_name = "Privacy kernel"
