from __future__ import annotations

from datetime import datetime

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from voipxs.privacy.registry import (
            register_demo_seeder,
            register_keeper,
            register_purger,
            register_retention_source,
            register_rotator,
        )

        from .closed_accounts import LOGIN_ATTEMPTS, closed_accounts_purge, login_attempts_purge
        from .keeper import retention_keeper, seed_retention
        from .models import Category
        from .rotation import held_cdr_rotate

        register_keeper(retention_keeper)  # erasure asks what must stay (invoices, open calls, holds)
        register_demo_seeder(30, "retention", seed_retention)
        register_rotator("retention.HeldCdr", held_cdr_rotate)  # held numbers live under the master keys
        register_retention_source(_policies_for_register)  # the processing register shows the policies in force
        register_purger("audit_log", _audit_log_purge)  # the kernel trims, retention knows the period
        # accounts anonymises (accounts.services), retention decides when: it sees invoices, policies, holds
        register_purger(Category.CLOSED_ACCOUNT, closed_accounts_purge)
        register_purger(LOGIN_ATTEMPTS, login_attempts_purge)  # failed sign-ins: the cdr_technical period
        register_purger(CDR_UPLOADS, _cdr_uploads_purge)  # raw CDR files no import will read: the same


CDR_UPLOADS = "cdr_uploads"  # receipt category of stored CDR files of failed or stuck imports


def _policies_for_register() -> list[dict]:
    from .selectors import retention_policy_current_list

    return [
        {"category": p.category, "label": str(p.get_category_display()), "period": p.period_label,
         "trigger": p.trigger, "action": p.action, "legal_basis": p.legal_basis}
        for p in retention_policy_current_list()
    ]


def _audit_log_purge(*, now: datetime, dry_run: bool) -> dict:
    """The daily purge's audit-log step: entries older than the audit_log policy's period go behind an
    anchor (voipxs.privacy.audit.audit_trim). Without a policy in force nothing goes."""
    from voipxs.privacy.audit import audit_trim

    from .models import Category
    from .purge import _period_cutoff
    from .selectors import retention_policy_at

    if retention_policy_at(category=Category.AUDIT_LOG, at=now) is None:
        return {"deleted": 0, "skipped": "no audit_log policy in force"}
    return audit_trim(before=_period_cutoff(Category.AUDIT_LOG, now), dry_run=dry_run)


def _cdr_uploads_purge(*, now: datetime, dry_run: bool) -> dict:
    """Stored uploads of failed or never-started imports: a raw CDR file carries technical identifiers
    (SIP call-ids, channels, addresses), so it goes after the cdr_technical period like those do."""
    from traffic.services import cdr_import_uploads_delete

    from .models import Category
    from .purge import PURGE_ACTOR, _period_cutoff

    cutoff = _period_cutoff(Category.CDR_TECHNICAL, now)
    return {"deleted": cdr_import_uploads_delete(before=cutoff, dry_run=dry_run, actor=PURGE_ACTOR),
            "cutoff": cutoff.isoformat()}
