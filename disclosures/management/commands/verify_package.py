"""verify_package FILE [--public-key HEX]: check a disclosure package ZIP against its manifest, its archive
seal and our signature of that seal. Exit 0 when it matches; exit 1 naming each thing that differs. The
recipient gives the public key it got with the package (the request's page shows it); without one, the keys
in this database are used."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from disclosures.production import verify_zip
from disclosures.signing import public_key_from_hex


class Command(BaseCommand):
    help = "Check a disclosure package ZIP against its manifest.json (SHA-256 of every file, counts)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--public-key", action="append", default=[], metavar="HEX",
                            help="our package signing key (64 hex digits); may be given more than once")

    def handle(self, *args, file: Path, public_key: list[str], **options) -> None:
        try:
            keys = dict(public_key_from_hex(text) for text in public_key) if public_key else None
        except ValueError:
            raise CommandError("--public-key: not an Ed25519 public key (64 hex digits)") from None
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        problems = verify_zip(data, keys)
        if problems:
            for problem in problems:
                self.stderr.write(f"DIFFERS {problem}")
            raise CommandError(f"{file.name}: {len(problems)} problem(s); the package does not match its manifest")
        self.stdout.write(self.style.SUCCESS(f"OK {file.name}: every file matches the manifest, signed by our key"))
