"""Itemisation changes apply from the next billing period (LEGAL.md row 9; Bude art. 4.2(3)), and bills may leave
calls to free and helpline numbers off.

- ItemisationChange: what applied before each change, so that a bill of an earlier period keeps it. Existing
  contractors and users have none: their setting applies to every period, as before.
- omit_free_numbers on Contractor and User: on for everyone (GDPR art. 25; the privacy policy says nothing of
  listing such calls). The calls still count in the invoice's totals.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0020_user_language'),
    ]

    operations = [
        migrations.AddField(
            model_name='contractor',
            name='omit_free_numbers',
            field=models.BooleanField(default=True, verbose_name='leave free and helpline numbers off itemised bills'),
        ),
        migrations.AddField(
            model_name='user',
            name='omit_free_numbers',
            field=models.BooleanField(default=True, verbose_name='leave free and helpline numbers off itemised bills'),
        ),
        migrations.CreateModel(
            name='ItemisationChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('valid_from', models.DateField()),
                ('itemisation_before', models.CharField(choices=[('full', 'itemised, numbers in full'), ('masked', 'itemised, numbers masked'), ('none', 'not itemised (totals only)')], max_length=8)),
                ('omit_free_before', models.BooleanField()),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('contractor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='itemisation_changes', to='accounts.contractor')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='itemisation_changes', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('contractor__isnull', False), ('user__isnull', True)), models.Q(('contractor__isnull', True), ('user__isnull', False)), _connector='OR'), name='itemisationchange_one_party'), models.UniqueConstraint(condition=models.Q(('contractor__isnull', False)), fields=('contractor', 'valid_from'), name='itemisationchange_contractor_uniq'), models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('user', 'valid_from'), name='itemisationchange_user_uniq')],
            },
        ),
    ]
