"""The database itself refuses to change or delete audit entries.

The only UPDATE allowed is the sealer's single transition of an unsealed entry (entry_hash '')
to sealed, and it may touch only seq, prev_hash and entry_hash. Everything else raises.
"""
from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION voipxs_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit log is append-only: DELETE refused';
    END IF;
    IF OLD.entry_hash <> '' OR OLD.seq IS NOT NULL
       OR NEW.id IS DISTINCT FROM OLD.id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.actor IS DISTINCT FROM OLD.actor
       OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.purpose IS DISTINCT FROM OLD.purpose
       OR NEW.target_type IS DISTINCT FROM OLD.target_type
       OR NEW.target_id IS DISTINCT FROM OLD.target_id
       OR NEW.outcome IS DISTINCT FROM OLD.outcome
       OR NEW.extra::text IS DISTINCT FROM OLD.extra::text THEN
        RAISE EXCEPTION 'audit log is append-only: UPDATE refused';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER voipxs_audit_append_only
    BEFORE UPDATE OR DELETE ON voipxs_auditentry
    FOR EACH ROW EXECUTE FUNCTION voipxs_audit_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS voipxs_audit_append_only ON voipxs_auditentry;
DROP FUNCTION IF EXISTS voipxs_audit_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER voipxs_audit_no_delete BEFORE DELETE ON voipxs_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END""",
    """CREATE TRIGGER voipxs_audit_no_update BEFORE UPDATE ON voipxs_auditentry
       WHEN OLD.entry_hash <> '' OR OLD.seq IS NOT NULL OR NEW.id IS NOT OLD.id
         OR NEW.created_at IS NOT OLD.created_at OR NEW.actor IS NOT OLD.actor
         OR NEW.action IS NOT OLD.action OR NEW.purpose IS NOT OLD.purpose
         OR NEW.target_type IS NOT OLD.target_type OR NEW.target_id IS NOT OLD.target_id
         OR NEW.outcome IS NOT OLD.outcome OR NEW.extra IS NOT OLD.extra
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS voipxs_audit_no_delete", "DROP TRIGGER IF EXISTS voipxs_audit_no_update"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    statements = [PG_BACKWARD] if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("voipxs", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
