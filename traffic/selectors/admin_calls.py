"""Reads of call records by Django's staff admin (LEGAL.md section 5 row 21: every read of call records leaves an
audit entry carrying a purpose). The read-only pages of calls (traffic/admin.py `CdrAdmin`) and of the copies a month
drop kept (retention/admin.py `HeldCdrAdmin`) read through an `AdminCallReads` (voipxs.admin.AuditedReadsAdminMixin):

- before anything is read, the purpose is checked: a role without it gets a 403 and a refused entry (a bare
  superuser without the admin role holds no purpose, as on the user admin);
- the list page records the ids of the calls it shows (`admin.<name>.list`), a call's own page (change, history,
  delete) that call's id (`admin.<name>.get`), each once the page holds them, so an entry names what was read.

Entries hold ids only: the calls' own ids, never a number, a caller name or an account (the pages show neither
numbers nor caller names; they stay encrypted). A page shows no restricted call (GDPR art. 18) unless its purpose sees
restricted rows, as `traffic.selectors.scope` rules for every read of calls."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from django.db import models
from django.db.models import QuerySet

from voipxs.privacy.purposes import Purpose, purposes_of, require_purpose

from ..models import Cdr
from .scope import SEES_RESTRICTED, objection_q


@dataclass(frozen=True)
class AdminCallReads:
    """The admin's reads of one table of call records, under one purpose."""

    model: type[models.Model]
    purpose: Purpose
    name: str  # entries "admin.<name>.list" / "admin.<name>.get"
    id_field: str = "id"  # the call's own id (the hold table keeps it as `cdr_id`)

    def queryset(self, *, actor: Any) -> QuerySet:
        """The calls the admin may show. Checks the purpose (a refusal is recorded and raises PermissionDenied) and
        records nothing else: what a page read is recorded by `page` or `get`."""
        if self.purpose not in purposes_of(actor):
            require_purpose(actor=actor, purpose=self.purpose, action=f"admin.{self.name}.read", target_type="cdr")
        # GDPR art. 21(1): an upheld objection stops this purpose for the account (scope.py `objection_q`)
        qs = self.model._default_manager.filter(objection_q(self.purpose))
        return qs if self.purpose in SEES_RESTRICTED else qs.filter(restricted_at__isnull=True)

    def page(self, *, actor: Any, rows: Iterable) -> list:
        """One list page's calls, read here and recorded by their ids."""
        rows = list(rows)
        require_purpose(actor=actor, purpose=self.purpose, action=f"admin.{self.name}.list", target_type="cdr",
                        extra={"ids": [getattr(row, self.id_field) for row in rows]})
        return rows

    def get(self, *, actor: Any, obj: Any) -> Any:
        """A call's own page: recorded by the call's id, or as a look-up that found nothing (the id typed into the
        address is not written: it is whatever was typed)."""
        require_purpose(actor=actor, purpose=self.purpose, action=f"admin.{self.name}.get", target_type="cdr",
                        target_id=getattr(obj, self.id_field) if obj is not None else "",
                        extra={"found": obj is not None})
        return obj


# The administrators' pages of calls serve operating the service: whether ingest stores and rates what the switches
# send, which import and source a call came from. No purpose of the register is "operations"; support's purpose
# (CUSTOMER_SUPPORT) sees no traffic by its own definition; the admin role holds SECURITY, the purpose of securing the
# service (Tw art. 11.5(1)), under which the user admin and the administrators' imports read too. So SECURITY: it sees
# no restricted call.
CDR_ADMIN_READS = AdminCallReads(model=Cdr, purpose=Purpose.SECURITY, name="cdr")
