"""Remove what is past retention and not held: `manage.py purge_expired [--dry-run] [--json]`.

Thin, like zulip's archive_messages: the work is in retention.purge.
"""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandParser

from retention.purge import DEFAULT_CHUNK_SIZE, PurgeBusy, purge_expired


class Command(BaseCommand):
    help = "Purge data past its retention period (honours legal holds, open invoices and disputes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
        parser.add_argument("--json", action="store_true", help="print the receipt as JSON")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)

    def handle(self, *args, dry_run: bool = False, json: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
               **options) -> None:
        try:
            receipt = purge_expired(dry_run=dry_run, chunk_size=chunk_size)
        except PurgeBusy as exc:
            self.stderr.write(str(exc))
            return
        if json:
            self.stdout.write(_json.dumps(receipt, indent=2))
            return
        verb = "would remove" if dry_run else "removed"
        for r in receipt["receipts"]:
            self.stdout.write(f"{r['category']:<20} {verb} {r['deleted']:>10}  kept {r['kept']:>8}  {r['duration_ms']} ms")


_json = json
