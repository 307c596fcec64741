"""A note on a call (GDPR art. 16, traffic.services.annotations) never outlives its call: the purge removes the
notes of the calls it removes, in the same batch (SQLite and partial months), in the month's shred (PostgreSQL:
a kept call's note is re-sealed under the master key and stays with its copy, the others go before the key),
and when the hold table's copy goes."""
from __future__ import annotations

from datetime import date

import pytest

from retention.models import HeldCdr
from retention.purge.run import purge_expired
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice, surviving
from traffic.annotations.sealing import note_open, note_seal
from traffic.models import CdrAnnotation, Invoice, MonthKey
from traffic.services.annotations import cdr_annotate

JAN = date(2026, 1, 1)
WINDOW_ENDS = date(2026, 8, 1)
STATEMENT = "The customer states the call was not theirs."


class WorkerDied(Exception):
    pass


def annotate(dpo, cdr) -> CdrAnnotation:
    return cdr_annotate(actor=dpo, cdr_id=cdr.id, started_at=cdr.started_at, text=STATEMENT)


@pytest.fixture
def january(alice, bob):
    """Alice's January call on a paid invoice (goes after the window), bob's on a disputed one (stays)."""
    paid = make_invoice(account=alice, period=JAN, status="paid", window_ends=WINDOW_ENDS)
    disputed = make_invoice(account=bob, period=JAN, status="disputed", window_ends=WINDOW_ENDS)
    return {"paid": make_cdr(account=alice, src="+31205550101", started_at=at(2026, 1, 10), invoice=paid),
            "disputed": make_cdr(account=bob, src="+31205550201", started_at=at(2026, 1, 12), invoice=disputed)}


def note_text(note: CdrAnnotation) -> str | None:
    note.refresh_from_db()
    return note_open(note.text_enc, cdr_id=note.cdr_id, started_at=note.started_at, kept=note.kept_at is not None)


@pytest.mark.django_db
class PurgeRemovesNotesTests:
    def test_a_purge_of_the_month_removes_the_notes_of_its_calls(self, january, dpo):
        gone, stays = annotate(dpo, january["paid"]), annotate(dpo, january["disputed"])
        purge_expired(now=at(2026, 8, 2))
        assert surviving([january["paid"].id]) == set()
        assert not CdrAnnotation.objects.filter(pk=gone.pk).exists()
        # The disputed call stays (in traffic_cdr, or in the hold table after a month drop), and its note with it.
        assert surviving([january["disputed"].id]) == {january["disputed"].id}
        assert note_text(stays) == STATEMENT

    def test_a_batch_that_dies_keeps_each_note_with_its_call(self, january, carol, dpo):
        # Another January invoice still in its dispute window: the month is not dropped whole, on PostgreSQL
        # either, so the paid call goes in a batch.
        make_invoice(account=carol, period=JAN, status="paid", window_ends=date(2026, 12, 1))
        note = annotate(dpo, january["paid"])

        def die_in_the_batch(step: str) -> None:
            if step == "batch:cdr_billed":
                raise WorkerDied()

        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 8, 2), fault=die_in_the_batch)
        assert surviving([january["paid"].id]) == {january["paid"].id}  # the batch rolled back: call and note
        assert note_text(note) == STATEMENT
        purge_expired(now=at(2026, 8, 2))
        assert surviving([january["paid"].id]) == set() and not CdrAnnotation.objects.filter(pk=note.pk).exists()

    def test_a_note_left_without_its_call_goes_before_its_months_key(self, alice, dpo):
        free = make_cdr(account=alice, started_at=at(2026, 1, 5), rating="free")  # unbilled: 3 months
        stray = CdrAnnotation.objects.create(cdr_id=free.id + 1000, started_at=free.started_at, account=alice,
                                             text_enc=note_seal(STATEMENT, started_at=free.started_at))
        purge_expired(now=at(2026, 6, 1))
        assert surviving([free.id]) == set() and not CdrAnnotation.objects.filter(pk=stray.pk).exists()
        assert MonthKey.objects.get(month=JAN).wrapped_key is None


@pytest.mark.postgres
@pytest.mark.django_db
class MonthDropNotesTests:
    def test_a_kept_calls_note_is_resealed_with_it_and_goes_with_its_copy(self, january, dpo):
        gone, kept = annotate(dpo, january["paid"]), annotate(dpo, january["disputed"])
        purge_expired(now=at(2026, 8, 2))
        assert HeldCdr.objects.filter(cdr_id=january["disputed"].id).exists()  # the month was dropped
        assert not CdrAnnotation.objects.filter(pk=gone.pk).exists()
        assert MonthKey.objects.get(month=JAN).wrapped_key is None
        assert note_text(kept) == STATEMENT and kept.kept_at is not None  # under the master key now
        # The dispute is settled and its appeal time over: the copy goes, and its note with it.
        Invoice.objects.filter(account=january["disputed"].account_id).update(status="paid", calls_kept_until=JAN)
        purge_expired(now=at(2026, 9, 1))
        assert not HeldCdr.objects.filter(cdr_id=january["disputed"].id).exists()
        assert not CdrAnnotation.objects.exists()
