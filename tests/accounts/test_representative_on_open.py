"""A representative asks, through support, for what the customer already has open: an access copy whose export is
stuck, so it is made again and the open request answers them too. Their kind, name and proof of authority are recorded
on that request (it had none), or only their proof (the same representative); another representative, or a second
proof, is a field error that changes nothing. Support's page says which; the audit entry has kinds and counts, never
the name. Without a stuck export the open request is refused as before."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.dsr.models import DataSubjectRequest, ExportFile, RepresentativeProof
from accounts.dsr.representative import (
    OPEN_HAS_OTHER_KIND, OPEN_HAS_OTHER_NAME, OPEN_HAS_PROOF, REPRESENTATIVE_ADDED, REPRESENTATIVE_SAME,
)
from accounts.dsr.services import ALREADY_OPEN_FOR_CUSTOMER, OPENED, RESENT, dsr_request_create
from accounts.support.services import support_request_open
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

Agent = DataSubjectRequest.RepresentativeKind
NAME = "Mr. A.B. de Vries-Representant"
OTHER = "Mrs. C. Jansen-Advocaat"
PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\n% Volmacht van Jansen aan De Vries\n%%EOF\n"


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _stuck(req: DataSubjectRequest) -> DataSubjectRequest:
    """Its export's build failed: asking again sends it again (dsr_export_retry)."""
    ExportFile.objects.filter(request=req).update(status=ExportFile.Status.FAILED, error="OSError")
    return req


def _through(support, user, name: str = NAME, agent: str = Agent.LAWYER, proof: bytes | None = None, kind="access"):
    return support_request_open(actor=support, user=user, kind=kind, representative_kind=agent,
                                representative_name=name, authority_checked=True, proof=proof)


def _names_in_audit() -> str:
    return json.dumps([e.extra for e in AuditEntry.objects.all()]).lower()


class RepresentativeOnOpenRequestTests:
    def test_it_records_the_representative_and_their_proof_on_the_customers_own_open_request(self, support, alice):
        own = _stuck(dsr_request_create(user=alice, kind="access"))

        answered = _through(support, alice, proof=PDF)

        assert answered.pk == own.pk and answered.open_outcome == REPRESENTATIVE_ADDED
        assert DataSubjectRequest.objects.filter(user=alice).count() == 1
        req = DataSubjectRequest.objects.get(pk=own.pk)
        assert (req.representative_kind, req.representative_name) == ("lawyer", NAME)
        assert req.representative_checked_at is not None and req.deadline == own.deadline
        assert RepresentativeProof.objects.get(request=req).size == len(PDF)
        assert list(req.exports.order_by("pk").values_list("status", flat=True)) == ["failed", "pending"]
        entry = AuditEntry.objects.get(action="dsr.representative_on_open", target_id=req.pk)
        assert entry.purpose == "legal_obligation"
        assert entry.extra == {"representative": "lawyer", "outcome": "representative_added", "proofs_added": 1}
        assert "vries" not in _names_in_audit() and "representant" not in _names_in_audit()

    def test_the_same_representative_again_adds_only_the_proof_the_request_lacked(self, support, alice):
        first = _stuck(_through(support, alice))
        checked = DataSubjectRequest.objects.get(pk=first.pk).representative_checked_at

        again = _through(support, alice, name="  mr. a.b.  de vries-representant ", proof=PDF)

        assert again.pk == first.pk and again.open_outcome == REPRESENTATIVE_SAME
        req = DataSubjectRequest.objects.get(pk=first.pk)
        assert (req.representative_name, req.representative_checked_at) == (NAME, checked)  # as first recorded
        assert RepresentativeProof.objects.filter(request=req).count() == 1
        assert AuditEntry.objects.get(action="dsr.representative_on_open").extra == {
            "representative": "lawyer", "outcome": "representative_same", "proofs_added": 1}

    @pytest.mark.parametrize("agent, name, field, message", [
        (Agent.LAWYER, OTHER, "representative_name", OPEN_HAS_OTHER_NAME),
        (Agent.POWER_OF_ATTORNEY, NAME, "representative_kind", OPEN_HAS_OTHER_KIND),
    ])
    def test_another_representative_is_refused_and_nothing_changes(self, support, alice, agent, name, field,
                                                                    message):
        first = _stuck(_through(support, alice))

        with pytest.raises(ApplicationError) as refused:
            _through(support, alice, name=name, agent=agent, proof=PDF)

        assert (refused.value.message, refused.value.extra["field"]) == (message, field)
        req = DataSubjectRequest.objects.get(pk=first.pk)
        assert (req.representative_kind, req.representative_name) == ("lawyer", NAME)
        assert not RepresentativeProof.objects.exists()
        assert list(req.exports.values_list("status", flat=True)) == ["failed"]  # not sent again either
        assert not AuditEntry.objects.filter(action__in=["dsr.representative_on_open", "dsr.export_retry"]).exists()

    def test_a_second_proof_is_refused_and_the_first_stays(self, support, alice):
        first = _stuck(_through(support, alice, proof=PDF))
        kept = RepresentativeProof.objects.get(request=first)

        with pytest.raises(ApplicationError) as refused:
            _through(support, alice, proof=PDF + b"% the second copy\n")

        assert (refused.value.message, refused.value.extra["field"]) == (OPEN_HAS_PROOF, "proof")
        assert RepresentativeProof.objects.get(request=first).sha256 == kept.sha256

    def test_the_customer_asking_again_through_support_leaves_the_representative_as_it_was(self, support, alice):
        first = _stuck(_through(support, alice, proof=PDF))
        again = support_request_open(actor=support, user=alice, kind="access")
        assert again.pk == first.pk and again.open_outcome == RESENT
        req = DataSubjectRequest.objects.get(pk=first.pk)
        assert (req.representative_kind, req.representative_name) == ("lawyer", NAME)
        assert not AuditEntry.objects.filter(action="dsr.representative_on_open").exists()

    def test_an_open_request_that_is_not_stuck_is_refused_as_before_and_records_nothing(self, support, alice):
        own = dsr_request_create(user=alice, kind="access")  # its export is pending, not late
        with pytest.raises(ApplicationError) as refused:
            _through(support, alice, proof=PDF)
        assert refused.value.message == ALREADY_OPEN_FOR_CUSTOMER % {"number": own.pk}
        req = DataSubjectRequest.objects.get(pk=own.pk)
        assert (req.representative_kind, req.representative_name) == ("", None)
        assert not RepresentativeProof.objects.exists()

    def test_a_new_request_says_it_was_opened(self, support, alice):
        assert _through(support, alice, kind="restriction").open_outcome == OPENED


