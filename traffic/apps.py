from django.apps import AppConfig


class TrafficConfig(AppConfig):
    name = "traffic"
    verbose_name = "Traffic"

    def ready(self) -> None:
        from voipxs.registry import register_demo_seeder

        from .demo import seed_sources

        register_demo_seeder(20, "traffic-sources", seed_sources)
        from .demo_portal import seed_calls

        register_demo_seeder(25, "traffic-calls", seed_calls)
        from . import sections  # noqa: F401  calls and invoices for data-subject export and erasure
