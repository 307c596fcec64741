# A notice not withheld is created at delivery as a draft that an officer reviews and sends (LEGAL.md row 18:
# "a civil case defaults to a notification draft"). Choices only: no row changes; notices already sent stay sent.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('disclosures', '0010_authority_email_domains_four_eyes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notice',
            name='state',
            field=models.CharField(choices=[('draft', 'Draft (to review)'), ('withheld', 'Withheld (secrecy order)'),
                                            ('sent', 'Sent')], max_length=10),
        ),
    ]
