from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from voipxs.privacy.registry import demo_seeders


class Command(BaseCommand):
    help = "Create demo data (idempotent) and print the demo logins. Every app contributes its part."

    def handle(self, *args, **options) -> None:
        for _order, name, seeder in demo_seeders():
            with transaction.atomic():
                seeder(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
