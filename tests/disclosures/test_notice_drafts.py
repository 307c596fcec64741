"""The notice to the user as a draft (LEGAL.md section 5, row 18: "a civil case defaults to a notification
draft"; "a case with secrecy until date D sends no notification before D and creates a reminder task at D").
At delivery a civil or dispute case's notice is a draft: the user sees nothing yet (page, API), the officers see
what the user will be told and send it after a confirmation page; the transparency report counts only sent
notices; a draft left unsent is reminded once. The clock is frozen by passing `now`."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils.formats import date_format
from django.utils.timezone import localdate, localtime, now
from rest_framework.test import APIClient

from disclosures.models import DisclosureRequest, LegalBasis, Notice
from disclosures.selectors import disclosures_about_user, transparency_report
from disclosures.services.jobs import (
    disclosure_notice_drafts_remind,
    disclosure_secrecy_reminders,
)
from disclosures.services.notices import (
    NO_NOTICE_TO_SEND,
    NOTICE_DECIDED_WITHHELD,
    SECRECY_RUNNING,
    disclosure_notice_decision_set,
    disclosure_request_notices_send,
)
from disclosures.tasks import disclosure_secrecy_reminders_task
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref, target_ref

from .conftest import ALICE_NUMBER, UTC, receive, to_state

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
TOLD = b"data was disclosed to a Dispute commission under Court order."
NOTHING = b"There are no disclosures to report."
GAG = "The court asked us to wait for its ruling."


def _api(user) -> APIClient:
    client = APIClient()
    verified_client(client, user)
    return client


def _civil(legal1, legal2, legal3, body, alice) -> DisclosureRequest:
    """A court order from a dispute body about alice's account, delivered: its notice defaults to a draft."""
    req = receive(legal1, body, basis=LegalBasis.COURT_ORDER, account_ids=[alice.pk], numbers=[])
    return to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3])


def _user_sees(client, user) -> tuple[bytes, list]:
    """What `user` is shown: their page of disclosures, and the API's list of their notices."""
    verified_client(client, user)
    return client.get("/disclosures/notices/").content, _api(user).get("/api/v1/me/disclosure-notices/").json()


def _sent_in_report(actor, settings) -> str:
    settings.DISCLOSURE_REPORT_THRESHOLD = 1
    today = localdate()  # the report counts Amsterdam days
    return transparency_report(actor=actor, year=today.year, half=1 if today.month <= 6 else 2)["notices_sent"]


def _at(day) -> datetime:
    return datetime.combine(day, time(8), tzinfo=UTC)


