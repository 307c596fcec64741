# A void invoice can be replaced by a corrected one for the same month (traffic.invoicing.invoice_reissue):
# (account, period) is unique among live invoices only, and the new invoice points at the one it replaces.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('traffic', '0006_cdr_rating_todo_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='invoice',
            name='invoice_account_period_uniq',
        ),
        migrations.AddField(
            model_name='invoice',
            name='replaces',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='replaced_by', to='traffic.invoice'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'void'), _negated=True), fields=('account', 'period'), name='invoice_account_period_live_uniq'),
        ),
    ]
