"""GDPR art. 18: each restriction's ground, end date, lift notice and lift (accounts.dsr.models.Restriction).

Accounts restricted before this migration (and not erased: erasure's restriction is the law's, not art. 18's)
get an active Restriction without a ground, so the DPO can see, tell and lift them like any other."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Restriction = apps.get_model("accounts", "Restriction")
    DataSubjectRequest = apps.get_model("accounts", "DataSubjectRequest")
    for user in User.objects.filter(restricted_at__isnull=False, anonymised_at__isnull=True).order_by("pk"):
        request = (DataSubjectRequest.objects.filter(user_id=user.pk, kind="restriction", status="completed")
                   .order_by("-completed_at").first())
        Restriction.objects.create(user_id=user.pk, request=request, started_at=user.restricted_at)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0017_itemisation_not_by_default"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Restriction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ground", models.CharField(blank=True, choices=[
                    ("accuracy_contested", "Accuracy contested, for the time to verify it (art. 18(1)(a))"),
                    ("unlawful", "Processing unlawful, and the person opposes erasure (art. 18(1)(b))"),
                    ("legal_claims", "No longer needed, but the person needs it for legal claims (art. 18(1)(c))"),
                    ("objection_pending", "Objection under art. 21(1) pending verification (art. 18(1)(d))")],
                    max_length=20)),
                ("ends_on", models.DateField(blank=True, null=True)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("lift_notice_sent_at", models.DateTimeField(blank=True, null=True)),
                ("lift_notice_channel", models.CharField(blank=True, choices=[
                    ("email", "by our e-mail"), ("letter", "by letter"), ("phone", "by phone"),
                    ("in_person", "in person")], max_length=10)),
                ("lifted_at", models.DateTimeField(blank=True, null=True)),
                ("reminder_stage", models.CharField(blank=True, choices=[("", "None"), ("due_soon", "Due soon"),
                                                                         ("overdue", "Overdue")],
                                                    default="", max_length=8)),
                ("request", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                              related_name="+", to="accounts.datasubjectrequest")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="restrictions",
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["started_at", "pk"],
                "indexes": [models.Index(fields=["lifted_at", "ends_on"], name="restriction_active_end_idx")],
                "constraints": [models.UniqueConstraint(condition=models.Q(("lifted_at__isnull", True)),
                                                        fields=("user",), name="restriction_one_active_per_user")],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
