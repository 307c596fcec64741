"""User.anonymised_at: when the login name, e-mail, devices and numbers were removed. The retention purge
anonymises closed accounts once their final invoice is settled plus the closed_account period, and needs
to tell those apart from accounts that are only closed. Accounts erased before this field existed
(erasure always anonymised at once: login name "erased-...") get their closing moment."""
from __future__ import annotations

from django.db import migrations, models


def backfill_erased(apps, schema_editor) -> None:
    User = apps.get_model("accounts", "User")
    User.objects.filter(closed_at__isnull=False, anonymised_at__isnull=True,
                        username__startswith="erased-").update(anonymised_at=models.F("closed_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_seed_policy_v1"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="anonymised_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill_erased, migrations.RunPython.noop),
    ]
