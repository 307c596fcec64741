"""Invoice.supplier: the supplier's details (name, address, VAT and KvK numbers, IBAN) fixed on the invoice when it
is made, instead of read from the settings whenever its PDF is made. Invoices made before this get the details
configured now, the best record there is of those they were issued with; from here on a change of the company's
details changes no invoice already made."""
from django.conf import settings
from django.db import migrations, models


def _supplier_now(apps, schema_editor):
    Invoice = apps.get_model("traffic", "Invoice")
    Invoice.objects.filter(supplier={}).update(supplier={
        "name": settings.INVOICE_COMPANY_NAME, "address": settings.INVOICE_COMPANY_ADDRESS,
        "vat_number": settings.INVOICE_COMPANY_VAT_NUMBER, "kvk_number": settings.INVOICE_COMPANY_KVK_NUMBER,
        "iban": getattr(settings, "INVOICE_COMPANY_IBAN", ""),
    })


class Migration(migrations.Migration):
    dependencies = [("traffic", "0020_tariff_prefix_zone_rules")]

    operations = [
        migrations.AddField(model_name="invoice", name="supplier", field=models.JSONField(blank=True, default=dict)),
        migrations.RunPython(_supplier_now, migrations.RunPython.noop),
    ]
