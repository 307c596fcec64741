"""The guard of LEGAL.md row 21 (tests/audit_guard.py) can fail: it notes a read of call records sent by
application code, leaves the test's own reads alone and the system paths it lists, and a test that reads through
a selector leaves the audit entry with a purpose that satisfies it. An entry with a purpose written on another
call path (a service event of the test's fixtures) does not: each read is tied to an entry on its own path."""
from __future__ import annotations

import pytest
from django.db import connection

from tests import audit_guard
from tests.factories import make_cdr
from traffic.models import Cdr
from traffic.selectors.calls import cdr_list
from traffic.selectors.cdr_reader import calls_newest
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db


@pytest.mark.audit_guard_exempt("it shows the guard an unaudited read on purpose")
def test_an_unaudited_read_by_application_code_is_noted_and_no_purpose_is_on_record(alice):
    make_cdr(account=alice)
    start = audit_guard.last_entry_id()
    reads = audit_guard.Reads()
    with connection.execute_wrapper(reads):
        calls_newest(Cdr.objects.filter(account=alice), None, fields=("id", "started_at"), after=None, n=5)
    assert reads.origins == {"traffic/selectors/cdr_reader.py:calls_newest"}
    assert not audit_guard.purposeful_entries_since(start)  # so the guard would fail such a test


def test_the_tests_own_reads_and_the_listed_system_paths_are_left_alone(alice):
    make_cdr(account=alice)  # ingest's own checks of what is stored (traffic/ingest/)
    reads = audit_guard.Reads()
    with connection.execute_wrapper(reads):
        assert Cdr.objects.filter(account=alice).count() == 1
        make_cdr(account=alice)
    assert reads.origins == set()
    assert audit_guard.exempt("traffic/ingest/run.py:records_write")
    assert not audit_guard.exempt("traffic/selectors/x.py:y")
    # The purge, erasure's calls section and key rotation record their purpose now: the guard holds them to it.
    assert not any(audit_guard.exempt(origin) for origin in (
        "retention/purge/run.py:remove", "retention/closed_accounts.py:closed_accounts_purge",
        "traffic/sections.py:calls_erase", "traffic/sections.py:_restrict_held_calls",
        "voipxs/privacy/rotation.py:rotate_bound"))


def test_a_read_through_the_selector_leaves_its_purpose_on_record(alice):
    make_cdr(account=alice)
    start = audit_guard.last_entry_id()
    reads = audit_guard.Reads()
    with connection.execute_wrapper(reads):
        assert len(cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows) == 1
    assert reads.origins and audit_guard.purposeful_entries_since(start)


def test_the_admins_call_pages_and_a_refused_note_are_watched_and_leave_their_purpose(client, admin_user, dpo,
                                                                                       alice, bob):
    # The two gaps the guard once listed (Django's admin reading its call pages; a refused note's lock of the
    # call) are exempt no more: their reads are noted, and each leaves an entry with a purpose.
    from accounts.dsr.models import DataSubjectRequest
    from accounts.dsr.services import dsr_request_create
    from tests.factories import verified_client
    from traffic.services.annotations import cdr_annotate
    from voipxs.exceptions import ApplicationError

    assert not audit_guard.exempt("accounts/dsr/middleware.py:__call__")
    assert not audit_guard.exempt("traffic/services/annotations.py:_call_locked")
    call, bobs = make_cdr(account=alice), make_cdr(account=bob, src="+31205550201")
    req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="not mine")
    admin = verified_client(client, admin_user)
    for origin, read in (
            ("traffic/selectors/admin_calls.py:page", lambda: admin.get("/admin/traffic/cdr/")),
            ("voipxs/admin.py:get_object", lambda: admin.get(f"/admin/traffic/cdr/{call.pk}/change/")),
            ("traffic/services/annotations.py:_call_locked",
             lambda: cdr_annotate(actor=dpo, cdr_id=bobs.id, started_at=bobs.started_at, text="x", dsr_request=req))):
        start = audit_guard.last_entry_id()
        reads = audit_guard.Reads()
        with connection.execute_wrapper(reads):
            try:
                read()
            except ApplicationError:
                pass  # the refused note
        assert origin in reads.origins and audit_guard.purposeful_entries_since(start), reads.origins


