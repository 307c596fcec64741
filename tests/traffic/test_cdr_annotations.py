"""Rectification of a call (GDPR art. 16, LEGAL.md section 5 row 24): a CDR is never changed, neither through
the admin nor by the DPO; the DPO attaches what the customer states to it as a note, which the customer then
sees with the call (page in English and Dutch, API) and in their data export, and which goes with the call."""
from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.test import override_settings
from django.utils import translation
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from tests.accounts.dsr_helpers import access_export, export_json_valid, export_zip, section
from tests.factories import PASSWORD, make_cdr, verified_client
from traffic.annotations.sealing import cdr_annotation_rotate, note_open, note_seal_kept
from traffic.models import Cdr, CdrAnnotation
from traffic.services.annotations import (
    CALL_NOT_FOUND, CALL_NOT_THE_REQUESTERS, NOTE_MAX_LENGTH, REQUEST_NOT_OPEN, TEXT_REQUIRED, TEXT_TOO_LONG,
    cdr_annotate,
)
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy import registry

STATEMENT = "The customer states this call was not made from their line."
OTHER_NUMBER = "+31699993678"


@pytest.fixture
def call(alice) -> Cdr:
    return make_cdr(account=alice, src="+31205550101", dst=OTHER_NUMBER, started_at=now() - timedelta(days=2))


@pytest.fixture
def request_of_alice(alice) -> DataSubjectRequest:
    return dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION,
                              details="The call of two days ago was not mine.")


def annotate(dpo, call, req, text: str = STATEMENT) -> CdrAnnotation:
    return cdr_annotate(actor=dpo, cdr_id=call.id, started_at=call.started_at, text=text, dsr_request=req)


def call_fields(cdr: Cdr) -> dict:
    fresh = Cdr.objects.get(pk=cdr.pk)
    return {**model_to_dict(fresh), **{name: bytes(getattr(fresh, name) or b"")
                                       for name in ("src_enc", "dst_enc", "caller_name_enc")}}


@pytest.mark.django_db
class CdrAnnotateTests:
    def test_the_dpo_annotates_a_call_of_the_requester_and_the_call_stays_as_recorded(self, dpo, call,
                                                                                       request_of_alice):
        before = call_fields(call)
        note = annotate(dpo, call, request_of_alice)
        assert call_fields(call) == before
        note.refresh_from_db()
        assert (note.cdr_id, note.started_at, note.account_id) == (call.id, call.started_at, call.account_id)
        assert (note.author_id, note.dsr_request_id, note.kept_at) == (dpo.pk, request_of_alice.pk, None)
        assert STATEMENT.encode() not in bytes(note.text_enc)  # stored under the call's month key
        assert note_open(note.text_enc, cdr_id=call.id, started_at=call.started_at, kept=False) == STATEMENT

    def test_the_audit_entry_names_ids_and_never_the_text(self, dpo, call, request_of_alice):
        note = annotate(dpo, call, request_of_alice)
        entry = AuditEntry.objects.filter(action="cdr.annotate").get()
        assert (entry.target_type, entry.target_id) == ("cdr", str(call.id))
        assert entry.extra == {"note": note.pk, "request": request_of_alice.pk}
        assert "not made from" not in json.dumps([entry.actor, entry.target_id, entry.extra])

    def test_anyone_but_the_dpo_is_refused(self, alice, billing_staff, legal1, support, call, request_of_alice):
        for actor in (alice, billing_staff, legal1, support):
            with pytest.raises(PermissionDenied):
                annotate(actor, call, request_of_alice)
        assert not CdrAnnotation.objects.exists()

    def test_an_empty_or_too_long_text_is_refused_naming_the_field_text(self, dpo, call, request_of_alice):
        too_long = "x" * (NOTE_MAX_LENGTH + 1)
        for text, message in (("", TEXT_REQUIRED), ("  \n ", TEXT_REQUIRED), (too_long, TEXT_TOO_LONG)):
            with pytest.raises(ApplicationError) as refused:
                annotate(dpo, call, request_of_alice, text=text)
            assert refused.value.message == message and refused.value.extra["field"] == "text"
        assert not CdrAnnotation.objects.exists()

    def test_a_call_of_another_customer_is_refused_when_a_request_is_given(self, dpo, bob, request_of_alice):
        bobs = make_cdr(account=bob, src="+31205550201")
        with pytest.raises(ApplicationError) as refused:
            annotate(dpo, bobs, request_of_alice)
        assert refused.value.message == CALL_NOT_THE_REQUESTERS and refused.value.extra == {"field": "call"}
        assert not CdrAnnotation.objects.exists()

    def test_a_call_that_does_not_exist_is_refused(self, dpo, call, request_of_alice):
        for cdr_id, started_at in ((call.id + 1000, call.started_at), (call.id, call.started_at - timedelta(hours=1))):
            with pytest.raises(ApplicationError) as refused:
                cdr_annotate(actor=dpo, cdr_id=cdr_id, started_at=started_at, text=STATEMENT,
                             dsr_request=request_of_alice)
            assert refused.value.message == CALL_NOT_FOUND
        assert not CdrAnnotation.objects.exists()

    def test_a_closed_request_is_answered_no_more(self, dpo, call, request_of_alice):
        dsr_request_complete(request=request_of_alice, answer="Noted on the call.", actor=dpo)
        with pytest.raises(ApplicationError) as refused:
            annotate(dpo, call, request_of_alice)
        assert refused.value.message == REQUEST_NOT_OPEN


