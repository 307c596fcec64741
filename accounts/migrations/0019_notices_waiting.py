"""The e-mails to one person that a task sends are stored as due with the change that asks for them, so that a
reaper sends them again if the broker lost them: support's change of the itemised bills
(User.itemisation_notice_due_at), the coming lift of a restriction (Restriction.lift_notice_asked_at) and the
extension of a privacy request (DataSubjectRequest.extension_notice_due_at)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0018_restriction"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasubjectrequest",
            name="extension_notice_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="restriction",
            name="lift_notice_asked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="itemisation_notice_due_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
