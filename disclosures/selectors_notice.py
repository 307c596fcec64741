"""Which handed-over disclosures a person is told of, and which are only waiting for their notice to be sent.
Shared by the person's export (selectors.disclosures_about_user, disclosures_withheld_from_user) and the recipients
of GDPR art. 19 (recipients.py), so both draw the same line.

- Told of (`disclosures_told_of`): a sent notice, or a draft while the decision is to notify. The person reads
  these in their export, and the DPO tells their recipients of a rectification, erasure or restriction.
- Awaiting the notice (`disclosures_awaiting_notice`): the secrecy order has ended (`secrecy_until`, the first day a
  notice may go, is today or earlier in Amsterdam, as services/notices.py counts it) and the decision is to notify, but no officer has sent the
  withheld notice yet. Only the DPO's art. 19 list names these, as pending (LEGAL.md 4.1(8), section 5 row 18:
  notice follows once secrecy expires); the person learns of them from the notice, never before.
- Neither: a running secrecy order, or a decision not to tell the person (Sv 126n and the like, UAVG art. 41).
  Nobody outside the legal officers learns of these, the DPO included.

Plain reads without an actor: the callers (the export, the DPO's selectors in accounts/dsr/recipients.py) check the
purpose and record the access."""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.timezone import localdate

from .models import DisclosureRequest, Notice, Status

HANDED_OVER = Q(status__in=[Status.DELIVERED, Status.CLOSED], delivered_at__isnull=False)


def disclosures_told_of(user) -> QuerySet[DisclosureRequest]:
    """The handed-over requests `user` is told of: a sent notice, or a draft while the decision is to notify (the
    export lists the disclosure, a recipient of their data, not the draft: the notice itself is the officer's
    to review and send)."""
    told = Notice.objects.filter(request=OuterRef("pk"), user=user).filter(
        Q(state=Notice.State.SENT) | Q(state=Notice.State.DRAFT, request__notice_user=True))
    return DisclosureRequest.objects.filter(Exists(told)).filter(HANDED_OVER)


def disclosures_awaiting_notice(user) -> QuerySet[DisclosureRequest]:
    """The handed-over requests whose notice to `user` is withheld although the secrecy order has ended and the
    decision is to notify: the officers still have to send it. Never one whose order still runs (`secrecy_until`
    after today) nor one the person is not to be told of."""
    ended = Q(request__secrecy_until__isnull=True) | Q(request__secrecy_until__lte=localdate())
    waiting = Notice.objects.filter(request=OuterRef("pk"), user=user, state=Notice.State.WITHHELD,
                                    request__notice_user=True).filter(ended)
    return DisclosureRequest.objects.filter(Exists(waiting)).filter(HANDED_OVER)