@pytest.mark.django_db
class CustomerSeesTheNoteTests:
    def test_the_call_history_shows_the_note_with_the_call_in_english(self, client, dpo, alice, call,
                                                                      request_of_alice):
        make_cdr(account=alice, started_at=now() - timedelta(days=1))  # a call without a note
        annotate(dpo, call, request_of_alice, text="Not my call <b>at all</b>")
        body = verified_client(client, alice).get("/calls/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert body.count('<tr class="note">') == 1
        assert '<strong class="badge warn">Note</strong>' in body and "(added on " in body
        assert "Not my call &lt;b&gt;at all&lt;/b&gt;" in body and "<b>at all</b>" not in body

    def test_the_call_history_shows_the_note_with_the_call_in_dutch(self, client, dpo, alice, call,
                                                                    request_of_alice):
        annotate(dpo, call, request_of_alice)
        body = verified_client(client, alice).get("/calls/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        with translation.override("nl"):  # the catalogue's Dutch words (the English until they are translated)
            label, added = translation.gettext("Note"), translation.gettext("added on %(date)s")
        assert '<html lang="nl"' in body and f'<strong class="badge warn">{label}</strong>' in body
        assert f"({added.split('%(date)s')[0]}" in body and STATEMENT in body

    def test_the_api_gives_the_notes_with_the_call(self, client, dpo, alice, call, request_of_alice):
        plain = make_cdr(account=alice, started_at=now() - timedelta(days=1))
        note = annotate(dpo, call, request_of_alice)
        results = verified_client(client, alice).get("/api/v1/me/calls/").json()["results"]
        by_id = {row["id"]: row for row in results}
        assert by_id[plain.id]["notes"] == []
        [shown] = by_id[call.id]["notes"]
        assert shown["text"] == STATEMENT and datetime.fromisoformat(shown["created_at"]) == note.created_at

    def test_a_contractor_admin_never_sees_a_users_note(self, client, dpo, bob, acme_admin):
        bobs = make_cdr(account=bob, src="+31205550201")
        req = dsr_request_create(user=bob, kind=DataSubjectRequest.Kind.RECTIFICATION, details="Not mine.")
        annotate(dpo, bobs, req)
        verified_client(client, acme_admin)
        [row] = client.get("/api/v1/contractor/calls/").json()["results"]
        assert row["id"] == bobs.id and "notes" not in row
        assert STATEMENT not in client.get("/calls/contractor/").content.decode()


@pytest.fixture
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


@pytest.mark.django_db
@pytest.mark.usefixtures("_private_dir")
class ExportTests:
    def test_the_access_export_has_the_note_with_its_call_and_validates(self, dpo, alice, call, request_of_alice,
                                                                        django_capture_on_commit_callbacks):
        plain = make_cdr(account=alice, started_at=now() - timedelta(days=1))
        note = annotate(dpo, call, request_of_alice)
        export = access_export(alice, django_capture_on_commit_callbacks)
        data = export_json_valid(export)
        calls = {row["id"]: row for row in section(data, "calls")["rows"]}
        assert calls[plain.id]["notes"] is None
        assert calls[call.id]["notes"] == [{"text": STATEMENT, "created_at": note.created_at.isoformat(),
                                             "request": request_of_alice.pk}]
        rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(export_zip(export).read("calls.csv").decode()))}
        assert json.loads(rows[call.id]["notes"])[0]["text"] == STATEMENT and rows[plain.id]["notes"] == ""


