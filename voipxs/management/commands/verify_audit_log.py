from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from voipxs.privacy.audit import audit_anchor_latest, audit_verify
from voipxs.privacy.audit_check import VERIFY_ACTOR, audit_chain_check, audit_head_take_over
from voipxs.privacy.audit_head import audit_head_load, audit_head_summary, head_path
from voipxs.models import AuditEntry


class Command(BaseCommand):
    help = ("Verify the audit log's hash chain (from the newest trim anchor, if any) and compare its end with the "
            "head witness (AUDIT_HEAD_FILE); exit non-zero naming the first altered, missing or reordered entry, "
            "a forged anchor, or the newest entries removed.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-seal", action="store_true", help="do not link pending entries into the chain first")
        parser.add_argument("--replace-witness", action="store_true",
                            help="this database takes over the head witness (after a restore under a new name, "
                                 "once it replaces the database the witness follows); recorded in the log")

    def handle(self, *args, **options) -> None:
        if options["replace_witness"]:
            previous, head = audit_head_take_over(actor=VERIFY_ACTOR)
            before = f"{previous.database} at seq {previous.seq}" if previous else "nothing readable"
            self.stdout.write(f"head witness {head_path()}: replaced {before}; it now follows this database "
                              f"from seq {head.seq}")
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
        witness, _, notice = audit_head_load()
        if witness is not None:
            self.stdout.write(audit_head_summary(witness))
        else:
            self.stdout.write(self.style.WARNING(f"not compared with a head witness: {notice}"))
