"""Each dispute of an invoice is kept (traffic.InvoiceDispute): a customer who disputes again after billing decided
the first dispute no longer overwrites what they first wrote and how billing decided it. Billing's staff page shows
the history, the customer's invoice page their past disputes and outcomes, the data export each dispute; erasure
redacts the reasons of decided disputes (an undecided one stays for billing to decide it, restricted with the
invoice). traffic 0023 turns each invoice's recorded dispute into a row."""
from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_request_create
from tests.accounts.dsr_helpers import export_json_valid, section
from tests.factories import verified_client
from tests.retention.helpers import make_invoice
from traffic import sections
from traffic.models import Invoice, InvoiceDispute
from traffic.services import invoices as invoicing
from traffic.services.invoice_disputes import invoice_customer_dispute

pytestmark = pytest.mark.django_db

FIRST = "The call of 4 May is not mine."
SECOND = "The corrected total is still too high."


@pytest.fixture
def invoice(alice) -> Invoice:
    period = (now().date() - timedelta(days=100)).replace(day=1)
    return make_invoice(account=alice, period=period, status="open", window_ends=now().date() + timedelta(days=30))


@pytest.fixture
def disputed_twice(invoice, alice, billing_staff) -> Invoice:
    invoice_customer_dispute(invoice=invoice, actor=alice, reason=FIRST)
    invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="rejected")
    return invoice_customer_dispute(invoice=invoice, actor=alice, reason=SECOND)


def _history(invoice: Invoice) -> list[tuple]:
    return [(d.raised_by, d.reason, d.outcome, d.resolved_at is not None)
            for d in InvoiceDispute.objects.filter(invoice=invoice).order_by("raised_at", "pk")]


class DisputeHistoryTests:
    def test_a_second_dispute_keeps_the_first_reason_and_its_outcome(self, disputed_twice):
        assert _history(disputed_twice) == [("customer", FIRST, "rejected", True), ("customer", SECOND, "", False)]
        assert Invoice.objects.get(pk=disputed_twice.pk).dispute_reason == SECOND  # the dispute billing decides now

    def test_billing_sees_every_dispute_on_the_staff_page(self, client, billing_staff, disputed_twice):
        verified_client(client, billing_staff)
        page = html.unescape(client.get("/calls/staff/invoices/").content.decode())
        assert FIRST in page and SECOND in page and "rejected, the invoice stands" in page

    def test_the_customer_sees_their_past_disputes_and_outcomes(self, client, alice, disputed_twice):
        verified_client(client, alice)
        page = html.unescape(client.get(f"/calls/invoices/{disputed_twice.pk}/").content.decode())
        assert FIRST in page and SECOND in page and "rejected, the invoice stands" in page

    def test_billings_own_dispute_and_a_void_are_recorded(self, invoice, billing_staff):
        invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
        invoicing.invoice_void(invoice=invoice, actor=billing_staff)
        assert _history(invoice) == [("billing", "", "upheld", True)]

    def test_the_export_carries_each_dispute(self, alice, disputed_twice, settings, tmp_path,
                                             django_capture_on_commit_callbacks):
        settings.PRIVATE_FILES_DIR = tmp_path
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
        [row] = section(export_json_valid(ExportFile.objects.get(request=req)), "invoices")["rows"]
        assert [(d["reason"], d["outcome"], d["resolved_at"] is not None) for d in row["disputes"]] == [
            (FIRST, "rejected", True), (SECOND, "", False)]
        assert row["dispute_reason"] == SECOND

    @pytest.mark.audit_guard_exempt("it calls erasure's invoices section alone; the erasure service that calls it "
                                     "(dsr_erasure_perform) records its purpose, dsr.erase")
    def test_erasure_redacts_the_reasons_of_decided_disputes(self, alice, disputed_twice, billing_staff):
        sections.invoices_erase(alice, [])
        assert _history(disputed_twice) == [("customer", "", "rejected", True), ("customer", SECOND, "", False)]
        assert InvoiceDispute.objects.filter(reason_erased_at__isnull=False).count() == 1
        invoicing.invoice_resolve_dispute(invoice=disputed_twice, actor=billing_staff, resolution="rejected")
        sections.invoices_erase(alice, [])  # erased again (a restore replays it): the decided one goes too
        assert _history(disputed_twice) == [("customer", "", "rejected", True), ("customer", "", "rejected", True)]
        assert Invoice.objects.get(pk=disputed_twice.pk).dispute_reason == ""


BEFORE, AFTER = [("traffic", "0023_tariff_zone_nl")], [("traffic", "0024_invoice_dispute")]


@pytest.mark.postgres  # migrating back and forth; SQLite's append-only audit trigger refuses the flush after it
@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_recorded_dispute(alice):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Old = executor.loader.project_state(BEFORE).apps.get_model("traffic", "Invoice")
    day, at = date(2026, 3, 1), now() - timedelta(days=20)

    def made(number: str, status: str, reason: str = "", decided: bool = False) -> int:
        period = day.replace(month=int(number[-1]))
        return Old.objects.create(number=number, account_id=alice.pk, period=period, due_date=day,
                                  dispute_window_ends=day,
                                  status=status, disputed_at=at, dispute_reason=reason,
                                  dispute_resolved_at=at + timedelta(days=2) if decided else None).pk

    open_one, rejected, upheld = made("INV-1", "disputed", FIRST), made("INV-2", "paid", SECOND, True), \
        made("INV-3", "void", decided=True)
    never = Old.objects.create(number="INV-4", account_id=alice.pk, period=day.replace(month=4), due_date=day,
                               dispute_window_ends=day).pk

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    Dispute = executor.loader.project_state(AFTER).apps.get_model("traffic", "InvoiceDispute")
    rows = {d.invoice_id: (d.raised_by, d.reason, d.outcome, d.raised_at == at, d.resolved_at is not None)
            for d in Dispute.objects.all()}
    assert rows == {open_one: ("customer", FIRST, "", True, False),
                    rejected: ("customer", SECOND, "rejected", True, True),
                    upheld: ("billing", "", "upheld", True, True)}
    assert never not in rows

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the test database as the other tests expect it
