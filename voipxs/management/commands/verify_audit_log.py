from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from voipxs.privacy.audit import audit_anchor_latest, audit_verify
from voipxs.privacy.audit_check import audit_chain_check
from voipxs.models import AuditEntry


class Command(BaseCommand):
    help = ("Verify the audit log's hash chain (from the newest trim anchor, if any); exit non-zero naming the "
            "first altered, missing or reordered entry or a forged anchor.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-seal", action="store_true", help="do not link pending entries into the chain first")

    def handle(self, *args, **options) -> None:
        if options["no_seal"]:
            checked, problem = audit_verify()
        else:  # the usual check: sealed, walked and recorded in the log (the DPO page shows it)
            checked, problem = audit_chain_check()
        if problem is not None:
            raise CommandError(f"audit chain broken at {problem} ({checked} entries before it verified)")
        pending = AuditEntry.objects.filter(seq__isnull=True).count()
        anchor = audit_anchor_latest()
        start = f", starting after the trim anchor at seq {anchor.up_to_seq}" if anchor else ""
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {checked} entries verified{start}, {pending} pending"))
