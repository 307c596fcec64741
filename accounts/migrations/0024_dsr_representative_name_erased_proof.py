# A representative's name (and their proof of authority, now kept when support uploads it) goes with the person's
# account (accounts/dsr/representative.py); the request then says when. Existing rows hold a name with a kind, or
# neither, so the new constraint holds for them as they are.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0023_restriction_lift_notice_withdrawn_by'),
    ]

    operations = [
        migrations.CreateModel(
            name='RepresentativeProof',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('content_type', models.CharField(max_length=20)),
                ('size', models.PositiveIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('content_enc', models.BinaryField()),
                ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('request', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='representative_proof', to='accounts.datasubjectrequest')),
            ],
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='representative_name_erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name='datasubjectrequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('representative_kind', ''), ('representative_name__isnull', True), ('representative_name_erased_at__isnull', True)), models.Q(models.Q(('representative_kind', ''), _negated=True), models.Q(models.Q(('representative_name__isnull', False), ('representative_name_erased_at__isnull', True)), models.Q(('representative_name__isnull', True), ('representative_name_erased_at__isnull', False)), _connector='OR')), _connector='OR'), name='dsr_representative_named'),
        ),
    ]
