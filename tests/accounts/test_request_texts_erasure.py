"""The free texts of a person's data-subject requests go with their erased or anonymised account (GDPR art. 17).

Every request of theirs, of every kind, open or closed, loses what they wrote (`details`), the extension's reason
and the answer as it stood (which quotes their data); its kind, dates, status and outcome stay as the record of
compliance, and `texts_erased_at` says when (accounts/dsr/texts.py). The erasure's own answer is composed after the
texts go and still reaches the person, on the page that follows their confirmation."""
from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils.formats import date_format
from django.utils.timezone import localtime, now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_request_extend
from accounts.models import AccountCloseReason, User
from accounts.services.closing import account_anonymise, account_close
from tests.factories import PASSWORD, verified_client
from voipxs.models import AuditEntry

pytestmark = pytest.mark.django_db

Kind = DataSubjectRequest.Kind
WRONG = "Wrong-c7f3: my name is Jansen-c7f3, not Janssen, at Keizersgracht 1"
ANSWER = "Answer-c7f3: we corrected Janssen to Jansen-c7f3."
ACCESS = "Access-c7f3: I want the calls to my mother in Utrecht"
EXTENDED = "Extended-c7f3: the Keizersgracht address needs checking"
ERASE = "Erase-c7f3: I move to Belgium"
MARKS = ("c7f3", "jansen", "keizersgracht", "utrecht", "belgium")


def _texts_of(user_id: int) -> str:
    """Every column of every request row of the person's, as stored."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_datasubjectrequest WHERE user_id = %s", [user_id])
        return json.dumps(cursor.fetchall(), default=str).lower()


def _marks(text: str) -> list[str]:
    return [mark for mark in MARKS if mark in text.lower()]


def _requests(user, dpo) -> dict[str, DataSubjectRequest]:
    """A rectification the DPO answered, an access request in progress and a restriction open and extended."""
    rect = dsr_request_create(user=user, kind=Kind.RECTIFICATION, details=WRONG)
    rect = dsr_request_complete(request=rect, answer=ANSWER, actor=dpo)
    access = dsr_request_create(user=user, kind=Kind.ACCESS, details=ACCESS)
    restriction = dsr_request_create(user=user, kind=Kind.RESTRICTION, details=WRONG)
    restriction = dsr_request_extend(request=restriction, reason=EXTENDED, actor=dpo)
    return {"rectification": rect, "access": access, "restriction": restriction}


def _erase(client, user):
    verified_client(client, user)
    page = client.post("/privacy-requests/new/", {"kind": "erasure", "details": ERASE, "password": PASSWORD,
                                                   "confirm": "yes"})
    assert page.status_code == 200
    return page, DataSubjectRequest.objects.get(user=user, kind=Kind.ERASURE)


class RequestTextsAfterErasureTests:
    def test_no_text_the_person_wrote_or_a_reply_quoting_it_is_left_in_their_requests(self, client, alice, dpo):
        reqs = _requests(alice, dpo)
        assert len(_marks(_texts_of(alice.pk))) == len(MARKS) - 1  # all there before ("belgium" comes next)

        _, erasure = _erase(client, alice)

        assert not _marks(_texts_of(alice.pk))
        rect = DataSubjectRequest.objects.get(pk=reqs["rectification"].pk)
        assert (rect.kind, rect.status, rect.received_at, rect.completed_at) == (
            "rectification", "completed", reqs["rectification"].received_at, reqs["rectification"].completed_at)
        restriction = DataSubjectRequest.objects.get(pk=reqs["restriction"].pk)
        assert restriction.extended_at is not None and restriction.deadline == reqs["restriction"].deadline
        stamps = set(DataSubjectRequest.objects.filter(user=alice).values_list("texts_erased_at", flat=True))
        assert stamps == {erasure.completed_at}
        assert erasure.outcome["counts"]["account"]["request_texts_erased"] == 4

    def test_the_audit_log_holds_none_of_the_texts(self, client, alice, dpo):
        _requests(alice, dpo)
        _erase(client, alice)
        entries = AuditEntry.objects.all()
        assert entries.exists()
        assert not _marks(json.dumps([[e.action, e.target_type, str(e.target_id), e.extra] for e in entries]))

    def test_the_erasure_answer_still_reaches_the_person_and_stays_as_the_record(self, client, alice, dpo):
        reqs = _requests(alice, dpo)
        page, erasure = _erase(client, alice)
        assert "Your account is closed" in erasure.answer
        assert erasure.answer.splitlines()[0] in page.content.decode()
        assert erasure.details == ""
        # The open ones are closed by the erasure, with its fixed sentence (no data) as their answer.
        restriction = DataSubjectRequest.objects.get(pk=reqs["restriction"].pk)
        assert restriction.status == "completed" and f"request #{erasure.pk}" in restriction.answer

    def test_the_dpo_page_says_what_was_written_is_erased_and_when(self, client, alice, dpo):
        reqs = _requests(alice, dpo)
        _, erasure = _erase(client, alice)
        client.logout()
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/{reqs['rectification'].pk}/")
        text = page.content.decode()
        assert page.status_code == 200 and "What was written is erased" in text
        assert date_format(localtime(erasure.completed_at), "DATETIME_FORMAT") in text
        assert not _marks(text)

    def test_another_persons_requests_keep_their_texts(self, client, alice, bob, dpo):
        bobs = _requests(bob, dpo)
        _erase(client, alice)
        rect = DataSubjectRequest.objects.get(pk=bobs["rectification"].pk)
        assert (rect.details, rect.answer, rect.texts_erased_at) == (WRONG, ANSWER, None)
        assert DataSubjectRequest.objects.get(pk=bobs["restriction"].pk).extension_reason == EXTENDED
        page = verified_client(client, bob).get("/privacy-requests/").content.decode()
        assert "Wrong-c7f3" in page and "What was written is erased" not in page

    def test_the_retention_purges_anonymisation_erases_them_too(self, alice, dpo, billing_staff):
        reqs = _requests(alice, dpo)
        account_close(user=alice, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        assert DataSubjectRequest.objects.get(pk=reqs["rectification"].pk).details == WRONG  # closing keeps them
        account_anonymise(user=alice, actor=billing_staff)
        assert not _marks(_texts_of(alice.pk))
        assert not DataSubjectRequest.objects.filter(user=alice, texts_erased_at__isnull=True).exists()

    def test_the_database_refuses_the_persons_words_beside_the_erased_mark(self, alice):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details=WRONG)
        with pytest.raises(IntegrityError), transaction.atomic():
            DataSubjectRequest.objects.filter(pk=req.pk).update(texts_erased_at=now())


class ErasedBeforeThisChangeTests:
    def test_the_migration_erases_the_texts_of_accounts_erased_earlier_and_keeps_later_answers(self, alice, bob,
                                                                                            dpo):
        from importlib import import_module

        reqs = _requests(alice, dpo)
        _requests(bob, dpo)
        stamp = now()
        User.objects.filter(pk=alice.pk).update(anonymised_at=stamp)
        closed = DataSubjectRequest.objects.filter(pk=reqs["access"].pk)
        closed.update(status="completed", completed_at=stamp, answer="Closed without further action")

        import_module("accounts.migrations.0037_datasubjectrequest_texts_erased").erased_accounts_texts(apps, None)

        assert not _marks(_texts_of(alice.pk))
        assert closed.get().answer == "Closed without further action"
        assert set(DataSubjectRequest.objects.filter(user=alice).values_list("texts_erased_at", flat=True)) == {stamp}
        assert len(_marks(_texts_of(bob.pk))) == len(MARKS) - 1
