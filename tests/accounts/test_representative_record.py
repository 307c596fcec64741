"""A request made through a representative, seen by the person and after their account goes.

The person's own export (GDPR art. 15, 20) and their privacy page say which of their requests a representative made,
of which kind, by name, and when support checked the proof of authority. When the person's account is erased (or the
retention purge anonymises it), the representative's name (a third party's, kept for that request only) goes, the
request says when, and the kind and the check stay as the record; the erasure's audit entry counts it."""
from __future__ import annotations

import csv
import io
import json
import re

import jsonschema
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime, now
from django.utils.translation import gettext

from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from accounts.models import AccountCloseReason
from accounts.services.closing import account_anonymise, account_close
from accounts.support.services import support_request_open
from tests.accounts.dsr_helpers import access_export, export_json_valid, export_schema, export_zip, section
from tests.factories import PASSWORD, verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

Agent = DataSubjectRequest.RepresentativeKind
NAME = "Mr. A.B. de Vries-Representant"
PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n"
COPY_KEPT = "A copy of it is kept; only our data protection officer can open it."
NO_COPY = "No copy of it is kept."
SCHEMA = export_schema()


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _through_lawyer(support, user) -> DataSubjectRequest:
    return support_request_open(actor=support, user=user, kind="rectification", details="My label is wrong",
                                representative_kind=Agent.LAWYER, representative_name=NAME, authority_checked=True)


def _representative_checks(page: str) -> list[str]:
    """What the person's privacy page says of each representative's proof of authority, spaces collapsed."""
    return [" ".join(text.split()) for text in
            re.findall(r'<span class="representative-check">(.*?)</span>', page, re.DOTALL)]


def _erase(client, user) -> None:
    verified_client(client, user)
    done = client.post("/privacy-requests/new/", {"kind": "erasure", "password": PASSWORD, "confirm": "yes"})
    assert done.status_code == 200


def _raw_name(req: DataSubjectRequest):
    with connection.cursor() as cursor:
        cursor.execute("SELECT representative_name FROM accounts_datasubjectrequest WHERE id = %s", [req.pk])
        return cursor.fetchone()[0]


class RepresentativeInOwnExportTests:
    def test_the_export_says_which_request_a_representative_made_by_kind_and_name(
            self, support, alice, django_capture_on_commit_callbacks):
        agent_req = _through_lawyer(support, alice)
        own = access_export(alice, django_capture_on_commit_callbacks).request
        data = export_json_valid(ExportFile.objects.get(request=own))

        rows = {row["id"]: row for row in section(data, "requests")["rows"]}
        made_for = rows[agent_req.pk]
        assert made_for["through_representative"] is True
        assert (made_for["representative_kind"], made_for["representative_name"]) == ("lawyer", NAME)
        checked = DataSubjectRequest.objects.get(pk=agent_req.pk).representative_checked_at
        assert made_for["representative_authority_checked_at"] == checked.isoformat()
        mine = rows[own.pk]
        assert mine["through_representative"] is False and made_for["representative_proof_kept"] is False
        assert (mine["representative_kind"], mine["representative_name"],
                mine["representative_authority_checked_at"]) == ("", None, None)

        lines = list(csv.DictReader(io.StringIO(export_zip(ExportFile.objects.get(request=own))
                                                .read("requests.csv").decode("utf-8"))))
        by_id = {int(line["id"]): line for line in lines}
        assert (by_id[agent_req.pk]["through_representative"], by_id[agent_req.pk]["representative_kind"],
                by_id[agent_req.pk]["representative_name"]) == ("true", "lawyer", NAME)
        assert (by_id[own.pk]["through_representative"], by_id[own.pk]["representative_name"]) == ("false", "")

    @pytest.mark.parametrize("change", ["drop_kind", "drop_flag", "drop_proof", "unknown_kind", "extra_column"])
    def test_the_schema_refuses_a_request_row_that_hides_or_adds_to_it(self, change):
        row = {"id": 1, "kind": "rectification", "status": "received", "received_at": "2026-12-01T10:00:00+00:00",
               "deadline": "2027-01-01T10:00:00+00:00", "through_representative": True,
               "representative_kind": "lawyer", "representative_name": NAME,
               "representative_authority_checked_at": "2026-12-01T10:00:00+00:00", "representative_proof_kept": False}
        data = {"$schema": SCHEMA["$id"], "schema_version": 1, "generated_at": "2026-12-01T10:00:00+00:00",
                "subject": {"account_id": 1},
                "sections": [{"name": "requests", "description": "", "purpose": "self_service",
                              "purpose_description": "", "legal_basis": "x", "retention": "x", "rows": [row],
                              "count": 1}]}
        jsonschema.validate(data, SCHEMA)  # as the export writes it
        if change == "drop_kind":
            del row["representative_kind"]
        elif change == "drop_flag":
            del row["through_representative"]
        elif change == "drop_proof":
            del row["representative_proof_kept"]
        elif change == "unknown_kind":
            row["representative_kind"] = "cousin"
        else:
            row["representative_phone"] = "+31699990000"
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, SCHEMA)

    def test_the_persons_privacy_page_says_who_made_it_for_them(self, client, support, alice):
        _through_lawyer(support, alice)
        dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RESTRICTION)
        page = verified_client(client, alice).get("/privacy-requests/").content.decode()
        assert page.count('class="representative"') == 1
        assert f"Made for you by {NAME} (Lawyer)" in page

    @pytest.mark.parametrize("language, checked_in_words", [
        ("en", "Support checked their proof of authority on"),
        ("nl", "De klantenservice heeft het bewijs van bevoegdheid gecontroleerd op")])
    def test_the_persons_privacy_page_says_when_the_proof_was_checked_and_whether_a_copy_is_kept(
            self, client, support, alice, language, checked_in_words):
        """As the person's API and export do (representative_authority_checked_at, representative_proof_kept),
        read through the same selector: the time of the check and whether a copy is kept, never the copy."""
        kept = support_request_open(actor=support, user=alice, kind="restriction", representative_kind=Agent.LAWYER,
                                    representative_name=NAME, authority_checked=True, proof=PDF)
        not_kept = _through_lawyer(support, alice)
        dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
        verified_client(client, alice)
        client.cookies["django_language"] = language
        page = client.get("/privacy-requests/").content.decode()

        with translation.override(language):
            expected = [gettext("Support checked their proof of authority on %(date)s.") % {
                "date": date_format(localtime(DataSubjectRequest.objects.get(pk=req.pk).representative_checked_at),
                                    "DATETIME_FORMAT")} + " " + gettext(copy)
                for req, copy in ((not_kept, NO_COPY), (kept, COPY_KEPT))]  # newest first; not the person's own
        assert _representative_checks(page) == expected
        assert expected[0].startswith(checked_in_words)
        assert page.count('class="representative"') == 2
        assert "%PDF" not in page and "representative-proof" not in page

