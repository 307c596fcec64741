"""Bills are not itemised unless the subscriber opts in (GDPR art. 25; ePrivacy art. 7, Tw 11.4).

- Contractor.itemisation: the default becomes "none" for new contractors. Existing contractors keep
  their setting: no data change.
- User.itemisation (new): the setting of a User without a contractor, "none" for new accounts. Existing
  individual users are set to "full", the itemised bill they got until now, so that their bills do not
  change without them choosing it; they can change it in the portal (My numbers). A contractor's Users
  keep "none" there: their contractor's setting applies to them, not this one.
"""
from __future__ import annotations

from django.db import migrations, models

CHOICES = [("full", "itemised, numbers in full"), ("masked", "itemised, numbers masked"),
           ("none", "not itemised (totals only)")]


def existing_individuals_keep_itemised_bills(apps, schema_editor) -> None:
    User = apps.get_model("accounts", "User")
    User.objects.filter(contractor__isnull=True).update(itemisation="full")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0016_policy_version_summaries"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contractor",
            name="itemisation",
            field=models.CharField(choices=CHOICES, default="none", max_length=8, verbose_name="itemised bills"),
        ),
        migrations.AddField(
            model_name="user",
            name="itemisation",
            field=models.CharField(choices=CHOICES, default="none", max_length=8, verbose_name="itemised bills"),
        ),
        migrations.RunPython(existing_individuals_keep_itemised_bills, migrations.RunPython.noop),
    ]
