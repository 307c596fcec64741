from django.apps import AppConfig


class TrafficConfig(AppConfig):
    name = "traffic"
    verbose_name = "Traffic"

    def ready(self) -> None:
        from voipxs.privacy.registry import register_demo_seeder, register_rotator

        from .keys import month_key_rewrap

        # Month data keys are wrapped by the master key: rotating the master re-wraps them.
        register_rotator("traffic.MonthKey", month_key_rewrap)

        from .demo import seed_sources

        register_demo_seeder(20, "traffic-sources", seed_sources)
        from .demo_portal import seed_calls

        register_demo_seeder(25, "traffic-calls", seed_calls)
        from . import sections  # noqa: F401  calls and invoices for data-subject export and erasure
