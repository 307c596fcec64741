# VAT on invoices (net subtotal, rate, VAT amount; total stays the amount due) with the customer's name and
# address fixed on the invoice, and tariffs whose validity cannot end before it starts.

import voipxs.privacy.fields
from django.db import migrations, models
from django.db.models import F


def existing_invoices_net(apps, schema_editor):
    """Invoices made before VAT was charged: their total was net and no VAT was on them; say exactly that."""
    Invoice = apps.get_model("traffic", "Invoice")
    Invoice.objects.update(subtotal=F("total"), vat_rate=0, vat_amount=0)


class Migration(migrations.Migration):

    dependencies = [
        ('traffic', '0010_push_credentials'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='subtotal',
            field=models.DecimalField(decimal_places=2, default=0, max_digits=12),
        ),
        migrations.AddField(
            model_name='invoice',
            name='vat_rate',
            field=models.DecimalField(decimal_places=2, default=0, max_digits=5),
        ),
        migrations.AddField(
            model_name='invoice',
            name='vat_amount',
            field=models.DecimalField(decimal_places=2, default=0, max_digits=12),
        ),
        migrations.AddField(
            model_name='invoice',
            name='customer_name',
            field=voipxs.privacy.fields.EncryptedTextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='invoice',
            name='customer_address',
            field=voipxs.privacy.fields.EncryptedTextField(blank=True, null=True),
        ),
        migrations.RunPython(existing_invoices_net, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='tariff',
            constraint=models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), name='tariff_validity_ordered'),
        ),
    ]