class RepresentativeNameAfterErasureTests:
    def test_erasure_blanks_the_name_keeps_the_kind_and_the_check_and_counts_it_in_the_audit(
            self, client, support, alice, dpo):
        req = _through_lawyer(support, alice)
        dsr_request_complete(request=req, answer="We corrected it.", actor=dpo)
        checked = DataSubjectRequest.objects.get(pk=req.pk).representative_checked_at

        _erase(client, alice)

        req = DataSubjectRequest.objects.get(pk=req.pk)
        erasure = DataSubjectRequest.objects.get(user=alice, kind="erasure")
        assert req.representative_name is None and _raw_name(req) is None  # no ciphertext left either
        assert req.representative_name_erased_at == erasure.completed_at
        assert (req.representative_kind, req.representative_checked_at) == ("lawyer", checked)
        entry = AuditEntry.objects.get(action="dsr.erase")
        assert entry.extra["representative_names_erased"] == 1
        logged = json.dumps([e.extra for e in AuditEntry.objects.all()]).lower()
        assert "vries" not in logged and "representant" not in logged
        assert erasure.outcome["counts"]["account"]["representative_names_erased"] == 1

    def test_the_dpo_page_after_erasure_says_the_name_was_erased_and_still_shows_the_check(
            self, client, support, alice, dpo):
        req = _through_lawyer(support, alice)
        _erase(client, alice)
        client.logout()

        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        section_ = page.split('id="representative"', 1)[1].split("</dd>", 1)[0]
        assert "Lawyer: their name and any proof of authority were erased on" in section_
        assert "erased on " in section_ and ", with the customer's account." in section_
        assert "Support checked their proof of authority on" in section_
        assert "Vries" not in page

    def test_an_erasure_with_no_representative_counts_none(self, client, alice):
        dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RESTRICTION)
        _erase(client, alice)
        assert AuditEntry.objects.get(action="dsr.erase").extra["representative_names_erased"] == 0
        assert not DataSubjectRequest.objects.filter(representative_name_erased_at__isnull=False).exists()

    def test_another_persons_representative_keeps_their_name(self, client, support, alice, bob):
        bobs = _through_lawyer(support, bob)
        _erase(client, alice)
        bobs = DataSubjectRequest.objects.get(pk=bobs.pk)
        assert (bobs.representative_name, bobs.representative_name_erased_at) == (NAME, None)

    def test_the_retention_purges_anonymisation_blanks_it_too(self, support, alice, billing_staff):
        req = _through_lawyer(support, alice)
        account_close(user=alice, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        assert DataSubjectRequest.objects.get(pk=req.pk).representative_name == NAME  # closing alone keeps it

        account_anonymise(user=alice, actor=billing_staff)

        req = DataSubjectRequest.objects.get(pk=req.pk)
        assert req.representative_name is None and req.representative_name_erased_at is not None
        assert req.representative_kind == "lawyer"
        assert AuditEntry.objects.get(action="account.anonymise").extra["representative_names_erased"] == 1


class RepresentativeConstraintTests:
    @pytest.mark.parametrize("kind, name, erased", [
        (Agent.LAWYER, None, False),  # a representative without a name and not erased
        (Agent.LAWYER, NAME, True),  # a name said to be erased but still there
        ("", None, True),  # erased without any representative
        ("", NAME, False),  # a name without a kind
    ])
    def test_the_database_refuses_a_name_and_its_erasure_that_do_not_fit(self, alice, kind, name, erased):
        with pytest.raises(IntegrityError), transaction.atomic():
            DataSubjectRequest.objects.create(user=alice, kind="restriction", deadline=now(),
                                              representative_kind=kind, representative_name=name,
                                              representative_checked_at=now() if kind else None,
                                              representative_name_erased_at=now() if erased else None)

    @pytest.mark.parametrize("kind, name, erased", [(Agent.LAWYER, NAME, False), (Agent.LAWYER, None, True),
                                                    ("", None, False)])
    def test_the_database_takes_a_name_an_erased_name_or_no_representative(self, alice, kind, name, erased):
        DataSubjectRequest.objects.create(user=alice, kind="restriction", deadline=now(), representative_kind=kind,
                                          representative_name=name, representative_checked_at=now() if kind else None,
                                          representative_name_erased_at=now() if erased else None)
