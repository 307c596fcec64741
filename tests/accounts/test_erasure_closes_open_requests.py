"""An erasure (GDPR art. 17) closes the person's other open requests (access, portability, rectification,
restriction): there is no data left to give, correct or restrict. Each is closed at the erasure's moment with an
outcome that names the erasure, and audited; the DPO's queue and the deadline reminders no longer carry them, no
export is built for the erased person, and no request can be opened for them afterwards. A replayed erasure (after
a restore) closes them the same way, at the original erasure's time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils.timezone import now

from accounts.dsr.export import dsr_export_build
from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.reminders import dsr_deadlines_remind
from accounts.dsr.selectors import dsr_request_list_open
from accounts.dsr.services import dsr_erasure_replay, dsr_request_create, dsr_request_create_for
from tests.factories import PASSWORD
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _open_requests(user) -> list[DataSubjectRequest]:
    """One of each kind but erasure, open; the access request's export pending (its task not run yet)."""
    made = [dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My label is wrong."),
            dsr_request_create(user=user, kind=Kind.RESTRICTION, details="Stop using my data."),
            dsr_request_create(user=user, kind=Kind.ACCESS)]
    assert all(r.is_open for r in made)
    assert ExportFile.objects.get(request=made[2]).status == ExportFile.Status.PENDING
    return made


def _assert_closed_by(erasure: DataSubjectRequest, others: list[DataSubjectRequest], at) -> None:
    for req in others:
        req.refresh_from_db()
        assert req.status == Status.COMPLETED and req.completed_at == at, req.kind
        assert req.outcome == {"closed_by_erasure": {"request": erasure.pk}}, req.kind
        assert req.answer  # the record says why it was closed
        entry = AuditEntry.objects.get(action="dsr.close_erased", target_type="dsr", target_id=str(req.pk))
        assert entry.purpose == "legal_obligation"
        assert entry.extra == {"kind": req.kind, "erasure": erasure.pk}


@pytest.mark.django_db
class ErasureClosesOpenRequestsTests:
    def test_the_erasure_closes_every_other_open_request_of_the_person(self, alice, bob, dpo):
        others = _open_requests(alice)
        bobs = dsr_request_create(user=bob, kind=Kind.RECTIFICATION, details="My label is wrong.")
        erasure = dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)
        _assert_closed_by(erasure, others, erasure.completed_at)
        assert list(dsr_request_list_open(actor=dpo)) == [bobs]  # the DPO's queue keeps bob's only
        bobs.refresh_from_db()
        assert bobs.is_open and bobs.outcome == {}

    def test_no_export_is_built_for_the_erased_person(self, alice, settings):
        access = _open_requests(alice)[2]
        dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)
        export = ExportFile.objects.get(request=access)
        dsr_export_build(export_id=export.pk)  # its task arrives after the erasure
        export.refresh_from_db()
        assert export.status == ExportFile.Status.DELETED and not export.file_name
        assert not list((settings.PRIVATE_FILES_DIR / "exports").glob("export-*"))

    def test_their_deadlines_are_no_longer_reminded(self, alice, dpo):
        _open_requests(alice)
        dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)
        mail.outbox.clear()
        assert dsr_deadlines_remind(now=now() + timedelta(days=40)) == 0
        assert not mail.outbox

    def test_no_request_is_opened_for_an_erased_person(self, alice, support):
        dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)
        for kind in (Kind.ACCESS, Kind.PORTABILITY, Kind.RECTIFICATION, Kind.RESTRICTION):
            with pytest.raises(ApplicationError) as exc:
                dsr_request_create_for(user=alice, kind=kind, details="Asked by phone.", actor=support)
            assert exc.value.extra.get("field") == "account"
        assert not DataSubjectRequest.objects.filter(user=alice).exclude(kind=Kind.ERASURE).exists()
        assert not ExportFile.objects.filter(user=alice).exists()

    def test_a_replayed_erasure_closes_them_at_the_original_erasure(self, alice):
        others = _open_requests(alice)
        erased_at = now() - timedelta(days=2)
        assert dsr_erasure_replay(account_id=alice.pk, account_created=alice.date_joined, request_id=9902,
                                  received_at=erased_at - timedelta(minutes=1), erased_at=erased_at, backup="b-1")
        _assert_closed_by(DataSubjectRequest.objects.get(pk=9902), others, erased_at)
