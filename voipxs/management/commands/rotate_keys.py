"""Re-encrypt personal data written under an older FIELD_ENCRYPTION_KEYS key with the newest one.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy, run
`python manage.py rotate_keys`, and only once it reports nothing left to rotate remove the old key.
The command finds every model with an EncryptedTextField through the app registry (voipxs imports
no app), walks each table in primary-key order in batches, one transaction per batch, and writes
back only the rows whose ciphertext names an older key. Then it runs the rotators other apps
registered (voipxs.privacy.registry.register_rotator). It prints counts, never values; a row that no
configured key decrypts is counted and makes the command fail at the end. Each table's walk, a dry run's
too, leaves an audit entry with its counts under the purpose SECURITY (voipxs.privacy.rotation).
"""
from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import BinaryField
from django.db.models.functions import Cast

from voipxs.privacy import crypto, registry
from voipxs.privacy.fields import EncryptedTextField
from voipxs.privacy.rotation import rotation_recorded


def encrypted_fields() -> list[tuple[type, list[str]]]:
    """(model, [field names]) for every concrete model with an EncryptedTextField."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def rotate_model(model: type, field_names: list[str], *, batch_size: int, dry_run: bool) -> dict:
    """Counts for one model: rows scanned, values rotated, values that no configured key decrypts. The walk
    leaves its audit entry with these counts (voipxs.privacy.rotation.rotation_recorded)."""
    with rotation_recorded(model._meta.label, dry_run=dry_run) as counts:
        counts.update(scanned=0, rotated=0, undecryptable=0)
        _rotate_rows(model, field_names, counts, batch_size=batch_size, dry_run=dry_run)
    return dict(counts)


def _rotate_rows(model: type, field_names: list[str], counts: dict, *, batch_size: int, dry_run: bool) -> None:
    pk_name = model._meta.pk.attname
    # Cast to a plain BinaryField so the ORM hands back the stored ciphertext, not the decrypted text.
    raw = {f"_raw_{name}": Cast(name, output_field=BinaryField()) for name in field_names}
    manager = model._base_manager
    last = None
    while True:
        with transaction.atomic():
            qs = manager.order_by(pk_name)
            if last is not None:
                qs = qs.filter(**{f"{pk_name}__gt": last})
            if not dry_run:
                qs = qs.select_for_update()
            rows = list(qs.annotate(**raw).values_list(pk_name, *raw.keys())[:batch_size])
            if not rows:
                break
            for pk, *values in rows:
                changes = {}
                for name, value in zip(field_names, values):
                    if value is None:
                        continue
                    token = bytes(value)
                    try:
                        if not crypto.needs_rotation(token):
                            continue
                        plaintext = crypto.decrypt_bytes(token)
                    except crypto.CryptoError:
                        counts["undecryptable"] += 1
                        continue
                    changes[name] = crypto.encrypt_bytes(plaintext)
                if changes:
                    counts["rotated"] += len(changes)
                    if not dry_run:
                        # Bytes go to the column as they are (EncryptedTextField treats bytes as ciphertext);
                        # update() leaves the blind indexes alone, which do not change with the key.
                        manager.filter(**{pk_name: pk}).update(**changes)
            counts["scanned"] += len(rows)
            last = rows[-1][0]


class Command(BaseCommand):
    help = "Re-encrypt values written under an older FIELD_ENCRYPTION_KEYS key with the newest key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows per transaction (default 1000).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be rotated; write nothing.")

    def handle(self, *args, batch_size: int, dry_run: bool, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        crypto.keyring()  # fail before any work when the keys are missing or malformed
        verb = "would rotate" if dry_run else "rotated"
        undecryptable = 0
        tables = set(connection.introspection.table_names())
        for model, names in encrypted_fields():
            if model._meta.db_table not in tables:
                # No table means no rows under any key (its migration is not applied yet): nothing to rotate.
                self.stdout.write(f"{model._meta.label}: no table yet (migration not applied), skipped")
                continue
            counts = rotate_model(model, names, batch_size=batch_size, dry_run=dry_run)
            undecryptable += counts["undecryptable"]
            self.stdout.write(
                f"{model._meta.label} ({', '.join(names)}): scanned {counts['scanned']}, {verb} {counts['rotated']}"
                + (f", undecryptable {counts['undecryptable']}" if counts["undecryptable"] else "")
            )
        for name, rotator in sorted(registry.rotators().items()):
            counts = rotator(batch_size=batch_size, dry_run=dry_run)
            undecryptable += int(counts.get("undecryptable", 0))
            self.stdout.write(f"{name}: scanned {counts.get('scanned', 0)}, {verb} {counts.get('rotated', 0)}")
        if undecryptable:
            raise CommandError(
                f"{undecryptable} value(s) decrypt with none of the configured keys; was a key removed too early?"
            )
        self.stdout.write(self.style.SUCCESS("Dry run: no data changed (the audit log records the counts)." if dry_run else "Key rotation done."))
