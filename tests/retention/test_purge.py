"""The purge with a frozen clock (`now=` is passed in): what goes when, and what must stay."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from retention.models import Category, HeldCdr, PurgeReceipt, PurgeRun
from retention.purge.run import purge_expired
from retention.services import legal_hold_place, legal_hold_release, retention_policy_update
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice, surviving, technical_ids
from traffic.keys import decrypt_number
from traffic.models import Cdr, CdrTechnical, Invoice
from voipxs.models import AuditEntry

JAN = date(2026, 1, 1)
WINDOW_ENDS = date(2026, 8, 1)


@pytest.fixture
def january(alice, bob, carol):
    """Three January invoices with the same dispute window: alice paid, bob disputed, carol unpaid."""
    calls = {}
    for user, status, src in ((alice, "paid", "+31205550101"), (bob, "disputed", "+31205550201"),
                              (carol, "open", "+31205550202")):
        invoice = make_invoice(account=user, period=JAN, status=status, window_ends=WINDOW_ENDS)
        calls[status] = [make_cdr(account=user, src=src, started_at=at(2026, 1, day), invoice=invoice,
                                  technical={"ip": "192.0.2.1"}).id for day in (5, 20)]
    return calls


@pytest.mark.django_db
class PurgeBilledTests:
    def test_it_keeps_paid_calls_until_the_last_day_of_the_dispute_window(self, january):
        purge_expired(now=at(2026, 8, 1, 21))  # 23:00 on 1 August in Amsterdam (CEST)
        assert surviving(january["paid"]) == set(january["paid"])

    def test_it_removes_paid_calls_one_day_after_the_window(self, january):
        purge_expired(now=at(2026, 8, 1, 22))  # 00:00 on 2 August in Amsterdam
        assert surviving(january["paid"]) == set()

    def test_it_keeps_every_call_of_a_disputed_or_unpaid_invoice(self, january):
        purge_expired(now=at(2026, 8, 2))
        purge_expired(now=at(2027, 8, 2))  # a year later, still owed or contested
        assert surviving(january["disputed"]) == set(january["disputed"])
        assert surviving(january["open"]) == set(january["open"])

    def test_it_lets_a_settled_dispute_go_after_its_appeal_period(self, january, billing_staff, settings):
        # The dispute is decided today through the service, which leaves bob 30 days to take the decision
        # further (Tw 11.5(2)); bob then pays. The calls outlive the window by that time, then go.
        from django.utils.timezone import localdate

        from traffic.models import Invoice
        from traffic.services.invoices import invoice_mark_paid, invoice_resolve_dispute

        settings.INVOICE_DISPUTE_APPEAL_DAYS = 30
        first = localdate()  # the decision's day in Amsterdam, as the service counts it
        decided = invoice_resolve_dispute(invoice=Invoice.objects.get(status="disputed"), actor=billing_staff,
                                          resolution="rejected")
        last = localdate()  # the same day, unless the decision crossed midnight
        invoice_mark_paid(invoice=decided, actor=billing_staff)
        kept_through = max(WINDOW_ENDS, first + timedelta(days=30))
        gone_on = max(WINDOW_ENDS, last + timedelta(days=30)) + timedelta(days=1)

        purge_expired(now=at(2026, 8, 2))  # the day after the window
        purge_expired(now=at(kept_through.year, kept_through.month, kept_through.day, 21))  # 22:00/23:00 there
        assert surviving(january["disputed"]) == set(january["disputed"])
        purge_expired(now=at(gone_on.year, gone_on.month, gone_on.day, 0))
        assert surviving(january["disputed"]) == set()

    def test_a_billed_calls_period_in_months_keeps_them_that_long_after_the_window(self, january, dpo):
        # The DPO keeps billed calls a month past the dispute window; the privacy page says "1 month".
        retention_policy_update(category=Category.CDR_BILLED, actor=dpo, period_months=1, now=at(2026, 7, 1),
                                change_reason="a month to challenge the bill after the window")
        purge_expired(now=at(2026, 8, 2))
        purge_expired(now=at(2026, 9, 1, 21))  # the window's last day (1 August) and a month, 23:00 in Amsterdam
        assert surviving(january["paid"]) == set(january["paid"])
        purge_expired(now=at(2026, 9, 2, 0))
        assert surviving(january["paid"]) == set()

    def test_it_writes_a_receipt_and_an_audit_entry_without_data(self, january):
        result = purge_expired(now=at(2026, 8, 2))
        run = PurgeRun.objects.get(pk=result["run"])
        assert run.status == PurgeRun.Status.DONE
        removed = sum(r["deleted"] for r in result["receipts"] if r["category"] in ("cdr_billed", "cdr_month_drop"))
        assert removed == 2
        assert {r["category"] for r in result["receipts"]} >= {"cdr_billed", "cdr_unbilled", "cdr_technical", "invoice"}
        entry = AuditEntry.objects.filter(action="retention.purge").latest("id")
        assert "+3120555" not in str(entry.extra) and "+3120555" not in str(result)


@pytest.mark.django_db
class PurgeUnbilledAndTechnicalTests:
    def test_it_removes_unbilled_calls_after_three_months(self, alice):
        free = make_cdr(account=alice, started_at=at(2026, 3, 10), rating="free", disposition="no_answer", billsec=0)
        purge_expired(now=at(2026, 6, 9))
        assert Cdr.objects.filter(id=free.id).exists()
        purge_expired(now=at(2026, 6, 11))
        assert not Cdr.objects.filter(id=free.id).exists()

    def test_it_removes_technical_identifiers_after_30_days_and_keeps_the_billing_fields(self, alice):
        invoice = make_invoice(account=alice, period=date(2026, 3, 1), status="open")
        cdr = make_cdr(account=alice, started_at=at(2026, 3, 10), invoice=invoice, billsec=125,
                       technical={"sip_call_id": "abc@192.0.2.1", "ip": "192.0.2.1"})
        purge_expired(now=at(2026, 4, 8))
        assert technical_ids([cdr.id]) == {cdr.id}
        purge_expired(now=at(2026, 4, 10))
        assert technical_ids([cdr.id]) == set()
        kept = Cdr.objects.get(id=cdr.id)
        assert (kept.billsec, kept.zone, kept.price, kept.invoice_id) == (125, cdr.zone, cdr.price, invoice.id)
        assert decrypt_number(kept.src_enc, started_at=kept.started_at) == "+31205550101"


@pytest.mark.django_db
class PurgeLegalHoldTests:
    def test_it_keeps_a_held_numbers_calls_and_lets_them_go_after_the_hold_ends(self, january, alice, dpo):
        hold = legal_hold_place(reason="preservation_order", reference="order:7", numbers=["020 555 0101"],
                                categories=[Category.CDR_BILLED], window_start=at(2026, 1, 1), window_end=at(2026, 2, 1),
                                starts_at=at(2026, 7, 1), expires_at=at(2026, 9, 1), actor=dpo)
        other = make_cdr(account=alice, src="+31205550101", started_at=at(2026, 2, 3),
                         invoice=make_invoice(account=alice, period=date(2026, 2, 1), window_ends=WINDOW_ENDS))
        purge_expired(now=at(2026, 8, 2))
        assert surviving(january["paid"]) == set(january["paid"])  # held
        assert surviving([other.id]) == set()  # outside the hold's window
        purge_expired(now=at(2026, 9, 2))  # first run after the hold expired
        assert surviving(january["paid"]) == set()
        assert hold.pk  # the hold itself stays as the record of what was kept

    def test_a_hold_on_technical_identifiers_keeps_them_when_their_call_expires(self, alice, dpo):
        # A preservation order for a customer's IP addresses: the rows hang on their call, which is past its
        # own 3 months (unbilled) long before the order ends.
        cdr = make_cdr(account=alice, started_at=at(2026, 3, 10), rating="free", technical={"ip": "192.0.2.44"})
        hold = legal_hold_place(reason="preservation_order", reference="order:8", account_ids=[alice.pk],
                                categories=[Category.CDR_TECHNICAL], starts_at=at(2026, 3, 1), actor=dpo)
        purge_expired(now=at(2026, 8, 1))  # on PostgreSQL March goes whole, its key destroyed
        assert technical_ids([cdr.id]) == {cdr.id} or HeldCdr.objects.filter(
            cdr_id=cdr.id, technical_enc__isnull=False).exists()
        legal_hold_release(hold=hold, actor=dpo, now=at(2026, 8, 1))
        purge_expired(now=at(2026, 8, 2))
        assert surviving([cdr.id]) == set() and technical_ids([cdr.id]) == set()

    def test_a_hold_on_invoices_by_number_keeps_the_invoices_of_the_account_holding_it(self, alice, bob, dpo):
        # A court case about the bills of a line: invoices past their 7 years stay while the hold lasts.
        old = {user.username: make_invoice(account=user, period=date(2019, 1, 1)).pk for user in (alice, bob)}
        legal_hold_place(reason="dispute", reference="court:2026-77", numbers=["+31205550101"],
                         categories=[Category.INVOICE], actor=dpo)
        purge_expired()
        assert set(Invoice.objects.filter(pk__in=old.values()).values_list("pk", flat=True)) == {old["alice"]}


@pytest.mark.django_db
class PurgeInvoiceTests:
    def test_a_void_invoice_stays_while_its_corrected_one_is_kept_and_the_run_goes_on(self, alice):
        # January 2019's invoice was voided after an upheld dispute and reissued in 2020: the void one is past
        # its 7 years, the corrected one (which points at it) is not yet.
        void = make_invoice(account=alice, period=date(2019, 1, 1), status="void")
        corrected = make_invoice(account=alice, period=date(2019, 1, 1))
        Invoice.objects.filter(pk=corrected.pk).update(replaces=void, issued_at=at(2020, 3, 2))
        other = make_invoice(account=alice, period=date(2019, 2, 1))

        result = purge_expired()

        assert result["status"] == PurgeRun.Status.DONE
        assert set(Invoice.objects.values_list("pk", flat=True)) == {void.pk, corrected.pk}
        assert next(r for r in result["receipts"] if r["category"] == "invoice")["deleted"] == 1
        assert {"closed_account", "login_attempts"} <= {r["category"] for r in result["receipts"]}  # later steps ran
        assert not Invoice.objects.filter(pk=other.pk).exists()
        purge_expired(now=at(2027, 3, 3))  # the corrected one's 7 years are over: both go, it first
        assert not Invoice.objects.filter(pk__in=[void.pk, corrected.pk]).exists()


@pytest.mark.django_db
class PurgeDryRunTests:
    def test_it_deletes_nothing_and_reports_the_same_counts_as_the_real_run(self, january, alice):
        for day in (1, 2, 3):
            make_cdr(account=alice, started_at=at(2026, 2, day), rating="free", technical={"ip": "192.0.2.9"})
        before = (Cdr.objects.count(), CdrTechnical.objects.count())
        dry = purge_expired(now=at(2026, 8, 2), dry_run=True)
        assert (Cdr.objects.count(), CdrTechnical.objects.count()) == before
        assert HeldCdr.objects.count() == 0
        real = purge_expired(now=at(2026, 8, 2))
        assert {r["category"]: r["deleted"] for r in dry["receipts"]} == {r["category"]: r["deleted"] for r in real["receipts"]}
        assert PurgeReceipt.objects.filter(dry_run=True).exists()
        assert sum(r["deleted"] for r in real["receipts"]) > 0


@pytest.mark.django_db
class PurgeRegistryHookTests:
    def test_it_calls_the_purgers_other_apps_register_and_writes_their_receipts(self, monkeypatch):
        from voipxs.privacy import registry

        calls = []

        def dsr_exports(*, now, dry_run):
            calls.append((now, dry_run))
            return {"deleted": 0 if dry_run else 2, "files": 2}

        monkeypatch.setitem(registry._purgers, "dsr_export", dsr_exports)
        dry = purge_expired(now=at(2026, 8, 2), dry_run=True)
        real = purge_expired(now=at(2026, 8, 2))
        assert calls == [(at(2026, 8, 2), True), (at(2026, 8, 2), False)]
        receipt = next(r for r in real["receipts"] if r["category"] == "dsr_export")
        assert receipt["deleted"] == 2 and receipt["details"] == {"files": 2}
        assert any(r["category"] == "dsr_export" for r in dry["receipts"])
