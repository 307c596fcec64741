"""GDPR art. 17: the free texts of a person's data-subject requests go with their erased or anonymised account.

What the person wrote (`details`: what is wrong with their data, what they ask, their complaint or grounds), the
extension's reason and the answer as it stood (both often quote their data), and an objection's balancing record
(dsr/objection.py), on every request of theirs, of every kind, open or closed. What stays is the record of
compliance: the kind, the dates, status, outcome codes, the representative's kind and check, and the audit entries
(which never held the texts). `texts_erased_at` says when, and the DPO's page says so where the text was.

Timing, in an erasure (dsr/services.py dsr_erasure_perform): the texts go inside erasure_apply, before the
erasure's own answer is composed and stored, and before the person's other open requests are closed with their
fixed sentence (dsr/open_requests.py open_requests_close). Those two answers are the system's, name no data, and
stay: the person reads the erasure's on the page that follows their confirmation (their e-mail address is gone with
the account, so no mail is sent), and the DPO sees both as the record of what the person was told. The retention
purge's anonymisation (accounts/services/closing.py account_anonymise) closes the open ones the same way, after the
texts go, with its own sentence."""
from __future__ import annotations

from datetime import datetime

from .models import DataSubjectRequest, ExportFile
from .objection import objection_texts_erase


def request_texts_erase(*, user_id: int, stamp: datetime) -> dict[str, int]:
    """Blank the free texts of every request of the person's (the caller, accounts/services/closing.py, holds the
    account's row lock and writes the audit entry with these counts). Texts erased before stay so, with their
    date."""
    # Lock order: an export's build holds its export, then its request (dsr/export.py); so the person's exports are
    # locked before the update touches an access or portability request (erasure_apply locks them after this too).
    list(ExportFile.objects.select_for_update().filter(user_id=user_id).order_by("pk").values_list("pk", flat=True))
    counts = objection_texts_erase(user_id=user_id, stamp=stamp)
    rows = (DataSubjectRequest.objects.filter(user_id=user_id, texts_erased_at__isnull=True)
            .update(details="", extension_reason="", answer="", texts_erased_at=stamp))
    return {**counts, "request_texts_erased": rows}
