"""GDPR art. 19 and an erasure replayed after a restore (retention/backup/erasures.py): the restored database lacks
the recipients listed for the erasure, which came after the backup; the replay lists them again for the erasure's
request, as the erasure did, and leaves those already listed alone (one row per recipient and request, however often
it runs). A request the erasure closed unanswered was not carried out: it lists nobody, then or later."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import localdate, now

from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from accounts.dsr.recipients import recipient_notifications_sync
from accounts.dsr.services import dsr_erasure_replay, dsr_request_complete, dsr_request_create
from disclosures.services.notices import disclosure_notice_send
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.factories import PASSWORD
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind = DataSubjectRequest.Kind
BODY = "Politie Eenheid Test"  # delivered_disclosure's authority


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _replay(user, request_id: int) -> bool:
    """The erasure of `user` as the key backup lists it, replayed: erased a day ago, the backup older."""
    erased_at = now() - timedelta(days=1)
    return dsr_erasure_replay(account_id=user.pk, account_created=user.date_joined, request_id=request_id,
                              received_at=erased_at - timedelta(minutes=1), erased_at=erased_at, backup="backup-test")


def _listed(request_id: int) -> list[tuple[str, object]]:
    return [(n.recipient, n.notified_on) for n in RecipientNotification.objects.filter(request_id=request_id)]


class ReplayedErasureRecipientsTests:
    def test_the_replayed_erasure_lists_the_recipients_again(self, alice, legal1):
        told = delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        told.delivered_at = now() - timedelta(days=2)  # before the erasure the replay dates its request at
        told.save(update_fields=["delivered_at"])
        assert _replay(alice, 9911)
        assert _listed(9911) == [(BODY, None)]  # for the DPO to tell, as after the erasure itself
        entry = AuditEntry.objects.get(action="dsr.recipients_listed", target_id="9911")
        assert (entry.actor, entry.purpose, entry.extra) == ("system:erasure_replay", "legal_obligation",
                                                             {"recipients": 1})

    def test_it_lists_no_recipient_of_a_disclosure_after_the_original_erasure(self, alice, legal1):
        delivered_disclosure(user=alice, officer=legal1, reference="LATER-1", secrecy_days=None)  # delivered now
        assert _replay(alice, 9912)
        assert _listed(9912) == []

    def test_a_second_replay_and_a_later_sync_list_nothing_twice(self, alice, legal1, dpo):
        told = delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        told.delivered_at = now() - timedelta(days=2)
        told.save(update_fields=["delivered_at"])
        assert _replay(alice, 9913)
        assert not _replay(alice, 9913)  # erased already: a second restore's replay changes nothing
        assert recipient_notifications_sync(user_id=alice.pk, actor=dpo) == 0
        assert _listed(9913) == [(BODY, None)]

    def test_a_request_the_erasure_closed_lists_nobody_even_when_a_notice_goes_later(self, alice, legal1):
        rectification = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong.")
        secret = delivered_disclosure(user=alice, officer=legal1, reference="SECRET-1", secrecy_days=30)
        erasure = dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)
        rectification.refresh_from_db()
        assert rectification.status == DataSubjectRequest.Status.COMPLETED  # closed by the erasure, not done
        secret.secrecy_until = localdate()  # the order ends; an officer sends the notice
        secret.save(update_fields=["secrecy_until"])
        disclosure_notice_send(actor=legal1, notice=secret.notices.get())
        assert _listed(erasure.pk) == [(BODY, None)]
        assert _listed(rectification.pk) == []

    def test_a_request_carried_out_before_the_erasure_keeps_its_record(self, alice, legal1, dpo):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        req = dsr_request_create(user=alice, kind=Kind.RESTRICTION, details="Only keep my data.")
        req = dsr_request_complete(request=req, answer="Restricted.", actor=dpo, ground="legal_claims")
        RecipientNotification.objects.filter(request=req).update(notified_on=localdate(), how="email")
        assert _replay(alice, 9914)
        assert _listed(req.pk) == [(BODY, localdate())]  # as the DPO recorded it: not listed anew
