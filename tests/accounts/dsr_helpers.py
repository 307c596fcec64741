"""Helpers for the data-subject tests: open an export ZIP, check it against the export's JSON Schema, create
delivered disclosures."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

from django.utils.timezone import now

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "export.schema.json"


def export_zip(export) -> zipfile.ZipFile:
    from accounts.dsr.export import export_decrypt_stream

    return zipfile.ZipFile(io.BytesIO(b"".join(export_decrypt_stream(export))))


def export_json(export) -> dict:
    return json.loads(export_zip(export).read("export.json"))


def export_schema() -> dict:
    """schemas/export.schema.json, as the published documentation of the export gives it."""
    return json.loads(SCHEMA_PATH.read_text())


def schema_validate(data, schema: dict | None = None) -> None:
    """Validate `data` against `schema` (the whole export's by default, or one of its $defs), date-time formats
    checked; raises jsonschema.ValidationError."""
    import jsonschema

    jsonschema.validate(data, export_schema() if schema is None else schema,
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def schema_def_validate(row: dict, name: str) -> None:
    """Validate one section's row against the export schema's definition `name` (e.g. "billing_address")."""
    schema = export_schema()
    schema_validate(row, {"$defs": schema["$defs"], **schema["$defs"][name]})


def access_export(user, capture, *, kind: str = "access"):
    """The export file a person's access (or portability) request builds, built: `capture` is pytest-django's
    django_capture_on_commit_callbacks, which runs the build queued after the request's commit."""
    from accounts.dsr.models import ExportFile
    from accounts.dsr.services import dsr_request_create

    with capture(execute=True):
        req = dsr_request_create(user=user, kind=kind)
    return ExportFile.objects.get(request=req)


def export_json_valid(export) -> dict:
    """export.json of `export`, after checking it against the export's JSON Schema."""
    data = export_json(export)
    schema_validate(data)
    return data


def section(data: dict, name: str) -> dict:
    return next(s for s in data["sections"] if s["name"] == name)


def delivered_disclosure(*, user, officer, reference: str, secrecy_days: int | None):
    """A delivered disclosure about `user`'s account, as the disclosures app leaves it after delivery
    when the user is to be told: a notice, sent, or withheld while the secrecy order runs."""
    from disclosures.models import Authority, DisclosureRequest, DisclosureTarget, Notice

    authority, _ = Authority.objects.get_or_create(name="Politie Eenheid Test", defaults={
        "kind": "police", "contact_phone": "+31205559999", "verified_at": now()})
    req = DisclosureRequest.objects.create(
        reference=reference, authority=authority, legal_basis="sv_126na", categories=["user_data"],
        window_start=now() - timedelta(days=30), window_end=now(), target_count=1, deadline=now() + timedelta(days=5),
        secrecy_until=(now() + timedelta(days=secrecy_days)).date() if secrecy_days else None,
        status="delivered", received_by=officer, delivered_at=now(), notice_user=True)
    DisclosureTarget.objects.create(request=req, kind="account", account=user)
    Notice.objects.create(request=req, user=user, state="withheld" if secrecy_days else "sent",
                          withheld_until=req.secrecy_until, sent_at=None if secrecy_days else now())
    return req