class RepresentativeOnOpenPageTests:
    def _post(self, client, support, user, **fields):
        data = {"kind": "access", "representative_kind": "lawyer", "representative_name": NAME,
                "authority_checked": "on", **fields}
        return verified_client(client, support).post(f"/support/customers/{user.pk}/requests/", data, follow=True)

    def test_support_is_told_no_new_request_was_opened_and_what_was_recorded(self, client, support, alice):
        own = _stuck(dsr_request_create(user=alice, kind="access"))
        done = self._post(client, support, alice,
                          proof=SimpleUploadedFile("volmacht.pdf", PDF, content_type="application/pdf"))
        page = done.content.decode()
        assert done.status_code == 200
        assert f"No new request was opened: the customer already had request #{own.pk} of this kind open" in page
        assert "Its export is being prepared again. The representative is now recorded on that request." in page
        assert "Their proof of authority is kept with it." in page
        assert f"Request #{own.pk} opened" not in page
        assert DataSubjectRequest.objects.get(pk=own.pk).representative_kind == "lawyer"

    def test_the_same_representative_without_a_proof_is_told_so(self, client, support, alice):
        first = _stuck(_through(support, alice))
        page = self._post(client, support, alice).content.decode()
        assert f"already had request #{first.pk} of this kind open" in page
        assert "That request was already recorded as made through this representative." in page
        assert "proof of authority is kept" not in page

    def test_another_representative_is_a_field_error_on_the_card(self, client, support, alice):
        _stuck(_through(support, alice))
        response = self._post(client, support, alice, representative_name=OTHER)
        assert response.status_code == 400
        error = response.content.decode().replace("&#x27;", "'").split('id="id_representative_name_error"', 1)
        assert len(error) == 2 and "made through another representative" in error[1].split("</ul>", 1)[0]
        assert DataSubjectRequest.objects.get(user=alice).representative_name == NAME

    def test_the_card_with_the_outcome_renders_in_dutch(self, client, support, alice):
        _stuck(dsr_request_create(user=alice, kind="access"))
        c = verified_client(client, support)
        done = c.post(f"/support/customers/{alice.pk}/requests/",
                      {"kind": "access", "representative_kind": "lawyer", "representative_name": NAME,
                       "authority_checked": "on"}, HTTP_ACCEPT_LANGUAGE="nl", follow=True)
        assert done.status_code == 200 and 'name="authority_checked"' in done.content.decode()
