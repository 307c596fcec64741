import importlib

from django.db import migrations

# traffic's migration that added Invoice.charged_for_duration: its detection, run here over the hold table as well
_CHARGED = importlib.import_module("traffic.migrations.0027_invoice_charged_for_duration")


def held_charged_as_found(apps, schema_editor):
    """traffic 0027 for the invoices whose pre-cap calls a month drop had copied to the hold table (an open or
    disputed invoice's): each summed over its calls in both tables."""
    cdrs, held = apps.get_model("traffic", "Cdr"), apps.get_model("retention", "HeldCdr")
    _CHARGED.stored_priced_mark(apps, found_in=[held], summed_over=[cdrs, held])


class Migration(migrations.Migration):

    dependencies = [
        ("retention", "0007_field_labels"),
        ("traffic", "0027_invoice_charged_for_duration"),
    ]

    operations = [
        migrations.RunPython(held_charged_as_found, migrations.RunPython.noop),
    ]
