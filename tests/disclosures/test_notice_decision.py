"""The decision on the notice to the user (LEGAL.md section 5, row 18): a withheld notice records a reason
and a review date, the officers are reminded on that day (once), and an officer records a new decision
after the review. The clock is frozen by passing `now`."""
from __future__ import annotations

import importlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core import mail
from django.utils.formats import date_format
from django.utils.timezone import localdate, now
from rest_framework.test import APIClient

from disclosures.models import DisclosureRequest, LegalBasis, Notice
from disclosures.services.checks import NOT_LEGAL_OFFICER
from disclosures.services.intake import (
    NOTICE_NOT_WITHHELD,
    NOTICE_REASON_EU,
    NOTICE_REASON_REQUIRED,
    NOTICE_REASON_SV,
    NOTICE_REVIEW_PAST,
)
from disclosures.services.jobs import disclosure_notice_reviews_remind, disclosure_secrecy_reminders
from disclosures.services.notices import (
    NOTICE_DECIDED_WITHHELD,
    NOTICES_ALREADY_SENT,
    disclosure_notice_decision_set,
    disclosure_request_notices_send,
)
from disclosures.tasks import disclosure_secrecy_reminders_task
from tests.factories import make_cdr, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER, OTHER, UTC, receive, to_state

pytestmark = pytest.mark.django_db
backfill = importlib.import_module("disclosures.migrations.0006_notice_decision").withheld_notices_get_a_decision

AMS = ZoneInfo("Europe/Amsterdam")
DAY = timedelta(days=1)
GAG = "Gag order of the examining judge until the hearing"


def _refused(field: str, message: str, **kwargs):
    """The ApplicationError a call raises must name `field` and say `message`."""
    with pytest.raises(ApplicationError) as caught:
        kwargs.pop("call")(**kwargs)
    assert (caught.value.extra["field"], caught.value.message) == (field, message)


def _at(day, hour: int = 8) -> datetime:
    """`hour` o'clock on `day` in Amsterdam, where the review date is a day, as the clock gives it (UTC)."""
    return datetime.combine(day, time(hour), tzinfo=AMS).astimezone(UTC)


def _api(user) -> APIClient:
    client = APIClient()
    verified_client(client, user)
    return client


class IntakeTests:
    def test_a_criminal_basis_withholds_with_the_sv_126bb_reason_and_a_review_a_year_on(self, settings, legal1,
                                                                                          authority):
        assert settings.DISCLOSURE_NOTICE_REVIEW_DAYS == 365
        received = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
        req = receive(legal1, authority, window=(received - 30 * DAY, received), now=received,
                      deadline=received + 3 * DAY)
        assert (req.notice_user, req.notice_withheld_reason) == (False, NOTICE_REASON_SV)
        assert "Sv 126bb" in req.notice_withheld_reason and "Public Prosecution Service" in req.notice_withheld_reason
        assert req.notice_review_on == received.date() + timedelta(days=365)
        settings.DISCLOSURE_NOTICE_REVIEW_DAYS = 30
        other = receive(legal1, authority, basis=LegalBasis.SV_126NA, categories=("user_data",),
                        window=(received - 30 * DAY, received), now=received, deadline=received + 3 * DAY)
        assert other.notice_review_on == received.date() + timedelta(days=30)

    def test_a_european_order_gets_its_own_default_reason(self, legal1, authority):
        req = receive(legal1, authority, basis=LegalBasis.EU_PRODUCTION)
        assert not req.notice_user and req.notice_withheld_reason == NOTICE_REASON_EU

    def test_an_officer_s_own_reason_and_date_are_kept(self, legal1, authority):
        review = localdate() + 90 * DAY
        req = receive(legal1, authority, notice_withheld_reason=f"  {GAG} ", notice_review_on=review)
        assert (req.notice_withheld_reason, req.notice_review_on) == (GAG, review)

    def test_a_civil_basis_notifies_and_keeps_both_fields_empty(self, legal1, authority):
        req = receive(legal1, authority, basis=LegalBasis.COURT_ORDER)
        assert (req.notice_user, req.notice_withheld_reason, req.notice_review_on) == (True, "", None)
        _refused("notice_withheld_reason", NOTICE_NOT_WITHHELD, call=receive, actor=legal1, authority=authority,
                 basis=LegalBasis.COURT_ORDER, notice_withheld_reason=GAG)

    def test_a_civil_basis_turned_off_without_a_reason_is_refused(self, legal1, dispute_body):
        for reason in ("", "   "):
            _refused("notice_withheld_reason", NOTICE_REASON_REQUIRED, call=receive, actor=legal1,
                     authority=dispute_body, basis=LegalBasis.DISPUTE_RULING, notice_user=False,
                     notice_withheld_reason=reason)
        assert not DisclosureRequest.objects.exists()
        req = receive(legal1, dispute_body, basis=LegalBasis.DISPUTE_RULING, notice_user=False,
                      notice_withheld_reason=GAG)
        assert (req.notice_user, req.notice_withheld_reason) == (False, GAG)
        assert req.notice_review_on == localdate(req.received_at) + timedelta(days=365)

    def test_a_review_date_in_the_past_is_refused(self, legal1, authority):
        today = localdate()
        _refused("notice_review_on", NOTICE_REVIEW_PAST, call=receive, actor=legal1, authority=authority,
                 notice_review_on=today - DAY)
        assert not DisclosureRequest.objects.exists()
        assert receive(legal1, authority, notice_review_on=today).notice_review_on == today

    def test_the_api_takes_and_shows_the_decision(self, legal1, dispute_body):
        body = {"authority": dispute_body.pk, "reference": "API-N1", "legal_basis": "court_order",
                "categories": ["traffic_data"], "numbers": [ALICE_NUMBER], "notice_user": False,
                "window_start": (now() - 5 * DAY).isoformat(), "window_end": now().isoformat(),
                "deadline": (now() + DAY).isoformat()}
        api = _api(legal1)
        r = api.post("/api/v1/staff/disclosures/requests/receive/", body, format="json")
        assert r.status_code == 400 and r.json()["field"] == "notice_withheld_reason"
        review = (localdate() + 60 * DAY).isoformat()
        r = api.post("/api/v1/staff/disclosures/requests/receive/",
                     {**body, "notice_withheld_reason": GAG, "notice_review_on": review}, format="json")
        assert r.status_code == 201, r.json()
        assert {k: r.json()[k] for k in ("notice_user", "notice_withheld_reason", "notice_review_on")} == {
            "notice_user": False, "notice_withheld_reason": GAG, "notice_review_on": review}


