"""The voipxs app's models are the privacy kernel's audit log (voipxs/privacy/models.py); Django looks
for an app's models here, so they are named here once."""
from __future__ import annotations

from .privacy.models import AuditAnchor, AuditEntry

__all__ = ["AuditAnchor", "AuditEntry"]
