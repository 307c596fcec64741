"""The live push's model: a source's HTTP basic credential (traffic/push/credentials.py). Defined here, with the
push, and imported by traffic/models.py, so it is a model of the traffic app like any other."""
from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from ..models import Source


class PushCredential(models.Model):
    """The HTTP basic credential a switch pushes its CDRs with (traffic/push). Only the SHA-256 of the
    password is kept: the password is 32 random bytes, shown once (`cdr_source add --push`), so a fast
    hash is as safe as a slow one and costs nothing per push."""

    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="push_credential")
    username = models.CharField(max_length=80, unique=True)
    password_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.username