@pytest.mark.django_db
class DpoPageTests:
    def _url(self, req) -> str:
        return f"/calls/staff/privacy-requests/{req.pk}/call-notes/"

    def _value(self, call) -> str:
        return f"{call.id}@{call.started_at.isoformat()}"

    def test_the_rectification_page_lists_the_requesters_calls_masked_and_their_notes(self, client, dpo, call,
                                                                                      request_of_alice):
        annotate(dpo, call, request_of_alice)
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/{request_of_alice.pk}/").content.decode()
        assert 'id="call-notes"' in page and STATEMENT in page
        assert f'value="{call.id}@' in page and "+31699993•••" in page and OTHER_NUMBER not in page
        access = dsr_request_create(user=call.account, kind=DataSubjectRequest.Kind.RESTRICTION)
        assert 'id="call-notes"' not in client.get(f"/privacy-requests/dpo/{access.pk}/").content.decode()

    def test_adding_a_note_asks_first_then_attaches_it(self, client, dpo, call, request_of_alice):
        verified_client(client, dpo)
        form = {"call": self._value(call), "text": STATEMENT, "day": ""}
        asked = client.post(self._url(request_of_alice), form)
        assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.content.decode()
        assert not CdrAnnotation.objects.exists()
        done = client.post(self._url(request_of_alice), {**form, "confirm": "yes"})
        assert done.status_code == 302 and done["Location"] == f"/privacy-requests/dpo/{request_of_alice.pk}/"
        note = CdrAnnotation.objects.get()
        assert (note.cdr_id, note.dsr_request_id, note.author_id) == (call.id, request_of_alice.pk, dpo.pk)

    def test_going_back_from_the_question_keeps_the_call_and_the_note(self, client, dpo, call, request_of_alice):
        verified_client(client, dpo)
        form = {"call": self._value(call), "text": STATEMENT, "day": ""}
        asked = client.post(self._url(request_of_alice), form).content.decode()
        assert f'value="edit" formaction="{self._url(request_of_alice)}#call-note-form"' in asked
        back = client.post(self._url(request_of_alice), {**form, "confirm": ["yes", "edit"]})
        body = back.content.decode()
        assert back.status_code == 200 and "Please confirm" not in body and 'role="alert"' not in body
        assert f'value="{self._value(call)}" id="call-{call.id}" required checked>' in body
        assert f">{STATEMENT}</textarea>" in body and not CdrAnnotation.objects.exists()

    def test_an_empty_note_or_another_customers_call_is_refused_on_the_page(self, client, dpo, bob, call,
                                                                            request_of_alice):
        verified_client(client, dpo)
        empty = client.post(self._url(request_of_alice), {"call": self._value(call), "text": " ", "confirm": "yes"})
        assert empty.status_code == 400 and TEXT_REQUIRED in empty.content.decode()
        bobs = make_cdr(account=bob, src="+31205550201")
        other = client.post(self._url(request_of_alice), {"call": self._value(bobs), "text": STATEMENT,
                                                          "confirm": "yes"})
        assert other.status_code == 400 and CALL_NOT_THE_REQUESTERS.replace("'", "&#x27;") in other.content.decode()
        assert not CdrAnnotation.objects.exists()

    def test_only_the_dpo_may_add_a_note(self, client, alice, billing_staff, call, request_of_alice):
        form = {"call": self._value(call), "text": STATEMENT, "confirm": "yes"}
        for user in (alice, billing_staff):
            assert verified_client(client, user).post(self._url(request_of_alice), form).status_code == 403
        assert not CdrAnnotation.objects.exists()


@pytest.mark.django_db
class NoteGoesWithItsCallTests:
    def test_erasure_deletes_the_notes_of_the_calls_it_deletes(self, dpo, alice, call, request_of_alice):
        annotate(dpo, call, request_of_alice)
        dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ERASURE, password=PASSWORD)
        assert not Cdr.objects.filter(pk=call.pk).exists()
        assert not CdrAnnotation.objects.exists()


KEY_A = base64.urlsafe_b64encode(b"annotation-test-key-A-32-bytes!!").decode()
KEY_B = base64.urlsafe_b64encode(b"annotation-test-key-B-32-bytes!!").decode()


@pytest.mark.django_db
class KeptNoteTests:
    def test_a_kept_calls_note_rotates_with_the_master_keys(self, alice, call):
        # A note whose call the purge kept in the hold table is sealed under the master key (PostgreSQL's month
        # drop re-seals it): `rotate_keys` re-encrypts it through the rotator traffic registers.
        assert registry.rotators()["traffic.CdrAnnotation"] is cdr_annotation_rotate
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
            note = CdrAnnotation.objects.create(cdr_id=call.id, started_at=call.started_at, account=alice,
                                                text_enc=note_seal_kept(STATEMENT, cdr_id=call.id), kept_at=now())
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, KEY_B]):
            assert cdr_annotation_rotate(dry_run=True) == {"scanned": 1, "rotated": 1, "undecryptable": 0}
            assert cdr_annotation_rotate() == {"scanned": 1, "rotated": 1, "undecryptable": 0}
            assert cdr_annotation_rotate()["rotated"] == 0
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
            note.refresh_from_db()
            assert note_open(note.text_enc, cdr_id=call.id, started_at=call.started_at, kept=True) == STATEMENT


@pytest.mark.django_db
class CdrCannotBeEditedTests:
    def test_a_change_posted_to_the_admin_changes_nothing(self, client, admin_user, alice, call):
        before = call_fields(call)
        admin = verified_client(client, admin_user)
        posted = admin.post(f"/admin/traffic/cdr/{call.pk}/change/", {
            **{k: v for k, v in model_to_dict(call).items() if v is not None and not isinstance(v, bytes)},
            "billsec": 1, "duration": 1, "disposition": "failed", "zone": "changed", "_save": "Save"})
        assert posted.status_code == 403
        assert admin.post(f"/admin/traffic/cdr/{call.pk}/delete/", {"post": "yes"}).status_code == 403
        assert call_fields(call) == before
