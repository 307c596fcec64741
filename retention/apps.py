"""The retention app's registrations with the privacy kernel: what it keeps for a person, what it
purges for other apps, its key rotator, its policies for the processing register, its demo data."""
from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.registry import (
    register_demo_seeder,
    register_keeper,
    register_purger,
    register_retention_source,
    register_rotator,
)


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        # Models load only once the apps are ready, so the modules that use them are imported here.
        from . import purgers
        # keyfile re-takes the key backup when a month key changes or an erasure is done
        from .backup import keyfile  # noqa: F401
        from .closed_accounts import closed_accounts_purge
        from .keeper import retention_keeper, seed_retention
        from .models import Category
        from .rotation import held_cdr_rotate
        from .selectors import retention_policy_register_list

        register_keeper(retention_keeper)  # erasure asks what must stay (invoices, open calls, holds)
        register_demo_seeder(30, "retention", seed_retention)
        register_rotator("retention.HeldCdr", held_cdr_rotate)  # held numbers live under the master keys
        register_retention_source(retention_policy_register_list)  # the processing register shows the policies
        register_purger(Category.AUDIT_LOG, purgers.audit_log_purge)  # the kernel trims, retention knows the period
        # accounts anonymises (accounts.services), retention decides when: it sees invoices, policies, holds
        register_purger(Category.CLOSED_ACCOUNT, closed_accounts_purge)
        register_purger(purgers.LOGIN_ATTEMPTS, purgers.login_attempts_purge)  # failed sign-ins: cdr_technical period
        register_purger(purgers.CALL_SETUPS, purgers.call_setups_purge)  # click-to-call set-ups: 30 days, holds kept
        register_purger(purgers.CDR_UPLOADS, purgers.cdr_uploads_purge)  # raw CDR files no import will read: the same
