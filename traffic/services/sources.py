"""Sources: the switches that send CDRs. A source declares its format, time zone and country, so
that nothing is ever guessed from a file; the admin form and the services share one validation."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError, filled_lazy
from voipxs.privacy.audit import audit_record

from ..importers.layouts import LayoutError, layout_check
from ..models import Source
from ..selectors.sources_imports import ingest_purpose

SOURCE_NAME_TAKEN = gettext_noop("A source with this name already exists.")
SOURCE_NAME_INVALID = gettext_noop("Use letters, digits, hyphens and underscores only (at most 60).")
SOURCE_FORMAT_INVALID = gettext_noop("Unknown format; choose one of: %(choices)s.")
SOURCE_TZ_INVALID = gettext_noop("Unknown time zone; use an IANA name such as Europe/Amsterdam.")
SOURCE_COUNTRY_INVALID = gettext_noop("Unknown country; use a two-letter ISO code such as NL.")
SOURCE_COLUMNS_INVALID = gettext_noop("This is no layout of the format: %(reason)s.")


def source_validate(*, name: str, format: str, timezone: str, country: str, columns: str = "") -> None:
    """Raises ApplicationError naming the field that is wrong (the admin form shows it there)."""
    try:
        validate_slug(name)
    except ValidationError:
        raise ApplicationError(SOURCE_NAME_INVALID, {"field": "name"}) from None
    if not name or len(name) > 60:
        raise ApplicationError(SOURCE_NAME_INVALID, {"field": "name"})
    if format not in Source.Format.values:
        choices = {"choices": ", ".join(Source.Format.values)}
        raise ApplicationError.formatted(SOURCE_FORMAT_INVALID, choices, field="format")
    try:
        if not timezone or "/" not in timezone and timezone != "UTC":
            raise ZoneInfoNotFoundError(timezone)
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(SOURCE_TZ_INVALID, {"field": "timezone"}) from None
    if len(country) != 2 or country.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ApplicationError(SOURCE_COUNTRY_INVALID, {"field": "default_country"})
    try:
        layout_check(format, columns)
    except LayoutError as exc:
        # The reason is a msgid of its own (layouts.LAYOUT_*): shown in the same language as the sentence.
        reason = filled_lazy(exc.msgid, exc.params)
        raise ApplicationError.formatted(SOURCE_COLUMNS_INVALID, {"reason": reason}, field="columns") from None


@transaction.atomic
def source_create(*, name: str, format: str, timezone: str = "Europe/Amsterdam", default_country: str = "NL",
                  carrier: str = "", columns: str = "", actor=None) -> Source:
    """A switch that sends CDRs. Its format, time zone and country are declared, never guessed; so is
    its layout where the switch lets the operator choose one (`columns`: the cdr_custom.conf mapping
    line, the mod_cdr_csv template or a stock template's name, exactly as configured there)."""
    name, timezone, default_country = name.strip(), timezone.strip(), default_country.strip().upper()
    columns = columns.strip()
    source_validate(name=name, format=format, timezone=timezone, country=default_country, columns=columns)
    if Source.objects.filter(name=name).exists():
        raise ApplicationError(SOURCE_NAME_TAKEN, {"field": "name"})
    source = Source(name=name, format=format, timezone=timezone, default_country=default_country,
                    carrier=carrier.strip()[:100], columns=columns)
    source.full_clean()
    source.save()
    audit_record(actor=actor, action="cdr_source.create", purpose=ingest_purpose(actor), target_type="cdr_source",
                 target_id=source.pk, extra={"format": format})
    return source


@transaction.atomic
def source_update(*, source: Source, actor=None, **changes: str) -> Source:
    source = Source.objects.select_for_update().get(pk=source.pk)
    fields = [f for f in ("format", "timezone", "default_country", "carrier", "columns") if f in changes]
    for f in fields:
        setattr(source, f, changes[f].strip().upper() if f == "default_country" else changes[f].strip())
    source_validate(name=source.name, format=source.format, timezone=source.timezone, country=source.default_country,
                    columns=source.columns)
    source.full_clean()
    source.save(update_fields=fields)
    audit_record(actor=actor, action="cdr_source.update", purpose=ingest_purpose(actor), target_type="cdr_source",
                 target_id=source.pk, extra={"fields": fields})
    return source
