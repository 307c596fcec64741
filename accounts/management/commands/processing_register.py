"""Print the processing register (GDPR art. 30), generated from the purposes and the registered sections."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from voipxs.privacy.register import processing_register_json, processing_register_markdown


class Command(BaseCommand):
    help = "Print the processing register (GDPR art. 30) as Markdown or JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["md", "json"], default="md")

    def handle(self, *args, **options) -> None:
        text = processing_register_json() if options["format"] == "json" else processing_register_markdown()
        self.stdout.write(text)
