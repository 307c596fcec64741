"""The traffic app's registrations with the privacy kernel: its key rotator (month keys), its demo data,
its purger (call export files, traffic/purgers.py) and (in sections.py) what it holds about a person
for export and erasure."""
from __future__ import annotations

from django.apps import AppConfig

from voipxs.privacy.registry import register_demo_seeder, register_purger, register_rotator


class TrafficConfig(AppConfig):
    name = "traffic"
    verbose_name = "Traffic"

    def ready(self) -> None:
        # Models load only once the apps are ready, so the modules that use them are imported here.
        from . import purgers, sections  # noqa: F401  sections: calls and invoices for data-subject export and erasure
        from .demo import seed_calls, seed_sources
        from .keys import month_key_rewrap

        # Month data keys are wrapped by the master key: rotating the master re-wraps them.
        register_rotator("traffic.MonthKey", month_key_rewrap)
        register_demo_seeder(20, "traffic-sources", seed_sources)
        register_demo_seeder(25, "traffic-calls", seed_calls)
        register_purger(purgers.CALL_EXPORTS, purgers.call_exports_purge)  # call export files, a day after ready
        register_purger(purgers.CALL_SETUPS, purgers.call_setups_purge)  # click-to-call set-ups, after 30 days