class ReviewReminderTests:
    def test_the_officers_are_reminded_on_the_review_day_once_and_not_the_day_before(self, legal1, legal2,
                                                                                       authority, alice):
        review = localdate() + 10 * DAY
        req = receive(legal1, authority, notice_review_on=review)
        assert disclosure_notice_reviews_remind(now=_at(review - DAY, 23)) == 0
        assert mail.outbox == []
        assert disclosure_notice_reviews_remind(now=_at(review)) == 1
        assert disclosure_notice_reviews_remind(now=_at(review, 20)) == 0
        assert disclosure_notice_reviews_remind(now=_at(review + DAY)) == 0
        assert len(mail.outbox) == 1
        body = mail.outbox[0].subject + mail.outbox[0].body
        assert f"#{req.pk}" in body
        assert ALICE_NUMBER not in body and "205550101" not in body and "alice" not in body.lower()
        assert DisclosureRequest.objects.get(pk=req.pk).notice_review_reminded_at == _at(review)
        entries = AuditEntry.objects.filter(action="disclosure.notice_review_reminder", target_id=str(req.pk))
        assert entries.count() == 1 and entries.get().extra == {}

    def test_a_notified_request_is_never_reminded(self, legal1, authority):
        receive(legal1, authority, basis=LegalBasis.COURT_ORDER)
        assert disclosure_notice_reviews_remind(now=now() + 400 * DAY) == 0

    def test_a_new_decision_is_reminded_again_on_its_own_date(self, legal1, authority):
        req = receive(legal1, authority, notice_review_on=localdate())
        assert disclosure_notice_reviews_remind() == 1
        later = localdate() + 30 * DAY
        disclosure_notice_decision_set(actor=legal1, request=req, notify=False, reason=GAG, review_on=later)
        assert disclosure_notice_reviews_remind(now=_at(later - DAY)) == 0
        assert disclosure_notice_reviews_remind(now=_at(later)) == 1

    def test_the_beat_task_reminds_of_reviews_as_well(self, legal1, authority):
        receive(legal1, authority, notice_review_on=localdate())
        assert disclosure_secrecy_reminders_task() == {"reminded": 0, "reviews": 1, "drafts": 0}
        assert disclosure_secrecy_reminders_task() == {"reminded": 0, "reviews": 0, "drafts": 0}


