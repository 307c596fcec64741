"""Support records a rights request made through a representative (a lawyer, the legal guardian of a minor, someone
with a power of attorney): with the kind's code, the representative's name kept encrypted, and support's
confirmation that it checked their proof of authority. The audit entry gets the kind's code only; the answer goes
to the customer's account as usual; the DPO sees who made it on the request's page. Bad input is a field error."""
from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import (
    REPRESENTATIVE_KIND_INVALID, REPRESENTATIVE_NAME_REQUIRED, REPRESENTATIVE_NAME_TOO_LONG,
    REPRESENTATIVE_PROOF_REQUIRED, REPRESENTATIVE_WITHOUT_KIND, dsr_request_complete,
)
from accounts.support.services import support_request_open
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

Agent = DataSubjectRequest.RepresentativeKind
NAME = "Mr. A.B. de Vries-Representant"


def _raw_name(req: DataSubjectRequest) -> bytes:
    """The column as stored, undecrypted."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT representative_name FROM accounts_datasubjectrequest WHERE id = %s", [req.pk])
        return bytes(cursor.fetchone()[0])


def _open_url(user) -> str:
    return f"/support/customers/{user.pk}/requests/"


class RepresentativeServiceTests:
    def test_it_records_a_request_through_a_lawyer_name_encrypted_and_only_the_kind_audited(self, support, alice):
        req = support_request_open(actor=support, user=alice, kind="rectification", details="My label is wrong",
                                   representative_kind=Agent.LAWYER, representative_name=f"  {NAME} ",
                                   authority_checked=True)

        req = DataSubjectRequest.objects.get(pk=req.pk)
        assert (req.user_id, req.kind, req.status) == (alice.pk, "rectification", "received")
        assert (req.representative_kind, req.representative_name) == ("lawyer", NAME)
        assert req.representative_checked_at is not None and req.representative_checked_at <= now()
        assert b"Vries" not in _raw_name(req)  # encrypted at rest
        entry = AuditEntry.objects.get(action="dsr.create")
        assert entry.extra == {"kind": "rectification", "on_behalf": True, "representative": "lawyer"}
        logged = json.dumps([e.extra for e in AuditEntry.objects.all()]).lower()
        assert "vries" not in logged and "representant" not in logged

    @pytest.mark.parametrize("kind", [Agent.LEGAL_GUARDIAN, Agent.POWER_OF_ATTORNEY, Agent.OTHER])
    def test_each_kind_of_representative_is_recorded_by_its_code(self, support, alice, kind):
        req = support_request_open(actor=support, user=alice, kind="restriction", representative_kind=kind,
                                   representative_name=NAME, authority_checked=True)
        assert DataSubjectRequest.objects.get(pk=req.pk).representative_kind == kind
        assert AuditEntry.objects.get(action="dsr.create").extra["representative"] == kind

    def test_a_request_the_customer_made_themselves_records_no_representative(self, support, alice):
        req = support_request_open(actor=support, user=alice, kind="restriction")
        req = DataSubjectRequest.objects.get(pk=req.pk)
        assert (req.representative_kind, req.representative_name, req.representative_checked_at) == ("", None, None)
        assert AuditEntry.objects.get(action="dsr.create").extra == {"kind": "restriction", "on_behalf": True}

    @pytest.mark.parametrize("agent, name, checked, field, message", [
        (Agent.LAWYER, NAME, False, "authority_checked", REPRESENTATIVE_PROOF_REQUIRED),
        (Agent.LAWYER, "   ", True, "representative_name", REPRESENTATIVE_NAME_REQUIRED),
        (Agent.LAWYER, "x" * 201, True, "representative_name", REPRESENTATIVE_NAME_TOO_LONG),
        ("cousin", NAME, True, "representative_kind", REPRESENTATIVE_KIND_INVALID),
        ("", NAME, False, "representative_kind", REPRESENTATIVE_WITHOUT_KIND),
        ("", "", True, "representative_kind", REPRESENTATIVE_WITHOUT_KIND),
    ])
    def test_it_refuses_an_incomplete_representative_and_records_nothing(self, support, alice, agent, name, checked,
                                                                          field, message):
        with pytest.raises(ApplicationError) as refused:
            support_request_open(actor=support, user=alice, kind="restriction", representative_kind=agent,
                                 representative_name=name, authority_checked=checked)
        assert refused.value.message == message and refused.value.extra["field"] == field
        assert not DataSubjectRequest.objects.exists() and not AuditEntry.objects.filter(action="dsr.create").exists()

    def test_erasure_stays_the_customers_own_through_a_representative_too(self, support, alice):
        with pytest.raises(ApplicationError, match="only the customer can ask"):
            support_request_open(actor=support, user=alice, kind="erasure", representative_kind=Agent.LAWYER,
                                 representative_name=NAME, authority_checked=True)
        assert not DataSubjectRequest.objects.exists()

    def test_the_database_refuses_a_representative_without_the_check(self, alice):
        with pytest.raises(IntegrityError), transaction.atomic():
            DataSubjectRequest.objects.create(user=alice, kind="restriction", deadline=now(),
                                              representative_kind=Agent.LAWYER, representative_name=NAME)

    def test_the_answer_goes_to_the_customers_account(self, client, support, alice, dpo):
        req = support_request_open(actor=support, user=alice, kind="rectification", details="My label is wrong",
                                   representative_kind=Agent.POWER_OF_ATTORNEY, representative_name=NAME,
                                   authority_checked=True)
        dsr_request_complete(request=req, answer="We corrected the label of your number.", actor=dpo)
        page = verified_client(client, alice).get("/privacy-requests/").content.decode()
        assert "We corrected the label of your number." in page


class RepresentativePageTests:
    def test_support_records_it_from_the_customer_card_and_sees_the_kind_not_the_name(self, client, support, alice):
        c = verified_client(client, support)
        card = c.get(f"/support/customers/{alice.pk}/").content.decode()
        for name in ("representative_kind", "representative_name", "authority_checked"):
            assert f'name="{name}"' in card
        assert "not to the representative" in card

        done = c.post(_open_url(alice), {"kind": "restriction", "representative_kind": "legal_guardian",
                                         "representative_name": NAME, "authority_checked": "on"}, follow=True)
        page = done.content.decode()
        assert done.status_code == 200 and "made through their representative" in page
        assert "The answer goes to the customer&#x27;s account" in page
        req = DataSubjectRequest.objects.get(user=alice)
        assert (req.representative_kind, req.representative_name) == ("legal_guardian", NAME)
        assert "through a representative (Legal guardian (of a minor))" in page
        assert "Vries" not in page  # the name is the DPO's to read

    @pytest.mark.parametrize("data, field, words", [
        ({"representative_kind": "lawyer", "representative_name": NAME}, "authority_checked",
         "check the representative"),
        ({"representative_kind": "lawyer", "authority_checked": "on"}, "representative_name",
         "give the name of the person"),
        ({"representative_kind": "lawyer", "representative_name": "x" * 201, "authority_checked": "on"},
         "representative_name", "at most 200 characters"),
        ({"representative_kind": "uncle", "representative_name": NAME, "authority_checked": "on"},
         "representative_kind", "Select a valid choice"),
        ({"representative_name": NAME}, "representative_kind", "choose the kind of representative"),
    ])
    def test_missing_or_bad_fields_are_field_errors_not_a_500(self, client, support, alice, data, field, words):
        response = verified_client(client, support).post(_open_url(alice), {"kind": "restriction", **data})
        assert response.status_code == 400
        page = response.content.decode().replace("&#x27;", "'")
        error = page.split(f'id="id_{field}_error"', 1)
        assert len(error) == 2 and words in error[1].split("</ul>", 1)[0], page
        assert not DataSubjectRequest.objects.exists()

    def test_the_dpo_sees_who_made_it_on_the_request_page(self, client, support, alice, dpo):
        req = support_request_open(actor=support, user=alice, kind="restriction", representative_kind=Agent.LAWYER,
                                   representative_name=NAME, authority_checked=True)
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        assert "Made through a representative" in page and f"Lawyer: {NAME}" in page
        assert "Support checked their proof of authority on" in page
        assert "to the customer's account" in page and "not to the representative" in page
        assert AuditEntry.objects.filter(action="dsr.get", purpose="legal_obligation").exists()

    def test_a_request_without_a_representative_shows_none(self, client, support, alice, dpo):
        req = support_request_open(actor=support, user=alice, kind="restriction")
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        assert "Made through a representative" not in page

    def test_the_card_renders_in_dutch(self, client, support, alice):
        page = verified_client(client, support).get(f"/support/customers/{alice.pk}/", HTTP_ACCEPT_LANGUAGE="nl")
        assert page.status_code == 200 and 'name="authority_checked"' in page.content.decode()
