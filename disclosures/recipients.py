"""The recipients of a person's data in the disclosure register, for GDPR art. 19 (the kernel's registry asks for
them when a rectification, erasure or restriction is carried out): the bodies a delivered disclosure about the person
went to, of those disclosures the person is told of (selectors_notice.disclosures_told_of: a sent notice, or a draft
while the decision is to notify).

What the DPO may see, decided from LEGAL.md (art. 19 "except LE under secrecy"; 4.1(8) and section 5 row 18: notice
follows once secrecy expires; UAVG art. 41): the DPO (accounts/dsr, the DPO role only) never sees the disclosure
register itself (its pages and admin are the legal officers'; the retention page shows the DPO a legal hold a
disclosure request placed, by its number, never to whom it went), so the art. 19 list is the only place a recipient
reaches the DPO, and it must not reveal what the law keeps from the person.
- A disclosure under a running secrecy order, or one the officers decided not to tell the person of (no notice:
  Sv 126n and the like, UAVG art. 41), is named nowhere: not to the DPO, not to the person. Its existence is
  itself what is secret, from staff outside the legal desk too.
- A disclosure whose secrecy order has ended, with the decision to notify, but whose withheld notice no officer
  has sent yet, is no longer secret: only the sending is owed. The DPO's page shows it as pending
  (`disclosure_recipients_awaiting_notice`), so that the DPO knows a recipient is to be told once the notice goes
  out, and can ask the officers to send it; it is not stored as a RecipientNotification and so is in neither the
  person's export nor their pages. When the notice is sent, services/notices.py lists it as a recipient like any
  other (accounts.dsr.recipients.recipient_notifications_sync), and the DPO records telling it then."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import DisclosureRequest
from .selectors_notice import disclosures_awaiting_notice, disclosures_told_of


def _rows(reqs: QuerySet[DisclosureRequest]) -> list[dict]:
    reqs = reqs.select_related("authority").order_by("delivered_at", "pk")
    return [{"key": f"disclosure:{r.pk}", "recipient": r.authority.name, "recipient_kind": r.authority.kind,
             "disclosed_at": r.delivered_at} for r in reqs]


def disclosure_recipients_of_user(user: Any) -> list[dict]:
    return _rows(disclosures_told_of(user))


def disclosure_recipients_awaiting_notice(user: Any) -> list[dict]:
    """The recipients of disclosures about `user` whose secrecy order ended but whose notice is not yet sent: for
    the DPO's art. 19 list only, as pending."""
    return _rows(disclosures_awaiting_notice(user))
