# Notes on calls (GDPR art. 16, traffic/annotations): a plain table, not partitioned. No foreign key to the
# CDR, whose key on PostgreSQL is (id, started_at) in a partitioned table: the note keeps both, as the hold
# table does, and the purge and erasure delete notes with their calls.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0016_policy_version_summaries'),
        ('traffic', '0015_invoice_calls_kept_until'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CdrAnnotation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cdr_id', models.BigIntegerField()),
                ('started_at', models.DateTimeField()),
                ('text_enc', models.BinaryField()),
                ('kept_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('account', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('author', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('dsr_request', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.datasubjectrequest')),
            ],
            options={
                'indexes': [models.Index(fields=['cdr_id'], name='cdrnote_cdr_idx'), models.Index(fields=['account', 'started_at'], name='cdrnote_account_time_idx'), models.Index(fields=['started_at'], name='cdrnote_time_idx')],
            },
        ),
    ]
