import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("actor", models.CharField(max_length=64)),
                ("action", models.CharField(max_length=64)),
                ("purpose", models.CharField(blank=True, max_length=32)),
                ("target_type", models.CharField(blank=True, max_length=32)),
                ("target_id", models.CharField(blank=True, max_length=64)),
                ("outcome", models.CharField(choices=[("ok", "Ok"), ("refused", "Refused")], default="ok", max_length=8)),
                ("extra", models.JSONField(blank=True, default=dict)),
                ("seq", models.BigIntegerField(blank=True, null=True, unique=True)),
                ("prev_hash", models.CharField(blank=True, max_length=64)),
                ("entry_hash", models.CharField(blank=True, max_length=64)),
            ],
            options={
                "verbose_name_plural": "audit entries",
                "indexes": [
                    models.Index(condition=models.Q(("seq__isnull", True)), fields=["id"], name="audit_unsealed_idx"),
                    models.Index(fields=["actor", "created_at"], name="audit_actor_time_idx"),
                    models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
                ],
            },
        ),
    ]
