"""Model fields that keep personal data encrypted at rest.

`EncryptedTextField` stores AES-GCM ciphertext (bytea/blob) and hands Python code the plaintext.
`BlindIndexField` fills itself from another field on save with an HMAC of the normalised value, so
an exact lookup (`email_index=blind_index(...)`) works without decrypting the table.
"""
from __future__ import annotations

from typing import Any, Callable

from django.db import models

from . import crypto


class EncryptedTextField(models.BinaryField):
    description = "Text encrypted with AES-256-GCM"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return crypto.decrypt_str(bytes(value))

    def to_python(self, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return crypto.decrypt_str(bytes(value))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            # Already ciphertext (e.g. rotate_keys copying a re-encrypted value).
            return connection.Database.Binary(bytes(value))
        return connection.Database.Binary(crypto.encrypt_str(str(value)))

    def value_to_string(self, obj: models.Model) -> str:
        # Fixtures and serializers must never dump plaintext or ciphertext of personal data.
        return ""

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms
        from django.utils.text import capfirst

        # As Django's own fields do: the form labels the field with its verbose name (translated), not its name.
        kwargs.setdefault("label", capfirst(self.verbose_name))
        kwargs.setdefault("help_text", self.help_text)
        return forms.CharField(required=not self.blank, **kwargs)


class BlindIndexField(models.CharField):
    description = "HMAC-SHA256 blind index of another field"

    def __init__(
        self,
        *args: Any,
        source: str,
        domain: str,
        normalizer: Callable[[str], str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        self.source, self.domain, self.normalizer = source, domain, normalizer
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, domain=self.domain)
        for key in ("max_length", "editable"):
            kwargs.pop(key, None)
        if kwargs.get("db_index") is True:
            kwargs.pop("db_index")
        return name, path, args, kwargs

    def index_of(self, value: str | None) -> str | None:
        if value is None:
            return None
        normalizer = self.normalizer
        if isinstance(normalizer, str):
            normalizer = getattr(self.model, normalizer)
        return crypto.blind_index(normalizer(value) if normalizer else value, domain=self.domain)

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
