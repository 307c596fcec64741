"""What withdrew a restriction's notice of the lift: until now only a moved end date did (restriction_end_change),
so the notices already withdrawn say so; from now on a new decision on a restriction request does too."""

from django.db import migrations, models


def withdrawn_by_end_change(apps, schema_editor):
    Restriction = apps.get_model("accounts", "Restriction")
    Restriction.objects.filter(lift_notice_withdrawn_at__isnull=False).update(lift_notice_withdrawn_by="end_change")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0022_dsr_representative_restriction_notice_withdrawal'),
    ]

    operations = [
        migrations.AddField(
            model_name='restriction',
            name='lift_notice_withdrawn_by',
            field=models.CharField(blank=True, choices=[('end_change', 'The end date moved'), ('new_decision', 'A new decision was recorded')], max_length=12),
        ),
        migrations.RunPython(withdrawn_by_end_change, migrations.RunPython.noop),
    ]
