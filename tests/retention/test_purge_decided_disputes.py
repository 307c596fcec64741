"""A dispute decided after the invoice's dispute window has closed (Tw 11.5(2), LEGAL.md 1.1 and section 5 row 2):
the customer may still take the decision further (Geschillencommissie, court), so the invoice's calls stay until
the appeal period after the decision ends; an upheld dispute's calls stay as long, for the corrected invoice,
and then go whether or not it was made (no call is kept without an end date, GDPR art. 5(1)(e)).

The invoice services run on the real clock (the dispute is decided today, ten days after the window closed);
the purge is given its clock (`now=`), as in test_purge.py."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.formats import date_format
from django.utils.timezone import localdate, now

from retention.models import HeldCdr
from retention.keeper import retention_keeper
from retention.purge.run import purge_expired
from tests.factories import PASSWORD, make_cdr, verified_client
from tests.retention.helpers import make_invoice, surviving
from traffic.models import Cdr, Invoice
from traffic.services.invoices import (invoice_dispute, invoice_mark_paid, invoice_reissue, invoice_resolve_dispute,
                                       invoice_void)

pytestmark = pytest.mark.django_db

APPEAL_DAYS = 30  # INVOICE_DISPUTE_APPEAL_DAYS, shorter than its default so that a test can walk past it


def _day(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def _decide(invoice: Invoice, resolution: str, actor) -> tuple[Invoice, date, date]:
    """Decide the dispute now. Returns the invoice and the earliest and latest day the decision can bear
    (one day, unless the call crossed midnight), counted in Amsterdam as the service counts them, so that the
    boundaries below hold either way."""
    earliest = localdate()
    decided = invoice_resolve_dispute(invoice=invoice, actor=actor, resolution=resolution)
    return decided, earliest, localdate()


@pytest.fixture(autouse=True)
def appeal_days(settings):
    settings.INVOICE_DISPUTE_APPEAL_DAYS = APPEAL_DAYS


@pytest.fixture
def disputed(alice):
    """alice's paid invoice of a month long past, with two calls of 0.10, disputed two days before its
    dispute window closed, ten days ago. Returns the invoice and its call ids."""
    window_ends = now().date() - timedelta(days=10)
    period = (window_ends - timedelta(days=200)).replace(day=1)
    invoice = make_invoice(account=alice, period=period, status="paid", window_ends=window_ends)
    ids = [make_cdr(account=alice, started_at=_day(period + timedelta(days=d), 12), invoice=invoice,
                    price=Decimal("0.10")).id for d in (4, 19)]
    invoice_dispute(invoice=invoice, actor=None, today=window_ends - timedelta(days=2))
    return invoice, ids


class PurgeDecidedDisputeTests:
    def test_a_dispute_rejected_after_the_window_keeps_the_calls_through_the_appeal_period(self, disputed,
                                                                                           billing_staff):
        invoice, ids = disputed
        purge_expired(now=now())
        assert surviving(ids) == set(ids)  # disputed

        _, earliest, latest = _decide(invoice, "rejected", billing_staff)

        purge_expired(now=now() + timedelta(days=1))  # the next daily run
        assert surviving(ids) == set(ids)
        purge_expired(now=_day(earliest + timedelta(days=APPEAL_DAYS), 21))  # the last day to appeal
        assert surviving(ids) == set(ids)
        purge_expired(now=_day(latest + timedelta(days=APPEAL_DAYS + 1), 0))
        assert surviving(ids) == set()

    def test_an_upheld_dispute_keeps_the_calls_through_the_appeal_period_then_they_follow_the_corrected_invoice(
            self, disputed, billing_staff):
        invoice, ids = disputed
        void, earliest, _latest = _decide(invoice, "upheld", billing_staff)
        purge_expired(now=now() + timedelta(days=1))
        purge_expired(now=_day(earliest + timedelta(days=APPEAL_DAYS), 21))  # the last day to reissue
        assert surviving(ids) == set(ids)

        new = invoice_reissue(invoice=void, actor=billing_staff)  # billing corrects the bill, late but in time
        assert new.subtotal == Decimal("0.20")
        # The calls it bills: in traffic_cdr, or on PostgreSQL (their month dropped a year on) the hold table's copies.
        billed = (set(Cdr.objects.filter(invoice=new).values_list("id", flat=True))
                  | set(HeldCdr.objects.filter(invoice_id=new.pk).values_list("cdr_id", flat=True)))
        assert billed == set(ids)

        invoice_mark_paid(invoice=new, actor=billing_staff)
        purge_expired(now=_day(new.dispute_window_ends, 21))  # the corrected invoice's own window
        assert surviving(ids) == set(ids)
        purge_expired(now=_day(new.dispute_window_ends + timedelta(days=1), 0))
        assert surviving(ids) == set()

    @pytest.mark.audit_guard_exempt("the reissue is refused: its sum of the void invoice's calls rolls back with it")
    def test_an_upheld_dispute_never_reissued_loses_its_calls_when_the_appeal_period_ends(self, disputed,
                                                                                           billing_staff):
        from voipxs.exceptions import ApplicationError

        invoice, ids = disputed
        void, _earliest, latest = _decide(invoice, "upheld", billing_staff)
        purge_expired(now=_day(latest + timedelta(days=APPEAL_DAYS + 1), 0))
        assert surviving(ids) == set()
        with pytest.raises(ApplicationError) as info:  # nothing left to bill: the month stays unbilled
            invoice_reissue(invoice=void, actor=billing_staff)
        assert info.value.extra == {"field": "calls"}

    def test_after_the_reissue_what_stays_on_the_void_invoice_is_kept_until_the_appeal_period_ends(
            self, disputed, billing_staff):
        invoice, ids = disputed
        Cdr.objects.filter(pk=ids[0]).update(restricted_at=now())  # GDPR art. 18: neither billed nor released
        void, earliest, latest = _decide(invoice, "upheld", billing_staff)
        invoice_reissue(invoice=void, actor=billing_staff)
        purge_expired(now=_day(earliest + timedelta(days=APPEAL_DAYS), 21))
        assert surviving(ids) == set(ids)
        purge_expired(now=_day(latest + timedelta(days=APPEAL_DAYS + 1), 0))
        assert surviving(ids) == {ids[1]}  # on the open corrected invoice

    def test_voiding_a_disputed_invoice_keeps_the_calls_for_its_reissue_as_upholding_does(self, disputed,
                                                                                         billing_staff):
        invoice, ids = disputed
        earliest = localdate()
        void = invoice_void(invoice=invoice, actor=billing_staff)
        purge_expired(now=_day(earliest + timedelta(days=APPEAL_DAYS), 21))
        assert surviving(ids) == set(ids)
        assert invoice_reissue(invoice=void, actor=billing_staff).subtotal == Decimal("0.20")
        assert void.calls_kept_until in {localdate() + timedelta(days=APPEAL_DAYS), earliest + timedelta(days=APPEAL_DAYS)}


class DecidedDisputeShownTests:
    def test_the_person_is_told_until_when_the_calls_stay(self, alice, disputed, billing_staff):
        invoice, ids = disputed
        _, earliest, latest = _decide(invoice, "rejected", billing_staff)
        calls = next(k for k in retention_keeper(alice) if k.category == "calls")  # past the window: the appeal
        assert calls.count == 2
        assert calls.until in {day + timedelta(days=APPEAL_DAYS + 1) for day in (earliest, latest)}

    def test_an_upheld_dispute_says_until_when_the_calls_wait_for_the_corrected_invoice(self, alice, disputed,
                                                                                        billing_staff):
        invoice, ids = disputed
        _, earliest, latest = _decide(invoice, "upheld", billing_staff)
        calls = next(k for k in retention_keeper(alice) if k.category == "calls")
        assert calls.count == 2
        assert calls.until in {day + timedelta(days=APPEAL_DAYS + 1) for day in (earliest, latest)}

    def test_erasure_in_the_appeal_period_restricts_the_calls_instead_of_deleting_them(self, alice, disputed,
                                                                                       billing_staff):
        from accounts.dsr.services import dsr_request_create

        invoice, ids = disputed
        invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="rejected")
        dsr_request_create(user=alice, kind="erasure", password=PASSWORD)
        assert set(Cdr.objects.filter(id__in=ids, restricted_at__isnull=False).values_list("id", flat=True)) == set(ids)

    def test_the_customer_sees_until_when_the_invoices_calls_are_kept(self, client, alice, disputed, billing_staff):
        invoice, ids = disputed
        _, earliest, latest = _decide(invoice, "rejected", billing_staff)
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        shown = {f"Calls kept at least until</dt><dd>{date_format(day + timedelta(days=APPEAL_DAYS), 'DATE_FORMAT')}"
                 for day in (earliest, latest)}
        assert any(line in page for line in shown)
        api = client.get(f"/api/v1/me/invoices/{invoice.pk}/").json()
        assert api["calls_kept_until"] in {str(day + timedelta(days=APPEAL_DAYS)) for day in (earliest, latest)}

    def test_the_customer_sees_until_when_an_upheld_disputes_calls_wait_for_the_corrected_invoice(
            self, client, alice, disputed, billing_staff):
        invoice, ids = disputed
        _, earliest, latest = _decide(invoice, "upheld", billing_staff)
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        shown = {f"Calls kept at least until</dt><dd>{date_format(day + timedelta(days=APPEAL_DAYS), 'DATE_FORMAT')}"
                 for day in (earliest, latest)}
        assert any(line in page for line in shown)
        api = client.get(f"/api/v1/me/invoices/{invoice.pk}/").json()
        assert api["calls_kept_until"] in {str(day + timedelta(days=APPEAL_DAYS)) for day in (earliest, latest)}
