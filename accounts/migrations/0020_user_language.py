# The language a person chose in the portal, for the e-mails the system sends them (voipxs.mail.person_language).
# Empty for everyone until they choose: they keep getting the site's default language, as before.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0019_notices_waiting"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="language",
            field=models.CharField(blank=True, choices=[("en", "English"), ("nl", "Dutch")], default="", max_length=8,
                                   verbose_name="language"),
        ),
    ]
