"""A note on a call (GDPR art. 16): what the customer states about a CDR, written by the DPO while handling a
rectification request. The call itself is never changed: the switch recorded it, and it is the evidence of
what happened on the network; the note travels with it (call history, API, data-subject export) and goes
when the call goes.

No foreign key to the CDR: on PostgreSQL traffic_cdr is partitioned by month with the key (id, started_at),
which a foreign key cannot name, and a month leaves by DETACH, not by cascading deletes. The note stores the
CDR's id and start, as the hold table and the technical rows do; the purge and erasure delete the notes of
the calls they delete (traffic.services.annotations)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class CdrAnnotation(models.Model):
    cdr_id = models.BigIntegerField()
    started_at = models.DateTimeField()  # the call's start: its month's key seals the text
    # Whose call it is (the CDR's account when the note was written): the customer's pages and export read
    # their notes by it. account_time_idx covers the foreign key.
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    dsr_request = models.ForeignKey("accounts.DataSubjectRequest", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # The text (personal data: the customer's statement) under the call's month key (traffic.keys), so the
    # shred of the month makes every copy unreadable, backups included; see `kept_at`.
    text_enc = models.BinaryField()
    # Set when the call's month was dropped and the call kept in the hold table (a legal hold, an unpaid or
    # disputed invoice): from then on the text is sealed under the master key, as the kept call's numbers are.
    kept_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["cdr_id"], name="cdrnote_cdr_idx"),  # the notes of a page of calls
            models.Index(fields=["account", "started_at"], name="cdrnote_account_time_idx"),  # a person's notes
            models.Index(fields=["started_at"], name="cdrnote_time_idx"),  # a purged month's notes
        ]

    def __str__(self) -> str:
        return f"note {self.pk} on call {self.cdr_id}"
