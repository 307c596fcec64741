"""Print the processing register (GDPR art. 30), or with --dpia the DPIA (GDPR art. 35), both generated
from the purposes, the registered sections, the retention policies in force, and the DPIA's risks."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from voipxs.privacy.dpia import dpia_markdown
from voipxs.privacy.register import processing_register_json, processing_register_markdown


class Command(BaseCommand):
    help = "Print the processing register (GDPR art. 30) as Markdown or JSON, or the DPIA (--dpia, Markdown)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["md", "json"], default="md")
        parser.add_argument("--dpia", action="store_true", help="print the data protection impact assessment")

    def handle(self, *args, **options) -> None:
        if options["dpia"]:
            self.stdout.write(dpia_markdown())
            return
        text = processing_register_json() if options["format"] == "json" else processing_register_markdown()
        self.stdout.write(text)
