"""GDPR art. 19 and a secrecy order that has ended (disclosures/recipients.py says why): the DPO's page of a request
carried out shows the recipient of a disclosure whose secrecy order ended but whose notice no officer has sent yet
as pending, with nothing to record; the person finds it neither in their export nor on their pages; once the notice
is sent it is a recipient like any other. A disclosure whose secrecy order still runs, or which the officers decided
not to tell the person of (UAVG art. 41), stays hidden from the DPO's page as from the person."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from disclosures.services.notices import disclosure_notice_send
from tests.accounts.dsr_helpers import access_export, delivered_disclosure, export_json_valid, section
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind = DataSubjectRequest.Kind
BODY = "Politie Eenheid Test"  # delivered_disclosure's authority
PENDING = "Pending: the person's notice is not yet sent"


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _secret(user, officer, *, ends_in_days: int, notify: bool = True):
    """A disclosure about `user` delivered under a secrecy order whose first day of notice is `ends_in_days` from
    today (0: today, negative: past); its notice withheld, as delivery leaves it."""
    req = delivered_disclosure(user=user, officer=officer, reference="SECRET-1", secrecy_days=30)
    req.secrecy_until, req.notice_user = localdate() + timedelta(days=ends_in_days), notify
    req.save(update_fields=["secrecy_until", "notice_user"])
    return req


def _rectified(user, dpo) -> DataSubjectRequest:
    req = dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My number's label is wrong.")
    return dsr_request_complete(request=req, answer="We corrected it.", actor=dpo)


def _dpo_page(client, dpo, req) -> str:
    return verified_client(client, dpo).get(reverse("accounts_dsr:dpo-request", args=[req.pk])).content.decode()


class PendingRecipientTests:
    def test_the_dpo_sees_a_recipient_whose_secrecy_ended_as_pending_with_nothing_to_record(
            self, client, alice, legal1, dpo):
        _secret(alice, legal1, ends_in_days=-1)
        req = _rectified(alice, dpo)
        page = _dpo_page(client, dpo, req)
        assert BODY in page and PENDING in page
        assert "Not yet notified" not in page and "dpo-recipient-notified" not in page
        assert "No recipients to notify." not in page
        assert not RecipientNotification.objects.filter(request=req).exists()  # not stored: not the person's
        assert AuditEntry.objects.filter(action="dsr.recipients_awaiting_notice", target_id=str(req.pk),
                                         purpose="legal_obligation").exists()

    def test_a_secrecy_order_ending_today_has_ended(self, client, alice, legal1, dpo):
        _secret(alice, legal1, ends_in_days=0)  # the notice may go today (services/notices.py)
        assert PENDING in _dpo_page(client, dpo, _rectified(alice, dpo))

    def test_the_person_never_learns_of_it_before_the_notice(self, client, alice, legal1, dpo,
                                                            django_capture_on_commit_callbacks):
        _secret(alice, legal1, ends_in_days=-1)
        _rectified(alice, dpo)
        data = export_json_valid(access_export(alice, django_capture_on_commit_callbacks))
        assert section(data, "recipient_notifications")["rows"] == []
        assert section(data, "disclosures")["rows"] == []
        assert BODY not in str(data) and "SECRET-1" not in str(data)
        notices = verified_client(client, alice).get(reverse("disclosures:notices")).content.decode()
        assert BODY not in notices

    def test_once_the_notice_is_sent_it_is_a_recipient_to_notify_like_any_other(self, client, alice, legal1, dpo):
        secret = _secret(alice, legal1, ends_in_days=-1)
        req = _rectified(alice, dpo)
        disclosure_notice_send(actor=legal1, notice=secret.notices.get())
        assert [n.recipient for n in RecipientNotification.objects.filter(request=req)] == [BODY]
        page = _dpo_page(client, dpo, req)
        assert PENDING not in page and "Not yet notified" in page
        assert page.count(BODY) == 1  # one row: listed, no longer pending

    def test_a_running_secrecy_order_stays_hidden_from_the_dpo(self, client, alice, legal1, dpo):
        _secret(alice, legal1, ends_in_days=1)  # the first day of notice is tomorrow
        page = _dpo_page(client, dpo, _rectified(alice, dpo))
        assert BODY not in page and PENDING not in page
        assert "No recipients to notify." in page

    def test_a_decision_not_to_tell_the_person_stays_hidden_from_the_dpo(self, client, alice, legal1, dpo):
        _secret(alice, legal1, ends_in_days=-1, notify=False)  # UAVG art. 41: no notice, by decision
        page = _dpo_page(client, dpo, _rectified(alice, dpo))
        assert BODY not in page and PENDING not in page

    def test_a_disclosure_after_the_request_was_carried_out_is_not_pending_for_it(self, client, alice, legal1, dpo):
        req = _rectified(alice, dpo)
        _secret(alice, legal1, ends_in_days=-1)
        assert BODY not in _dpo_page(client, dpo, req)

    def test_an_open_request_shows_nothing_pending(self, client, alice, legal1, dpo):
        _secret(alice, legal1, ends_in_days=-1)
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My number's label is wrong.")
        assert BODY not in _dpo_page(client, dpo, req)
