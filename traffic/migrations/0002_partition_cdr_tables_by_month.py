"""On PostgreSQL, turn traffic_cdr and traffic_cdrtechnical into tables partitioned by month.

Why: a month of CDRs past retention is removed by DETACH + DROP of its partition, which costs the
same for a thousand rows or ten million (retention/purge.py); a batched DELETE would be ~40x slower
and bloat the table. Primary key (id, started_at) because a partitioned table's unique keys must
contain the partition key; ids still come from one sequence, so `id` alone stays unique. There is
no DEFAULT partition: a row for a month without a partition is an error, and `traffic.partitions`
creates months ahead (beat) and on demand (ingest). SQLite keeps the ordinary tables of 0001.

The tables are empty when this runs (it follows their creation), so they are rebuilt, not copied.
"""
from django.db import migrations

TABLES = {
    "traffic_cdr": "Cdr",
    "traffic_cdrtechnical": "CdrTechnical",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, model_name in TABLES.items():
        model = apps.get_model("traffic", model_name)
        schema_editor.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
        schema_editor.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            f"PARTITION BY RANGE (started_at)"
        )
        schema_editor.execute(f"DROP TABLE {table}_unpartitioned CASCADE")
        # The identity column was not copied; a sequence owned by the column keeps
        # pg_get_serial_sequence() (and so Django's sequence resets) working.
        schema_editor.execute(f"CREATE SEQUENCE {table}_id_seq AS bigint OWNED BY {table}.id")
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, started_at)")
        for index in model._meta.indexes:
            schema_editor.add_index(model, index)
        for constraint in model._meta.constraints:
            schema_editor.add_constraint(model, constraint)
    schema_editor.execute(
        "ALTER TABLE traffic_cdr ADD CONSTRAINT traffic_cdr_source_id_fk FOREIGN KEY (source_id) "
        "REFERENCES traffic_source (id) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [("traffic", "0001_initial")]
    # Not reversible: going back would mean copying every partition into one table.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