class DecisionTests:
    def test_switching_to_notify_after_delivery_creates_draft_notices(self, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - DAY)
        req = to_state(receive(legal1, authority), "delivered", intake=legal1, approvers=[legal2, legal3])
        assert not Notice.objects.filter(request=req).exists()
        req = disclosure_notice_decision_set(actor=legal2, request=req, notify=True, reason="", review_on=None)
        assert (req.notice_user, req.notice_withheld_reason, req.notice_review_on) == (True, "", None)
        notice = Notice.objects.get(request=req)
        assert (notice.user_id, notice.state, notice.sent_at) == (alice.pk, Notice.State.DRAFT, None)
        entry = AuditEntry.objects.get(action="disclosure.notice_decision", target_id=str(req.pk))
        assert entry.extra == {"status": "delivered", "notify": True, "reason_length": 0,
                               "notice_review_on": None, "notices": 1}

    def test_switching_to_notify_before_delivery_creates_no_notice_yet(self, legal1, authority, alice):
        req = receive(legal1, authority)
        req = disclosure_notice_decision_set(actor=legal1, request=req, notify=True)
        assert req.notice_user and not Notice.objects.filter(request=req).exists()

    def test_a_withheld_decision_is_stored_and_audited_without_its_text(self, legal1, dispute_body):
        req = receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER)
        review = localdate() + 14 * DAY
        req = disclosure_notice_decision_set(actor=legal1, request=req, notify=False, reason=GAG, review_on=review)
        req = DisclosureRequest.objects.get(pk=req.pk)
        assert (req.notice_user, req.notice_withheld_reason, req.notice_review_on) == (False, GAG, review)
        entry = AuditEntry.objects.get(action="disclosure.notice_decision", target_id=str(req.pk))
        assert entry.extra["reason_length"] == len(GAG) and GAG not in str(entry.extra)

    def test_it_validates_as_intake_does(self, legal1, dispute_body):
        req = receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER)
        _refused("notice_withheld_reason", NOTICE_REASON_REQUIRED, call=disclosure_notice_decision_set,
                 actor=legal1, request=req, notify=False, reason=" ")
        _refused("notice_review_on", NOTICE_REVIEW_PAST, call=disclosure_notice_decision_set, actor=legal1,
                 request=req, notify=False, reason=GAG, review_on=localdate() - DAY)
        assert DisclosureRequest.objects.get(pk=req.pk).notice_user

    def test_a_non_officer_is_refused(self, legal1, authority, alice, dpo):
        req = receive(legal1, authority)
        for user in (alice, dpo):
            with pytest.raises(ApplicationError, match=NOT_LEGAL_OFFICER):
                disclosure_notice_decision_set(actor=user, request=req, notify=True)
        assert not DisclosureRequest.objects.get(pk=req.pk).notice_user
        assert not AuditEntry.objects.filter(action="disclosure.notice_decision").exists()

    def test_notices_already_sent_cannot_be_withheld(self, legal1, legal2, legal3, dispute_body, alice):
        req = to_state(receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER, account_ids=[alice.pk],
                               numbers=[]), "delivered", intake=legal1, approvers=[legal2, legal3])
        assert disclosure_request_notices_send(actor=legal2, request=req)[0].state == Notice.State.SENT
        _refused("notice_user", NOTICES_ALREADY_SENT, call=disclosure_notice_decision_set, actor=legal1,
                 request=req, notify=False, reason=GAG)

    def test_a_notice_withheld_by_decision_is_not_sent_when_the_secrecy_order_ends(self, legal1, legal2, legal3,
                                                                                  dispute_body, alice):
        until = localdate() + 5 * DAY
        req = to_state(receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER, account_ids=[alice.pk],
                               numbers=[], secrecy_until=until), "delivered", intake=legal1, approvers=[legal2, legal3])
        disclosure_notice_decision_set(actor=legal1, request=req, notify=False, reason=GAG)
        assert disclosure_secrecy_reminders(now=_at(until)) == 0
        DisclosureRequest.objects.filter(pk=req.pk).update(secrecy_until=localdate())
        with pytest.raises(ApplicationError, match="withheld by decision") as caught:
            disclosure_request_notices_send(actor=legal1, request=req)
        assert caught.value.message == NOTICE_DECIDED_WITHHELD
        disclosure_notice_decision_set(actor=legal1, request=req, notify=True)
        assert disclosure_request_notices_send(actor=legal1, request=req)[0].state == Notice.State.SENT