class DraftAtDeliveryTests:
    def test_a_civil_case_delivered_gets_a_draft_the_user_does_not_see(self, client, settings, legal1, legal2,
                                                                        legal3, dispute_body, alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        notice = Notice.objects.get(request=req, user=alice)
        assert (notice.state, notice.sent_at, notice.withheld_until) == (Notice.State.DRAFT, None, None)
        page, api = _user_sees(client, alice)
        assert NOTHING in page and TOLD not in page and api == []
        assert _sent_in_report(legal1, settings) == "0"  # a draft is not a notification
        # The export's recipients list is about the disclosure made (row 7), not the notice: listed already.
        assert [d["request"] for d in disclosures_about_user(alice)] == [req.pk]

    def test_a_dispute_ruling_is_a_draft_too(self, legal1, legal2, legal3, dispute_body, alice):
        req = to_state(receive(legal1, dispute_body, basis=LegalBasis.DISPUTE_RULING, numbers=[ALICE_NUMBER]),
                       "delivered", intake=legal1, approvers=[legal2, legal3])
        assert list(Notice.objects.filter(request=req).values_list("user_id", "state")) == [(alice.pk, "draft")]


class SendingTests:
    def test_the_officer_sees_the_draft_confirms_and_then_the_user_is_told(self, client, settings, legal1, legal2,
                                                                           legal3, dispute_body, alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        notice = Notice.objects.get(request=req)
        verified_client(client, legal1)
        page = client.get(f"/disclosures/requests/{req.pk}/").content
        draft = page.split(b'id="notice-draft">')[1].split(b"</blockquote>")[0]
        assert TOLD in draft and date_format(localtime(req.delivered_at), "DATE_FORMAT").encode() in draft
        assert b'id="send-notice"' in page and b"Draft (to review)" in page
        asked = client.post(f"/disclosures/requests/{req.pk}/send-notices/")
        assert asked.status_code == 200 and TOLD in asked.content and f"Account #{alice.pk}".encode() in asked.content
        assert b"Yes, send the notice" in asked.content
        assert Notice.objects.get(pk=notice.pk).state == Notice.State.DRAFT
        assert not AuditEntry.objects.filter(action="disclosure.notice_send").exists()
        assert _user_sees(client, alice)[1] == []
        verified_client(client, legal1)
        assert client.post(f"/disclosures/requests/{req.pk}/send-notices/", {"confirm": "yes"}).status_code == 302
        notice = Notice.objects.get(pk=notice.pk)
        assert notice.state == Notice.State.SENT and notice.sent_at is not None
        entry = AuditEntry.objects.get(action="disclosure.notice_send")
        assert (entry.actor, entry.target_id) == (actor_ref(legal1), target_ref("user", alice.pk))
        assert entry.extra == {"request": req.pk, "notice": notice.pk, "was": "draft"}
        page, api = _user_sees(client, alice)
        assert page.count(TOLD) == 1 and NOTHING not in page
        assert [(n["authority_kind"], n["legal_basis"]) for n in api] == [("dispute_commission", "court_order")]
        assert _sent_in_report(legal1, settings) == "1"

    def test_a_notice_sent_days_later_dates_the_disclosure_not_the_sending(self, client, legal1, legal2, legal3,
                                                                           dispute_body, alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        delivered = now() - 5 * DAY
        DisclosureRequest.objects.filter(pk=req.pk).update(delivered_at=delivered)
        disclosure_request_notices_send(actor=legal1, request=req)
        page = _user_sees(client, alice)[0].decode()
        told = date_format(localtime(delivered), "DATE_FORMAT") + ": data was disclosed"
        assert told in page and date_format(localtime(now()), "DATE_FORMAT") + ": data" not in page

    def test_the_period_ends_on_its_last_day_not_the_exclusive_end(self, client, legal1, legal2, legal3,
                                                                    dispute_body, alice):
        """The window's end is exclusive (the midnight after its last day): the user is told the days it covered."""
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        start = datetime(2026, 3, 1, tzinfo=UTC) - timedelta(hours=1)  # 1 March 00:00 in Amsterdam (CET)
        DisclosureRequest.objects.filter(pk=req.pk).update(window_start=start,
                                                           window_end=datetime(2026, 3, 31, 22, tzinfo=UTC))
        disclosure_request_notices_send(actor=legal1, request=req)
        page = _user_sees(client, alice)[0].decode()
        assert "Period: 1 March 2026 – 31 March 2026." in page

    def test_the_api_sends_a_draft_without_a_page_to_confirm(self, legal1, legal2, legal3, dispute_body, alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        r = _api(legal2).post(f"/api/v1/staff/disclosures/requests/{req.pk}/send-notices/", format="json")
        assert r.status_code == 200 and Notice.objects.get(request=req).state == Notice.State.SENT

    def test_nothing_left_to_send_is_refused_without_asking(self, client, legal1, legal2, legal3, dispute_body,
                                                             alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        disclosure_request_notices_send(actor=legal2, request=req)
        verified_client(client, legal1)
        r = client.post(f"/disclosures/requests/{req.pk}/send-notices/")
        assert r.status_code == 400 and b"no notice to send" in r.content and b"Yes, send the notice" not in r.content
        r = _api(legal1).post(f"/api/v1/staff/disclosures/requests/{req.pk}/send-notices/", format="json")
        assert r.status_code == 400 and r.json()["field"] == "notices"
        with pytest.raises(ApplicationError) as caught:
            disclosure_request_notices_send(actor=legal1, request=req)
        assert caught.value.message == NO_NOTICE_TO_SEND
        assert AuditEntry.objects.filter(action="disclosure.notice_send").count() == 1

    def test_a_draft_withheld_by_a_new_decision_is_not_sent_nor_listed(self, client, legal1, legal2, legal3,
                                                                        dispute_body, alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        disclosure_notice_decision_set(actor=legal2, request=req, notify=False, reason=GAG)  # a draft may be
        verified_client(client, legal1)
        r = client.post(f"/disclosures/requests/{req.pk}/send-notices/", {"confirm": "yes"})
        assert r.status_code == 400 and Notice.objects.get(request=req).state == Notice.State.DRAFT
        with pytest.raises(ApplicationError) as caught:
            disclosure_request_notices_send(actor=legal1, request=req)
        assert caught.value.message == NOTICE_DECIDED_WITHHELD
        assert disclosures_about_user(alice) == []
        assert disclosure_notice_drafts_remind(now=now() + 10 * DAY) == 0
        disclosure_notice_decision_set(actor=legal2, request=req, notify=True)
        assert disclosures_about_user(alice)[0]["request"] == req.pk
        assert disclosure_request_notices_send(actor=legal1, request=req)[0].state == Notice.State.SENT

    def test_only_a_legal_officer_sends(self, client, legal1, legal2, legal3, dispute_body, alice, dpo):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        for user in (alice, dpo):
            verified_client(client, user)
            assert client.post(f"/disclosures/requests/{req.pk}/send-notices/", {"confirm": "yes"}).status_code == 404
            assert _api(user).post(f"/api/v1/staff/disclosures/requests/{req.pk}/send-notices/").status_code == 403
        assert Notice.objects.get(request=req).state == Notice.State.DRAFT


class SecrecyTests:
    def test_a_case_secret_until_d_sends_nothing_before_d_and_reminds_at_d(self, client, legal1, legal2, legal3,
                                                                          dispute_body, alice):
        d = now().date() + 10 * DAY
        req = to_state(receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER, account_ids=[alice.pk],
                               numbers=[], secrecy_until=d), "delivered", intake=legal1, approvers=[legal2, legal3])
        notice = Notice.objects.get(request=req)
        assert (notice.state, notice.withheld_until, notice.sent_at) == (Notice.State.WITHHELD, d, None)
        with pytest.raises(ApplicationError) as caught:
            disclosure_request_notices_send(actor=legal1, request=req)
        assert caught.value.message == SECRECY_RUNNING
        verified_client(client, legal1)
        assert client.post(f"/disclosures/requests/{req.pk}/send-notices/").status_code == 400  # not even asked
        page, api = _user_sees(client, alice)
        assert NOTHING in page and api == [] and disclosures_about_user(alice) == []
        assert disclosure_secrecy_reminders(now=_at(d - DAY)) == 0
        assert disclosure_notice_drafts_remind(now=_at(d + DAY)) == 0  # withheld, not a draft
        assert disclosure_secrecy_reminders(now=_at(d)) == 1
        assert len(mail.outbox) == 1 and f"notice #{notice.pk}" in mail.outbox[0].body
        assert Notice.objects.get(pk=notice.pk).state == Notice.State.WITHHELD  # a reminder, nothing sent


class ReminderTests:
    def test_a_draft_left_unsent_is_reminded_once(self, legal1, legal2, legal3, dispute_body, alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        notice = Notice.objects.get(request=req)
        due = notice.created_at + settings.DISCLOSURE_NOTICE_DRAFT_REMIND_DAYS * DAY
        assert disclosure_notice_drafts_remind(now=due - timedelta(minutes=1)) == 0 and mail.outbox == []
        assert disclosure_notice_drafts_remind(now=due) == 1
        assert disclosure_notice_drafts_remind(now=due + DAY) == 0
        assert len(mail.outbox) == 1 and mail.outbox[0].subject == "[VoIPXS] Draft notices to send"
        body = mail.outbox[0].body
        assert f"Request #{req.pk}: notice #{notice.pk}" in body and ALICE_NUMBER not in body
        assert Notice.objects.get(pk=notice.pk).reminded_at == due
        entry = AuditEntry.objects.get(action="disclosure.notice_draft_reminder")
        assert (entry.target_id, entry.extra) == (str(req.pk), {"notice": notice.pk})

    def test_a_sent_draft_is_not_reminded_and_the_beat_task_counts_drafts(self, legal1, legal2, legal3,
                                                                          dispute_body, alice, bob):
        sent = _civil(legal1, legal2, legal3, dispute_body, alice)
        disclosure_request_notices_send(actor=legal1, request=sent)
        _civil(legal1, legal2, legal3, dispute_body, bob)
        Notice.objects.update(created_at=now() - settings.DISCLOSURE_NOTICE_DRAFT_REMIND_DAYS * DAY)
        assert disclosure_secrecy_reminders_task() == {"reminded": 0, "reviews": 0, "drafts": 1}
        assert disclosure_secrecy_reminders_task() == {"reminded": 0, "reviews": 0, "drafts": 0}


class DashboardTests:
    def test_the_dashboard_lists_requests_whose_notice_is_a_draft(self, client, legal1, legal2, legal3,
                                                                  dispute_body, authority, alice):
        req = _civil(legal1, legal2, legal3, dispute_body, alice)
        to_state(receive(legal1, authority), "delivered", intake=legal1, approvers=[legal2, legal3])  # no notice
        verified_client(client, legal1)
        section = client.get("/disclosures/").content.split(b'id="notice-drafts"')[1].split(b"<h2")[0]
        assert section.count(b"<li>") == 1 and f"/disclosures/requests/{req.pk}/#notices".encode() in section
        disclosure_request_notices_send(actor=legal1, request=req)
        section = client.get("/disclosures/").content.split(b'id="notice-drafts"')[1].split(b"<h2")[0]
        assert b"No draft notices." in section and b"<li>" not in section

