from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from voipxs.registry import register_demo_seeder, register_keeper, register_rotator

        from .keeper import retention_keeper, seed_retention
        from .rotation import held_cdr_rotate

        register_keeper(retention_keeper)  # erasure asks what must stay (invoices, open calls, holds)
        register_demo_seeder(30, "retention", seed_retention)
        register_rotator("retention.HeldCdr", held_cdr_rotate)  # held numbers live under the master keys
