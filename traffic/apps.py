"""The traffic app's registrations with the privacy kernel: its key rotators (month keys, notes on kept calls),
its demo data, its purger (call export files, traffic/purgers.py) and (in sections.py) what it holds about a
person for export and erasure; and with accounts, the notes on a requester's calls on the DPO's page of a
rectification request (accounts.dsr.panels), and a customer's click-to-call set-ups on the support desk's card of
them (accounts.support.panels)."""
from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.dsr.panels import RequestPanel, register_request_panel
from accounts.support.panels import CustomerPanel, register_customer_panel
from voipxs.privacy.registry import register_demo_seeder, register_purger, register_rotator


class TrafficConfig(AppConfig):
    name = "traffic"
    verbose_name = _("Traffic")

    def ready(self) -> None:
        # Models load only once the apps are ready, so the modules that use them are imported here.
        from . import checks  # noqa: F401  system checks: stored tariffs that invoices must not repeat (LEGAL row 3)
        from . import purgers, sections  # noqa: F401  sections: calls and invoices for data-subject export and erasure
        from .annotations.sealing import cdr_annotation_rotate
        from .demo import seed_calls, seed_sources
        from .keys import month_key_rewrap
        from .views.annotations import rectification_panel
        from .views.call_setup import support_call_setups_panel

        # Month data keys are wrapped by the master key: rotating the master re-wraps them.
        register_rotator("traffic.MonthKey", month_key_rewrap)
        # Notes on calls kept in the hold table are sealed under the master key (traffic/annotations/sealing.py).
        register_rotator("traffic.CdrAnnotation", cdr_annotation_rotate)
        # The DPO's page of a rectification request shows the notes on the requester's calls, and adds one.
        register_request_panel(RequestPanel(name="call_notes", kinds=frozenset({"rectification"}),
                                            template="traffic/_dpo_call_notes.html", context=rectification_panel))
        # The support desk's card of a customer lists their recent click-to-call set-ups (masked, audited).
        register_customer_panel(CustomerPanel(name="call_setups", template="traffic/_support_call_setups.html",
                                              context=support_call_setups_panel))
        register_demo_seeder(20, "traffic-sources", seed_sources)
        register_demo_seeder(25, "traffic-calls", seed_calls)
        register_purger(purgers.CALL_EXPORTS, purgers.call_exports_purge)  # call export files, a day after ready