@pytest.mark.audit_guard_exempt("it shows the guard an entry without a purpose on purpose")
def test_an_entry_application_code_writes_without_a_purpose_is_noted_and_the_tests_own_are_not(alice):
    from django.core.exceptions import PermissionDenied

    from tests.factories import make_source
    from traffic.models import CdrImport
    from traffic.services.imports import cdr_import_fail
    from voipxs.privacy import audit
    from voipxs.privacy.purposes import require_purpose

    cdr_import = CdrImport.objects.create(source=make_source(), file_name="Master.csv", file_sha256="0" * 64)
    make = audit._entry
    entries = audit_guard.Entries()
    with entries.watching():
        audit.audit_record(actor=None, action="test.own")  # the test's own entry is the test's business
        cdr_import_fail(cdr_import, "stopped")  # the ingest's purpose by default
        assert entries.purposeless == set()
        with pytest.raises(PermissionDenied):  # a refused ask for no purpose records what was asked: nothing
            require_purpose(actor=alice, purpose="", action="calls.list")
        assert entries.purposeless == set()
        cdr_import_fail(cdr_import, "stopped", purpose="")  # a caller that passes an empty one
    assert entries.purposeless == {"traffic/services/imports.py:cdr_import_fail (cdr_import.failed)"}
    assert audit._entry is make  # the stand-in is gone after the test


def _watched(work) -> tuple[audit_guard.Reads, audit_guard.Entries, int]:
    start = audit_guard.last_entry_id()
    reads, entries = audit_guard.Reads(), audit_guard.Entries()
    with connection.execute_wrapper(reads), entries.watching():
        work()
    return reads, entries, start


@pytest.mark.audit_guard_exempt("it shows the guard an unaudited read beside a service's event on purpose")
def test_a_service_event_with_a_purpose_does_not_cover_an_unaudited_read_on_another_path(alice):
    # The loophole this guard once had: a service wrote an event carrying a purpose (a number assigned, under
    # BILLING), so "some entry with a purpose" was on record, and the unaudited read beside it passed.
    from accounts.services.numbers import phone_number_assign

    make_cdr(account=alice)

    def work() -> None:
        phone_number_assign(user=alice, number="+31205550177")
        calls_newest(Cdr.objects.filter(account=alice), None, fields=("id", "started_at"), after=None, n=5)

    reads, entries, start = _watched(work)
    assert audit_guard.purposeful_entries_since(start)  # what satisfied the guard before
    assert ("accounts/services/numbers.py", frozenset({"accounts/services/numbers.py"})) in entries.purposeful
    assert audit_guard.untied(reads, entries) == ["traffic/selectors/cdr_reader.py:calls_newest"]
    failure = audit_guard.unaudited_reads(reads, entries, start)
    assert "traffic/selectors/cdr_reader.py:calls_newest" in failure and "accounts/services/numbers.py" in failure


def test_a_read_is_tied_to_the_selector_that_asked_for_its_purpose_on_its_path(alice):
    make_cdr(account=alice)
    reads, entries, start = _watched(lambda: cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE))
    # Each read (the CDR reader's on SQLite, the prepared statement's on PostgreSQL) is sent under the selector that
    # wrote the entry: require_purpose records for its caller (voipxs/privacy/purposes.py passes through).
    assert reads.paths and all("traffic/selectors/calls.py" in path for path in reads.paths.values()), reads.paths
    assert {writer for writer, _ in entries.purposeful} == {"traffic/selectors/calls.py"}
    assert audit_guard.untied(reads, entries) == [] and audit_guard.unaudited_reads(reads, entries, start) == ""


def test_the_rule_ties_a_read_and_an_entry_when_one_module_is_on_the_others_path():
    reads, entries = audit_guard.Reads(), audit_guard.Entries()
    reads.paths = {"traffic/selectors/cdr_reader.py:live": {"traffic/selectors/cdr_reader.py", "traffic/sections.py",
                                                            "accounts/dsr/export.py"},
                   "retention/purge/run.py:step_held_cdrs": {"retention/purge/run.py"},
                   "traffic/views/calls.py:get": {"traffic/views/calls.py", "voipxs/middleware.py"},
                   "traffic/selectors/invoices.py:x": {"traffic/selectors/invoices.py"},
                   "retention/purge/months.py:emptied_months_with_keys": {"retention/purge/months.py",
                                                                          "retention/purge/run.py"}}
    reads.origins = set(reads.paths)
    entries.purposeful = {
        ("accounts/dsr/export.py", frozenset({"accounts/dsr/export.py", "accounts/tasks.py"})),  # on the read's path
        ("retention/purge/runs.py", frozenset({"retention/purge/runs.py", "retention/purge/run.py"})),  # run.py's
        ("traffic/selectors/calls.py", frozenset({"traffic/selectors/calls.py", "traffic/views/calls.py"})),  # view's
    }
    # One audited selector of traffic/selectors/ does not vouch for another module of the package.
    assert audit_guard.untied(reads, entries) == ["traffic/selectors/invoices.py:x"]
    # The purge's reads are tied to the entry its run records when it ends (RECORDED_BY_RUN), and to nothing else.
    entries.purposeful = {("retention/purge/runs.py", frozenset({"retention/purge/runs.py", "retention/purge/run.py"}))}
    assert audit_guard.untied(reads, entries) == [
        "traffic/selectors/cdr_reader.py:live", "traffic/selectors/invoices.py:x", "traffic/views/calls.py:get"]
