"""Trimming the audit log (retention, 5 years) without giving up append-only.

- Anchors (voipxs_auditanchor) are append-only: UPDATE and DELETE raise.
- An audit entry may be deleted only when it is sealed and its seq is at or below the highest
  anchor's up_to_seq; the anchor is written (and committed) before the trim deletes anything, so
  the chain verifies from the anchor on. Every other DELETE still raises. The UPDATE rules of 0002
  are unchanged: its trigger keeps its function and now fires on UPDATE only.
"""
from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION voipxs_audit_delete_behind_anchor() RETURNS trigger AS $$
BEGIN
    IF OLD.seq IS NOT NULL AND OLD.entry_hash <> ''
       AND OLD.seq <= (SELECT max(up_to_seq) FROM voipxs_auditanchor) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: DELETE refused (only sealed entries behind an anchor may go)';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER voipxs_audit_append_only ON voipxs_auditentry;
CREATE TRIGGER voipxs_audit_append_only
    BEFORE UPDATE ON voipxs_auditentry
    FOR EACH ROW EXECUTE FUNCTION voipxs_audit_append_only();
CREATE TRIGGER voipxs_audit_delete_behind_anchor
    BEFORE DELETE ON voipxs_auditentry
    FOR EACH ROW EXECUTE FUNCTION voipxs_audit_delete_behind_anchor();

CREATE OR REPLACE FUNCTION voipxs_audit_anchor_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit anchors are append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER voipxs_audit_anchor_append_only
    BEFORE UPDATE OR DELETE ON voipxs_auditanchor
    FOR EACH ROW EXECUTE FUNCTION voipxs_audit_anchor_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS voipxs_audit_anchor_append_only ON voipxs_auditanchor;
DROP FUNCTION IF EXISTS voipxs_audit_anchor_append_only();
DROP TRIGGER IF EXISTS voipxs_audit_delete_behind_anchor ON voipxs_auditentry;
DROP FUNCTION IF EXISTS voipxs_audit_delete_behind_anchor();
DROP TRIGGER voipxs_audit_append_only ON voipxs_auditentry;
CREATE TRIGGER voipxs_audit_append_only
    BEFORE UPDATE OR DELETE ON voipxs_auditentry
    FOR EACH ROW EXECUTE FUNCTION voipxs_audit_append_only();
"""
# SQLite: same trigger name as 0002 (tools that lift it by name keep working), narrower condition.
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS voipxs_audit_no_delete",
    """CREATE TRIGGER voipxs_audit_no_delete BEFORE DELETE ON voipxs_auditentry
       WHEN OLD.seq IS NULL OR OLD.entry_hash = ''
         OR OLD.seq > COALESCE((SELECT MAX(up_to_seq) FROM voipxs_auditanchor), 0)
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused (only sealed entries behind an anchor may go)'); END""",
    """CREATE TRIGGER voipxs_audit_anchor_no_update BEFORE UPDATE ON voipxs_auditanchor
       BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER voipxs_audit_anchor_no_delete BEFORE DELETE ON voipxs_auditanchor
       BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only: DELETE refused'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS voipxs_audit_anchor_no_update",
    "DROP TRIGGER IF EXISTS voipxs_audit_anchor_no_delete",
    "DROP TRIGGER IF EXISTS voipxs_audit_no_delete",
    """CREATE TRIGGER voipxs_audit_no_delete BEFORE DELETE ON voipxs_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END""",
]


def _execute(schema_editor, *, postgresql: list[str], sqlite: list[str]) -> None:
    statements = {"postgresql": postgresql, "sqlite": sqlite}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)  # no %-interpolation: the PG text holds a literal %


def forward(apps, schema_editor):
    _execute(schema_editor, postgresql=[PG_FORWARD], sqlite=SQLITE_FORWARD)


def backward(apps, schema_editor):
    _execute(schema_editor, postgresql=[PG_BACKWARD], sqlite=SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("voipxs", "0003_auditanchor")]
    operations = [migrations.RunPython(forward, backward)]
