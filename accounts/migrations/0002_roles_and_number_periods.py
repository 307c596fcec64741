"""Role groups, and on PostgreSQL an exclusion constraint: one number, one holder at any moment."""
from django.db import migrations

ROLES = ["customer", "contractor_admin", "billing", "legal_officer", "dpo", "support", "admin"]

PG_FORWARD = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE accounts_phonenumber ADD CONSTRAINT phone_no_overlapping_holders
    EXCLUDE USING gist (number_index WITH =, tstzrange(valid_from, valid_to, '[)') WITH &&);
"""
PG_BACKWARD = "ALTER TABLE accounts_phonenumber DROP CONSTRAINT IF EXISTS phone_no_overlapping_holders;"


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def constraint_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)


def constraint_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(constraint_forward, constraint_backward),
    ]
