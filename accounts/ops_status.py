"""What accounts' records say is late, for the DPO's and administrators' warnings (voipxs/ops.py): a CIOT sync that
has stopped, and mail owed to people and still not delivered. Registered from AccountsConfig.ready. Counts and
times only: no personal data is read."""
from __future__ import annotations

from datetime import datetime

from voipxs.ops import ops_checks_register

from .ciot.services import ciot_sync_stale_since
from .dsr.models import DataSubjectRequest, PolicyVersion, Restriction
from .models import User


def _ciot_stale_since(moment: datetime) -> datetime | None:
    return ciot_sync_stale_since(at=moment)


def mail_owed_before(cutoff: datetime) -> int:
    """Mails owed a person since before `cutoff`: support's change of itemised bills, a restriction's lift or
    continuation, a request's extension, a policy change's remaining batches."""
    return (User.objects.filter(itemisation_notice_due_at__lt=cutoff).count()
            + DataSubjectRequest.objects.filter(extension_notice_due_at__lt=cutoff).count()
            + Restriction.objects.filter(lift_notice_asked_at__lt=cutoff, lift_notice_sent_at__isnull=True,
                                         lifted_at__isnull=True).count()
            + Restriction.objects.filter(continuation_notice_due_at__lt=cutoff, lifted_at__isnull=True).count()
            + PolicyVersion.objects.filter(email_due_at__lt=cutoff, emailed_at__isnull=True).count())


ops_checks_register(stale_sync=_ciot_stale_since, mail_owed=mail_owed_before)
