# An upheld dispute's void invoice no longer keeps its calls without an end date while it awaits its corrected
# invoice: it keeps them until the dispute's appeal period ends, or its window if later (GDPR art. 5(1)(e)),
# and billing is reminded before (traffic.services.invoices.invoice_reissues_remind).

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def end_the_wait(apps, schema_editor):
    """Void invoices with no keep-until (upheld disputes awaiting their corrected invoice) get the appeal
    period counted from when the dispute was decided (or, if that was not recorded, from when the invoice was
    settled, else today), and never less than 30 days from today, so that billing can still reissue them."""
    Invoice = apps.get_model("traffic", "Invoice")
    appeal = timedelta(days=int(getattr(settings, "INVOICE_DISPUTE_APPEAL_DAYS", 365)))
    today = timezone.now().date()
    for invoice in Invoice.objects.filter(calls_kept_until__isnull=True).iterator():
        decided = invoice.dispute_resolved_at or invoice.settled_at
        decided_on = decided.date() if decided else today
        invoice.calls_kept_until = max(invoice.dispute_window_ends, decided_on + appeal, today + timedelta(days=30))
        invoice.save(update_fields=["calls_kept_until"])


class Migration(migrations.Migration):

    dependencies = [
        ('traffic', '0016_cdr_annotation'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='reissue_reminded_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(end_the_wait, migrations.RunPython.noop),
    ]
