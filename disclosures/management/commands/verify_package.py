"""verify_package FILE: check a disclosure package ZIP against its manifest (and its archive seal).
Exit 0 when it matches; exit 1 naming each file that differs. Needs no key: the recipient can run it."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from disclosures.production import verify_zip


class Command(BaseCommand):
    help = "Check a disclosure package ZIP against its manifest.json (SHA-256 of every file, counts)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        problems = verify_zip(data)
        if problems:
            for problem in problems:
                self.stderr.write(f"DIFFERS {problem}")
            raise CommandError(f"{file.name}: {len(problems)} problem(s); the package does not match its manifest")
        self.stdout.write(self.style.SUCCESS(f"OK {file.name}: every file matches the manifest"))
