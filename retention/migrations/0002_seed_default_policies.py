"""The default retention policies of DESIGN.md "Retention", as version 1 of each category.

Copied here rather than imported from app code, so the migration means the same thing forever.
"""
from datetime import datetime, timezone

from django.db import migrations

DEFAULTS = [
    # category, trigger, months, days, action, legal basis
    ("cdr_billed", "invoice paid and undisputed and its dispute window (6 months after the invoice date) passed",
     0, 0, "delete", "Tw art. 11.5(2)"),
    ("cdr_unbilled", "call start (failed, free or never invoiced calls)", 3, 0, "delete", "Tw art. 11.5(1); security"),
    ("cdr_technical", "call start (IP, user agent, SIP call-id)", 0, 30, "delete", "Tw art. 11.5(1)"),
    ("invoice", "invoice date", 84, 0, "delete", "AWR art. 52"),
    ("closed_account", "final invoice settled, except what invoices must keep", 0, 30, "anonymise", "GDPR art. 5(1)(e)"),
    ("disclosure_package", "delivery of the package", 0, 90, "delete", "accountability (GDPR art. 5(2))"),
    ("dsr_export", "export file ready", 0, 7, "delete", "minimisation (GDPR art. 5(1)(c))"),
    ("audit_log", "entry written (pseudonymous)", 60, 0, "delete", "GDPR art. 5(2)"),
]


def forward(apps, schema_editor):
    RetentionPolicy = apps.get_model("retention", "RetentionPolicy")
    # valid_from in the past, so the defaults are in force for any date the data can have.
    since = datetime(2000, 1, 1, tzinfo=timezone.utc)
    for category, trigger, months, days, action, basis in DEFAULTS:
        RetentionPolicy.objects.get_or_create(
            category=category, version=1,
            defaults={"trigger": trigger, "period_months": months, "period_days": days, "action": action,
                      "legal_basis": basis, "valid_from": since, "change_reason": "DESIGN.md defaults"},
        )


def backward(apps, schema_editor):
    apps.get_model("retention", "RetentionPolicy").objects.filter(version=1, change_reason="DESIGN.md defaults").delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_policies_holds_purge_runs_held_cdrs")]
    operations = [migrations.RunPython(forward, backward)]
