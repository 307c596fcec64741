"""The role groups of network operations (CDR sources and imports) and the fraud analyst (blocked click-to-call
prefixes): voipxs.privacy.purposes.Role, each with the purposes SELF_SERVICE and SECURITY (LEGAL.md section 5 row 6).
Made as 0002 made the first roles; a group is a role's name, so it is never renamed or edited by hand."""
from django.db import migrations

ROLES = ["noc", "fraud"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0029_policy_v1_dutch_text"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [
        # Backwards leaves the groups: members may hold them, and removing a role is a decision, not a rollback.
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
