"""`import_cdrs --source NAME [--format F] [--json] FILE...`: import CDR files through the ingest service.

Exit status is non-zero only when a file was refused entirely (unreadable, wrong format); rejected
rows are reported, not fatal."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from traffic.models import CdrImport, Source
from traffic.services.imports import cdr_bulk_import
from voipxs.privacy.purposes import SystemActor


class _Progress:
    """A one-line progress counter on stderr, only when stderr is a terminal."""

    def __init__(self, stream, label: str) -> None:
        self.stream, self.label = stream, label
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()

    def __call__(self, rows: int) -> None:
        if self.enabled:
            rate = rows / max(time.monotonic() - self.started, 1e-6)
            self.stream.write(f"\r{self.label}: {rows:,} rows ({rate:,.0f}/s)")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Import CDR files from a declared source."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+")
        parser.add_argument("--source", required=True, help="name of the source (see cdr_source list)")
        parser.add_argument("--format", choices=Source.Format.values,
                            help="must match the source's declared format (a safety check, never a guess)")
        parser.add_argument("--json", action="store_true", help="print one JSON summary over all files")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, **options) -> None:
        source = Source.objects.filter(name=options["source"]).first()
        if source is None:
            raise CommandError("--source: no such source (add it with cdr_source add)")
        if options["format"] and options["format"] != source.format:
            raise CommandError(f"--format: the source is declared as {source.format}")
        actor = SystemActor("import_cdrs")
        summary = {"imported": 0, "duplicates": 0, "conflicts": 0, "rejected": []}
        refused = 0
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                refused += 1
                self.stderr.write(f"{path.name}: not a readable file")
                continue
            progress = _Progress(sys.stderr, path.name)
            cdr_import = cdr_bulk_import(source=source, path=path, actor=actor, file_name=path.name,
                                         batch_size=options["batch_size"], progress=progress)
            progress.done()
            if cdr_import.status == CdrImport.Status.FAILED:
                refused += 1
                self.stderr.write(f"{path.name}: refused: {cdr_import.error}")
                continue
            summary["imported"] += cdr_import.imported
            summary["duplicates"] += cdr_import.duplicates
            summary["conflicts"] += cdr_import.conflicts
            summary["rejected"].extend(cdr_import.report.get("rejected", []))
            if not options["json"]:
                self.stdout.write(
                    f"{path.name}: imported {cdr_import.imported}, duplicates {cdr_import.duplicates}, "
                    f"conflicts {cdr_import.conflicts}, rejected {cdr_import.report.get('rejected_total', 0)}, "
                    f"flagged {cdr_import.flagged} (import #{cdr_import.pk})"
                )
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        if refused:
            raise CommandError(f"{refused} file(s) refused")