class PageTests:
    def test_the_detail_page_shows_the_decision_its_reason_and_review_date(self, client, legal1, authority,
                                                                            dispute_body):
        criminal = receive(legal1, authority)
        withheld = receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER, notice_user=False,
                           notice_withheld_reason=GAG, notice_review_on=localdate() + 20 * DAY)
        notified = receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER)
        verified_client(client, legal1)
        page = client.get(f"/disclosures/requests/{criminal.pk}/").content.decode()
        assert "Withheld" in page and NOTICE_REASON_SV in page and 'id="notice-review-on"' in page
        assert date_format(criminal.notice_review_on, "DATE_FORMAT") in page.split('id="notice-review-on"')[1][:60]
        page = client.get(f"/disclosures/requests/{withheld.pk}/").content.decode()
        assert GAG in page
        page = client.get(f"/disclosures/requests/{notified.pk}/").content.decode()
        assert "The user is notified" in page and 'id="notice-reason"' not in page

    def test_the_detail_page_records_a_new_decision_only_when_confirmed(self, client, legal1, authority):
        req = receive(legal1, authority)
        verified_client(client, legal1)
        path = f"/disclosures/requests/{req.pk}/notice-decision/"
        review = (localdate() + 7 * DAY).isoformat()
        post = {"notify": "no", "reason": GAG, "review_on": review}
        r = client.post(path, post)
        assert r.status_code == 400 and b"Tick the box" in r.content
        assert DisclosureRequest.objects.get(pk=req.pk).notice_withheld_reason == NOTICE_REASON_SV
        assert client.post(path, {**post, "confirm": "yes"}).status_code == 302
        req = DisclosureRequest.objects.get(pk=req.pk)
        assert (req.notice_withheld_reason, req.notice_review_on.isoformat()) == (GAG, review)
        r = client.post(path, {**post, "review_on": (localdate() - DAY).isoformat(), "confirm": "yes"})
        assert r.status_code == 400 and b"review date is in the past" in r.content

    def test_the_intake_page_puts_a_missing_reason_on_its_field(self, client, legal1, dispute_body):
        verified_client(client, legal1)
        today = localdate()
        r = client.post("/disclosures/requests/new/", {
            "authority": dispute_body.pk, "reference": "PV-N-1", "legal_basis": "court_order",
            "categories": ["traffic_data"], "numbers": "020 555 0101", "notice_user": "no",
            "window_start": (today - 30 * DAY).isoformat(), "window_end": today.isoformat(),
            "deadline": (now() + 2 * DAY).strftime("%Y-%m-%dT%H:%M")})
        assert r.status_code == 400
        assert r.context["form"].errors["notice_withheld_reason"] == [NOTICE_REASON_REQUIRED]
        assert not DisclosureRequest.objects.exists()

    def test_the_api_records_a_new_decision(self, legal1, authority, alice):
        req = receive(legal1, authority)
        api = _api(legal1)
        url = f"/api/v1/staff/disclosures/requests/{req.pk}/notice-decision/"
        r = api.post(url, {"notify": False, "reason": GAG}, format="json")
        assert r.status_code == 200, r.json()
        assert r.json()["notice_withheld_reason"] == GAG
        assert r.json()["notice_review_on"] == (localdate() + timedelta(days=365)).isoformat()
        assert _api(alice).post(url, {"notify": True}, format="json").status_code == 403


class MigrationTests:
    def test_requests_taken_in_before_get_the_reason_and_review_date_intake_gives(self, legal1, authority,
                                                                                  dispute_body):
        criminal = receive(legal1, authority)
        epoc = receive(legal1, authority, basis=LegalBasis.EU_PRODUCTION)
        civil_off = receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER, notice_user=False,
                            notice_withheld_reason=GAG)
        notified = receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER)
        rejected = receive(legal1, authority)
        DisclosureRequest.objects.filter(pk=rejected.pk).update(status="rejected")
        DisclosureRequest.objects.update(notice_withheld_reason="", notice_review_on=None)  # as before 0006
        backfill(apps, None)
        got = {r.pk: (r.notice_withheld_reason, r.notice_review_on) for r in DisclosureRequest.objects.all()}
        year = timedelta(days=365)
        assert got == {criminal.pk: (NOTICE_REASON_SV, criminal.received_at.date() + year),
                       epoc.pk: (NOTICE_REASON_EU, epoc.received_at.date() + year),
                       civil_off.pk: ("", civil_off.received_at.date() + year),
                       notified.pk: ("", None), rejected.pk: ("", None)}
