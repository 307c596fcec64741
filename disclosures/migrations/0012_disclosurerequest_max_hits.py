# ETSI TS 102 657 RequestMessage `maxHits [4] INTEGER OPTIONAL` (LEGAL.md row 16): the authority's cap on the
# number of records. Nullable: requests already taken in have no cap, and no row changes.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('disclosures', '0011_notice_draft_state'),
    ]

    operations = [
        migrations.AddField(
            model_name='disclosurerequest',
            name='max_hits',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name='disclosurerequest',
            constraint=models.CheckConstraint(condition=models.Q(('max_hits__gte', 1)),
                                              name='disclosure_max_hits_positive'),
        ),
    ]
