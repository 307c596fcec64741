"""Remove what is past retention and not held: `manage.py purge_expired [--dry-run] [--json]`.

Thin, like zulip's archive_messages: the work is in retention.purge (retention/purge/run.py). While a
live purge holds the lease it exits 1 and says when the lease runs out, so an operator's cron sees it;
a dry run takes no lease and always runs.

Typed at a terminal, a live purge first shows what the dry run would remove and asks for "purge"
(deletion is irreversible: dropped months' keys are destroyed). `--yes` skips the question; without a
terminal (cron, beat's task, tests) nothing asks, as Django's own `flush --no-input` works.
"""
from __future__ import annotations

import argparse
import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retention.purge.chunks import DEFAULT_CHUNK_SIZE
from retention.purge.lock import PurgeBusy, PurgeLeaseLost
from retention.models import RECEIPT_LABELS
from retention.purge.run import purge_expired

CONFIRM_WORD = "purge"


def _positive(value: str) -> int:
    """A batch size: 0 would make every batch step delete nothing (and the run say done), a negative one fail."""
    size = int(value)
    if size < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return size


class Command(BaseCommand):
    help = "Purge data past its retention period (honours legal holds, open invoices and disputes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
        parser.add_argument("--json", action="store_true", help="print the receipt as JSON")
        parser.add_argument("--chunk-size", type=_positive, default=DEFAULT_CHUNK_SIZE,
                            help="rows per batch (1 or more)")
        parser.add_argument("--yes", action="store_true", help="do not ask before a live purge at a terminal")

    def handle(self, *args, **options) -> None:
        dry_run = options["dry_run"]
        if not dry_run and not options["yes"] and sys.stdin.isatty() and not self._confirmed(options["chunk_size"]):
            raise CommandError("Nothing was purged.")
        try:
            receipt = purge_expired(dry_run=dry_run, chunk_size=options["chunk_size"])
        except (PurgeBusy, PurgeLeaseLost) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(receipt, indent=2))
            return
        verb = "would remove" if dry_run else "removed"
        for r in receipt["receipts"]:
            self.stdout.write(f"{r['category']:<20} {verb} {r['deleted']:>10}  kept {r['kept']:>8}  {r['duration_ms']} ms")
            for m in (r.get("details") or {}).get("months") or []:
                if isinstance(m, dict) and ("shredded_at" in m or "reclaimed_at" in m):  # a month's two moments
                    self.stdout.write(f"  {m.get('month', '')}  unreadable since {m.get('shredded_at') or '-'}  "
                                      f"files given back {m.get('reclaimed_at') or 'not yet'}")

    def _confirmed(self, chunk_size: int) -> bool:
        """Show what a purge now would remove (a dry run) and ask for the word."""
        preview = purge_expired(dry_run=True, chunk_size=chunk_size)
        self.stdout.write("A purge now deletes, for good (kept: legal holds, open and disputed invoices):")
        for r in preview["receipts"]:
            label = RECEIPT_LABELS.get(r["category"], r["category"])
            self.stdout.write(f"  {r['deleted']:>10}  {label}")
        answer = input(f'Type "{CONFIRM_WORD}" to delete these now: ')
        return answer.strip().lower() == CONFIRM_WORD
