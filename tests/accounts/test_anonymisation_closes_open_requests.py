"""The retention purge's anonymisation of a closed account closes the person's open data-subject requests, as an
erasure does (accounts/dsr/open_requests.py): their free texts go with the account, nobody is left to answer, and
nothing of theirs is left to hand over, correct or restrict. Each is closed at the anonymisation's moment with a
fixed sentence (no data) and the outcome code {"closed_by_anonymisation": true}, audited with its id and kind; the
DPO's queue and the deadline reminders no longer carry them.

End to end: billing staff close the account (or its contractor) through the staff API, the purge anonymises it, and
the DPO then tries to decide, answer, extend or start one of those requests on their pages: a 400 with a message
that says why, never a 500 (before, the decision broke the database's constraints on erased texts). A request whose
texts went but that is still open (anonymised before this change) is refused the same way."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils.timezone import now

from accounts.dsr.export import dsr_export_build
from accounts.dsr.models import DataSubjectRequest, ExportFile, RecipientNotification
from accounts.dsr.recipients import recipient_notifications_sync
from accounts.dsr.objection_models import Objection
from accounts.dsr.reminders import dsr_deadlines_remind
from accounts.dsr.selectors import dsr_request_list_open
from accounts.dsr.open_requests import NOT_OPEN
from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_request_extend
from accounts.models import User
from retention.closed_accounts import closed_accounts_purge
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status
GROUNDS = "Grounds-5d1a: I live at Prinsengracht 7"
CLOSED_SENTENCE = "anonymised at the end of its retention period"
TEXTS_ERASED_REFUSAL = "can no longer be started, extended, answered or decided"


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _open_requests(user, dpo) -> dict[str, DataSubjectRequest]:
    """An objection, a rectification, an extended restriction and an access request, all open; and a rectification
    the DPO answered before the account was closed."""
    answered = dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My label is wrong.")
    answered = dsr_request_complete(request=answered, answer="Corrected.", actor=dpo)
    made = {"objection": dsr_request_create(user=user, kind=Kind.OBJECTION, details=GROUNDS, purposes=["security"]),
            "rectification": dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My label is wrong."),
            "restriction": dsr_request_extend(request=dsr_request_create(user=user, kind=Kind.RESTRICTION,
                                                                         details="Stop using my data."),
                                              reason="We check it.", actor=dpo),
            "access": dsr_request_create(user=user, kind=Kind.ACCESS)}
    assert all(r.is_open for r in made.values())
    return {**made, "answered": answered}


def _close_through_the_api(client, staff, url: str) -> None:
    verified_client(client, staff)
    response = client.post(url, {"reason": "contract_ended"}, content_type="application/json")
    assert response.status_code == 200, response.content
    client.logout()


def _purge() -> None:
    """The daily purge, once the closed_account period has passed (no invoice: it counts from the closure)."""
    assert closed_accounts_purge(now=now() + timedelta(days=400))["anonymised"] >= 1


def _dpo(client, dpo):
    client.logout()
    client.raise_request_exception = False  # a server error is the answer under test, not an exception here
    return verified_client(client, dpo)


def _decision(**extra) -> dict:
    return {"outcome_security": "upheld", "legitimate_interest_security": "Fraud detection",
            "person_interests_security": "Their grounds", "reasons_security": "No fraud signal", "answer": "Done",
            **extra}


@pytest.mark.django_db
class AnonymisationClosesOpenRequestsTests:
    def test_the_dpo_deciding_an_objection_after_the_purge_gets_a_message_not_a_server_error(
            self, client, alice, dpo, billing_staff):
        reqs = _open_requests(alice, dpo)
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/accounts/{alice.pk}/close/")
        _purge()
        c = _dpo(client, dpo)
        url = f"/privacy-requests/dpo/{reqs['objection'].pk}/objection/"
        assert c.get(url).status_code == 200
        response = c.post(url, _decision(confirm="yes"))
        assert response.status_code == 400, response.status_code
        assert NOT_OPEN in response.content.decode()
        assert Objection.objects.get(request=reqs["objection"]).outcome == ""

    @pytest.mark.parametrize("action", ["start", "extend", "complete", "reject"])
    def test_the_dpo_answering_a_request_after_the_purge_gets_a_message_not_a_server_error(
            self, client, alice, dpo, billing_staff, action):
        reqs = _open_requests(alice, dpo)
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/accounts/{alice.pk}/close/")
        _purge()
        c = _dpo(client, dpo)
        for kind in ("rectification", "restriction", "access"):
            url = f"/privacy-requests/dpo/{reqs[kind].pk}/"
            page = c.get(url)
            assert page.status_code == 200 and CLOSED_SENTENCE in page.content.decode()
            assert 'name="action"' not in page.content.decode()  # no answer form on a closed request
            response = c.post(url, {"action": action, "answer": "An answer.", "confirm": "yes",
                                    "ground": "accuracy_contested", "ends_on": "2099-01-01"})
            assert response.status_code == 400, (kind, response.status_code)
            assert NOT_OPEN in response.content.decode()
        assert DataSubjectRequest.objects.get(pk=reqs["rectification"].pk).answer.startswith("Closed without")

    def test_each_open_request_is_closed_at_the_anonymisation_with_the_fixed_sentence_and_audited(
            self, client, alice, bob, dpo, billing_staff):
        reqs = _open_requests(alice, dpo)
        bobs = dsr_request_create(user=bob, kind=Kind.RECTIFICATION, details="My label is wrong.")
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/accounts/{alice.pk}/close/")
        _purge()
        anonymised_at = User.objects.get(pk=alice.pk).anonymised_at
        for kind in ("objection", "rectification", "restriction", "access"):
            req = DataSubjectRequest.objects.get(pk=reqs[kind].pk)
            assert (req.status, req.completed_at) == (Status.COMPLETED, anonymised_at), kind
            assert req.outcome == {"closed_by_anonymisation": True}, kind
            assert CLOSED_SENTENCE in req.answer and "Prinsengracht" not in req.answer, kind
            assert req.texts_erased_at == anonymised_at and req.details == "" and req.extension_notice_due_at is None
            entry = AuditEntry.objects.get(action="dsr.close_anonymised", target_type="dsr", target_id=str(req.pk))
            assert (entry.purpose, entry.extra) == ("legal_obligation", {"kind": kind})
        answered = DataSubjectRequest.objects.get(pk=reqs["answered"].pk)  # answered before: its record stays
        assert answered.outcome == {} and answered.completed_at == reqs["answered"].completed_at
        assert not AuditEntry.objects.filter(action="dsr.close_anonymised", target_id=str(answered.pk)).exists()
        assert list(dsr_request_list_open(actor=dpo)) == [bobs]  # the DPO's queue keeps bob's only

    def test_a_dutch_speaking_persons_request_is_closed_with_the_sentence_in_dutch(self, client, alice, dpo,
                                                                                 billing_staff):
        User.objects.filter(pk=alice.pk).update(language="nl")
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="Mijn label klopt niet.")
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/accounts/{alice.pk}/close/")
        _purge()
        req.refresh_from_db()
        assert req.answer.startswith("Gesloten zonder verdere actie: het account is opgeheven")

    def test_their_deadlines_are_no_longer_reminded(self, client, alice, dpo, billing_staff):
        _open_requests(alice, dpo)
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/accounts/{alice.pk}/close/")
        _purge()
        mail.outbox.clear()
        assert dsr_deadlines_remind(now=now() + timedelta(days=200)) == 0
        assert not mail.outbox

    def test_a_contractors_users_requests_are_closed_when_the_purge_anonymises_them(
            self, client, bob, dpo, billing_staff):
        req = dsr_request_create(user=bob, kind=Kind.OBJECTION, details=GROUNDS, purposes=["security"])
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/contractors/{bob.contractor_id}/close/")
        _purge()
        req.refresh_from_db()
        assert req.status == Status.COMPLETED and req.outcome == {"closed_by_anonymisation": True}
        response = _dpo(client, dpo).post(f"/privacy-requests/dpo/{req.pk}/objection/", _decision(confirm="yes"))
        assert response.status_code == 400 and NOT_OPEN in response.content.decode()

    def test_no_export_is_built_or_kept_for_the_anonymised_person(self, client, alice, dpo, billing_staff, settings,
                                                                   django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            ready = dsr_request_create(user=alice, kind=Kind.PORTABILITY)  # built: a file waits for its download
        access = _open_requests(alice, dpo)["access"]  # its build not run yet
        assert ExportFile.objects.get(request=ready).status == ExportFile.Status.READY
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/accounts/{alice.pk}/close/")
        _purge()
        dsr_export_build(export_id=ExportFile.objects.get(request=access).pk)  # its task arrives after the purge
        assert set(ExportFile.objects.filter(user=alice).values_list("status", flat=True)) == {"deleted"}
        assert not list((settings.PRIVATE_FILES_DIR / "exports").glob("export-*"))
        entry = AuditEntry.objects.get(action="account.anonymise")
        assert (entry.extra["exports_deleted"], entry.extra["open_requests_closed"]) == (2, 4)

    def test_a_rectification_it_closed_lists_no_recipient_to_tell_it_was_carried_out(
            self, client, alice, dpo, billing_staff, legal1):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong.")
        _close_through_the_api(client, billing_staff, f"/api/v1/staff/accounts/{alice.pk}/close/")
        _purge()
        assert recipient_notifications_sync(user_id=alice.pk, actor=dpo) == 0  # GDPR art. 19: nothing was done
        assert not RecipientNotification.objects.filter(request=req).exists()


@pytest.mark.django_db
class ErasedTextsStillOpenTests:
    """An open request whose texts went with the account before anonymisation closed such requests: refused; the
    next purge closes it, as the anonymisation would have."""

    @pytest.fixture
    def erased_open(self, alice) -> dict[str, DataSubjectRequest]:
        reqs = {"objection": dsr_request_create(user=alice, kind=Kind.OBJECTION, details=GROUNDS,
                                                purposes=["security"]),
                "rectification": dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="Label wrong.")}
        stamp = now()
        DataSubjectRequest.objects.filter(user=alice).update(details="", texts_erased_at=stamp)
        Objection.objects.filter(user=alice).update(texts_erased_at=stamp)
        return reqs

    def test_deciding_the_objection_is_refused_with_a_message(self, client, dpo, erased_open):
        c = _dpo(client, dpo)
        url = f"/privacy-requests/dpo/{erased_open['objection'].pk}/objection/"
        assert TEXTS_ERASED_REFUSAL in c.get(url).content.decode()
        for confirmed in ({}, {"confirm": "yes"}):
            response = c.post(url, _decision(**confirmed))
            assert response.status_code == 400 and TEXTS_ERASED_REFUSAL in response.content.decode()
        assert Objection.objects.get(request=erased_open["objection"]).outcome == ""

    def test_the_next_purge_closes_those_of_an_account_it_anonymised_before(self, alice, bob, dpo, erased_open):
        stamp = DataSubjectRequest.objects.get(pk=erased_open["objection"].pk).texts_erased_at
        User.objects.filter(pk=alice.pk).update(closed_at=stamp, anonymised_at=stamp, is_active=False)
        bobs = dsr_request_create(user=bob, kind=Kind.RECTIFICATION, details="My label is wrong.")
        assert closed_accounts_purge(now=now(), dry_run=True)["open_requests_closed"] == 2  # counted, not closed
        assert DataSubjectRequest.objects.filter(user=alice, status=Status.RECEIVED).count() == 2

        assert closed_accounts_purge(now=now())["open_requests_closed"] == 2
        for req in DataSubjectRequest.objects.filter(user=alice):
            assert (req.status, req.completed_at, req.outcome) == (Status.COMPLETED, stamp,
                                                                   {"closed_by_anonymisation": True})
            assert CLOSED_SENTENCE in req.answer
            assert AuditEntry.objects.filter(action="dsr.close_anonymised", target_id=str(req.pk)).count() == 1
        assert list(dsr_request_list_open(actor=dpo)) == [bobs]
        assert closed_accounts_purge(now=now())["open_requests_closed"] == 0  # nothing left the next time

    def test_those_of_an_erased_account_are_not_said_to_be_closed_by_an_anonymisation(self, alice, erased_open):
        """An erasure closes them with its own sentence; one left open by an erasure made before it did is not
        said to be closed by an anonymisation."""
        stamp = now()
        User.objects.filter(pk=alice.pk).update(closed_at=stamp, anonymised_at=stamp, is_active=False)
        DataSubjectRequest.objects.create(user=alice, kind=Kind.ERASURE, status=Status.COMPLETED, completed_at=stamp,
                                          deadline=stamp, texts_erased_at=stamp)
        assert closed_accounts_purge(now=now())["open_requests_closed"] == 0
        assert DataSubjectRequest.objects.filter(user=alice, status=Status.RECEIVED).count() == 2

    @pytest.mark.parametrize("action", ["start", "extend", "complete", "reject"])
    def test_answering_is_refused_with_a_message(self, client, dpo, erased_open, action):
        c = _dpo(client, dpo)
        url = f"/privacy-requests/dpo/{erased_open['rectification'].pk}/"
        page = c.get(url).content.decode()
        assert TEXTS_ERASED_REFUSAL in page and 'name="action"' not in page
        response = c.post(url, {"action": action, "answer": "An answer.", "confirm": "yes"})
        assert response.status_code == 400 and TEXTS_ERASED_REFUSAL in response.content.decode()
        req = DataSubjectRequest.objects.get(pk=erased_open["rectification"].pk)
        assert (req.status, req.answer, req.extension_reason) == (Status.RECEIVED, "", "")
