"""Remove what is past retention and not held: `manage.py purge_expired [--dry-run] [--json]`.

Thin, like zulip's archive_messages: the work is in retention.purge (retention/purge/run.py). While a
live purge holds the lease it exits 1 and says when the lease runs out, so an operator's cron sees it;
a dry run takes no lease and always runs.
"""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retention.purge.chunks import DEFAULT_CHUNK_SIZE
from retention.purge.lock import PurgeBusy, PurgeLeaseLost
from retention.purge.run import purge_expired


class Command(BaseCommand):
    help = "Purge data past its retention period (honours legal holds, open invoices and disputes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
        parser.add_argument("--json", action="store_true", help="print the receipt as JSON")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)

    def handle(self, *args, **options) -> None:
        dry_run = options["dry_run"]
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
