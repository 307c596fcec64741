"""Demo data of the ingest side (order 20): two switches. Tariffs, calls and invoices follow at 25."""
from __future__ import annotations

from .models import Source

DEMO_SOURCES = (
    {"name": "ams-asterisk", "format": Source.Format.ASTERISK_CSV, "timezone": "Europe/Amsterdam",
     "default_country": "NL", "carrier": "KPN Wholesale"},
    {"name": "rtm-freeswitch", "format": Source.Format.FREESWITCH_JSON, "timezone": "UTC",
     "default_country": "NL", "carrier": "Tele2 Interconnect"},
)


def seed_sources(stdout=None) -> None:
    from .services import source_create

    made = []
    for spec in DEMO_SOURCES:
        if not Source.objects.filter(name=spec["name"]).exists():
            source_create(**spec)
            made.append(spec["name"])
    if stdout is not None:
        names = ", ".join(s["name"] for s in DEMO_SOURCES)
        stdout.write(f"CDR sources: {names}" + (" (new)" if made else "") +
                     " — import files with: python manage.py import_cdrs --source ams-asterisk FILE\n")
