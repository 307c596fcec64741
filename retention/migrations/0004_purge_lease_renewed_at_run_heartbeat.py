# The purge's lease counts from its last renewal (PURGE_LEASE_SECONDS), not from a fixed end, and a run
# keeps a heartbeat, so a killed purge is marked failed within minutes (issue 16, item 7). Dropping
# held_until frees a lease held at deploy time: no purge of the old code survives the deploy.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('retention', '0003_heldcdr_contractor_index'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='purgelock',
            name='held_until',
        ),
        migrations.AddField(
            model_name='purgelock',
            name='renewed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='purgerun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='purgerun',
            name='status',
            field=models.CharField(choices=[('running', 'running'), ('done', 'done'), ('failed', 'failed')],
                                   default='running', max_length=10),
        ),
    ]
