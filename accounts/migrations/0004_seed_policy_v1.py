"""Seed privacy-policy version 1 from voipxs/privacy-policy.txt (the text the site showed before versions)."""
from __future__ import annotations

from pathlib import Path

from django.db import migrations

POLICY_FILE = Path(__file__).resolve().parent.parent.parent / "voipxs" / "privacy-policy.txt"


def seed_v1(apps, schema_editor) -> None:
    PolicyVersion = apps.get_model("accounts", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    from django.utils.timezone import now

    text = POLICY_FILE.read_text(encoding="utf-8") if POLICY_FILE.exists() else ""
    PolicyVersion.objects.create(version="1", published_at=now(), substantive=False,
                                 summary="First published version.", text=text)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_dsr_policy_breach")]
    operations = [migrations.RunPython(seed_v1, migrations.RunPython.noop)]
