"""CDR legs (issue 11): a record's identity is (source, unique_id, leg), and `call_id` groups the legs of
one call; a source may declare its switch's own layout (`columns`).

On PostgreSQL traffic_cdr is partitioned by month (0002): the new unique constraint holds started_at,
the partition key, like the one it replaces; adding columns with a default and the index and constraint
on the partitioned parent reaches every partition. Rows stored before have leg "" and call_id "".
"""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('traffic', '0008_callexport_create'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='cdr',
            name='cdr_source_uid_start_uniq',
        ),
        migrations.AddField(
            model_name='cdr',
            name='call_id',
            field=models.CharField(blank=True, db_default='', default='', max_length=150),
        ),
        migrations.AddField(
            model_name='cdr',
            name='leg',
            field=models.CharField(blank=True, db_default='', default='', max_length=40),
        ),
        migrations.AddField(
            model_name='source',
            name='columns',
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name='source',
            name='format',
            field=models.CharField(choices=[('asterisk-csv', 'Asterisk cdr_csv (Master.csv)'), ('asterisk-custom', 'Asterisk cdr_custom'), ('freeswitch-csv', 'FreeSWITCH mod_cdr_csv'), ('freeswitch-json', 'FreeSWITCH mod_json_cdr'), ('freeswitch-xml', 'FreeSWITCH mod_xml_cdr'), ('kamailio-acc', 'Kamailio acc dialog CDRs (cdr_enable)')], max_length=20),
        ),
        migrations.AddIndex(
            model_name='cdr',
            index=models.Index(condition=models.Q(('call_id', ''), _negated=True), fields=['source', 'call_id'], name='cdr_source_call_idx'),
        ),
        migrations.AddConstraint(
            model_name='cdr',
            constraint=models.UniqueConstraint(fields=('source', 'unique_id', 'leg', 'started_at'), name='cdr_source_uid_leg_start_uniq'),
        ),
    ]
