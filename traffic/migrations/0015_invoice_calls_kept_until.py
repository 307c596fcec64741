# An invoice's calls are kept until `calls_kept_until` once it is settled (retention.purge): the end of its
# dispute window, moved on when a dispute is decided (the appeal period, Tw 11.5(2)); empty while an upheld
# dispute's void invoice awaits its corrected one. The purge's index follows the column it now reads.

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def keep_until_from_history(apps, schema_editor):
    """Every invoice keeps its calls through its dispute window, as before. A dispute decided before this
    column existed gets the new rule: when it was decided was not recorded, so the appeal period counts
    from when the invoice was last settled (a rejection or a later payment), else from now. A void
    invoice that was disputed, not yet replaced and still has calls is taken for an upheld dispute awaiting
    its corrected invoice: no end (without calls the old rule has already let them go, and nothing is left
    to reissue from). Disputes are few, so they are walked one by one."""
    Invoice, Cdr = apps.get_model("traffic", "Invoice"), apps.get_model("traffic", "Cdr")
    Invoice.objects.update(calls_kept_until=F("dispute_window_ends"))
    appeal = timedelta(days=int(getattr(settings, "INVOICE_DISPUTE_APPEAL_DAYS", 365)))
    today = timezone.now().date()
    replaced = set(Invoice.objects.filter(replaces__isnull=False).values_list("replaces_id", flat=True))
    decided = Invoice.objects.filter(disputed_at__isnull=False).exclude(status="disputed")
    for invoice in decided.only("id", "status", "dispute_window_ends", "settled_at").iterator():
        has_calls = invoice.dispute_window_ends >= today or Cdr.objects.filter(invoice_id=invoice.pk).exists()
        if invoice.status == "void" and invoice.pk not in replaced and has_calls:
            invoice.calls_kept_until = None
        else:
            decided_on = invoice.settled_at.date() if invoice.settled_at else today
            invoice.calls_kept_until = max(invoice.dispute_window_ends, decided_on + appeal)
        invoice.save(update_fields=["calls_kept_until"])


class Migration(migrations.Migration):

    dependencies = [
        ('traffic', '0014_masking_list_valid_until'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='calls_kept_until',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='invoice',
            name='dispute_resolved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(keep_until_from_history, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='invoice',
            name='invoice_status_window_idx',
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['status', 'calls_kept_until'], name='invoice_status_kept_idx'),
        ),
    ]
