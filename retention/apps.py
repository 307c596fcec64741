from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from voipxs.registry import register_demo_seeder, register_keeper

        from .keeper import retention_keeper, seed_retention

        register_keeper(retention_keeper)
        register_demo_seeder(30, "retention", seed_retention)
