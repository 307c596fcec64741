"""Restricted disclosures are omitted from the data-subject export and the omission is logged (LEGAL.md section 5,
row 23): the export's audit entry says how many disclosures about the person it left out, as a number only."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_request_create
from accounts.services.numbers import phone_number_assign
from disclosures.models import AuthorityKind, LegalBasis
from disclosures.services.authorities import authority_create, authority_verify
from tests.accounts.dsr_helpers import export_json, export_zip, section
from tests.disclosures.conftest import receive, to_state, with_certificate
from voipxs.models import AuditEntry

pytestmark = pytest.mark.django_db
ALICE_NUMBER, ALICE_NEW_NUMBER, BOB_NUMBER = "+31205550101", "+31205550111", "+31205550201"


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


@pytest.fixture
def bodies(legal1, legal2) -> dict[str, object]:
    """A police unit, a court and a dispute commission, registered by legal1 and verified by legal2."""
    out = {}
    for kind, name in ((AuthorityKind.POLICE, "Politie Eenheid Test"), (AuthorityKind.COURT, "Rechtbank Test"),
                       (AuthorityKind.DISPUTE_COMMISSION, "Geschillencommissie Test")):
        body = authority_create(actor=legal1, name=name, kind=kind, contact_phone="+31205559999")
        out[kind] = with_certificate(authority_verify(actor=legal2, authority=body, note="register"), actor=legal1)
    return out


def _export(user, capture) -> tuple[ExportFile, AuditEntry]:
    with capture(execute=True):
        req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.ACCESS)
    export = ExportFile.objects.get(request=req)
    return export, AuditEntry.objects.get(action="dsr.export_ready", target_id=str(req.pk))


class ExportWithheldTests:
    def test_it_lists_the_notified_disclosure_and_logs_one_withheld(self, alice, legal1, legal2, legal3, bodies,
                                                                   django_capture_on_commit_callbacks):
        def deliver(req):
            return to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3])

        # A dispute ruling on alice's number: she is told (her notice a draft that an officer has yet to send; the
        # disclosure is made all the same, and listed). A court order on her account under a secrecy order that
        # runs two more months: her notice is withheld.
        told = deliver(receive(legal1, bodies[AuthorityKind.DISPUTE_COMMISSION], numbers=[ALICE_NUMBER],
                               basis=LegalBasis.DISPUTE_RULING, reference="TOLD-1"))
        secret = deliver(receive(legal1, bodies[AuthorityKind.COURT], numbers=[], account_ids=[alice.pk],
                                 basis=LegalBasis.COURT_ORDER, categories=("user_data",), reference="SECRET-1",
                                 secrecy_until=now().date() + timedelta(days=60)))
        assert [n.state for n in told.notices.all()] == ["draft"] and [n.state for n in secret.notices.all()] == [
            "withheld"]

        export, entry = _export(alice, django_capture_on_commit_callbacks)
        rows = section(export_json(export), "disclosures")["rows"]
        assert [r["request"] for r in rows] == [told.pk]
        assert entry.extra == {"rows": entry.extra["rows"], "withheld": {"disclosures": 1}}
        assert entry.extra["rows"]["disclosures"] == 1
        assert "SECRET" not in json.dumps(entry.extra)  # a number, never which case
        # The person learns of it nowhere: not in the ZIP, not in the request's answer.
        everything = b"".join(export_zip(export).read(n) for n in export_zip(export).namelist())
        assert b"SECRET-1" not in everything and b"withheld" not in everything.lower()
        assert "withheld" not in json.dumps(DataSubjectRequest.objects.get(pk=export.request_id).outcome)

    def test_it_counts_claims_on_a_number_only_while_the_person_held_it(self, alice, bob, legal1, legal2, legal3,
                                                                        bodies, django_capture_on_commit_callbacks):
        police = bodies[AuthorityKind.POLICE]

        def claim(number: str, *, ended_days_ago: int, delivered: bool = True):
            # Sv 126n: nobody is told (the basis's default), so no export lists it.
            end = (now() - timedelta(days=ended_days_ago)).replace(microsecond=0)
            req = receive(legal1, police, numbers=[number], window=(end - timedelta(days=30), end))
            return to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3]) if delivered else req

        # alice has held her first number for a year (the fixture), the new one only since 10 days ago.
        phone_number_assign(user=alice, number=ALICE_NEW_NUMBER, valid_from=now() - timedelta(days=10))
        claim(ALICE_NUMBER, ended_days_ago=30)  # hers: counted
        claim(ALICE_NEW_NUMBER, ended_days_ago=5)  # the window overlaps her holding: counted
        claim(ALICE_NEW_NUMBER, ended_days_ago=20)  # before she held it: not about her
        claim(ALICE_NUMBER, ended_days_ago=1, delivered=False)  # nothing handed over yet
        claim(BOB_NUMBER, ended_days_ago=1)  # bob's

        export, entry = _export(alice, django_capture_on_commit_callbacks)
        assert section(export_json(export), "disclosures")["rows"] == []
        assert entry.extra["withheld"] == {"disclosures": 2}
        _, bobs = _export(bob, django_capture_on_commit_callbacks)
        assert bobs.extra["withheld"] == {"disclosures": 1}
