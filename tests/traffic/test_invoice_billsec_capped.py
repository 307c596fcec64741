"""A call stored before the import capped billsec at the call's duration (a row with more talk time than the whole
call, as the switch wrote it) still counted its impossible seconds on the invoice: the line's seconds, which the
invoice page and PDF show as the minutes billed, said 90 for a call of 20 seconds. The invoice now counts such a row for
its duration at most, as the import and the re-rating bill it; the stored row stays as it was written."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tests.factories import make_cdr, verified_client
from traffic.models import Cdr
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


class InvoiceBillsecCappedTests:
    def test_a_row_stored_with_billsec_over_duration_counts_its_duration(self, client, alice):
        make_cdr(account=alice, started_at=T0, billsec=61, duration=66)
        old = make_cdr(account=alice, started_at=T0.replace(hour=10), billsec=90, duration=20)  # stored the old way
        assert Cdr.objects.get(pk=old.pk).billsec == 90
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        [line] = invoice.lines.all()
        assert (line.calls, line.seconds) == (2, 61 + 20)
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        assert '<td class="num">81</td>' in page and '<td class="num">151</td>' not in page
        assert Cdr.objects.get(pk=old.pk).billsec == 90  # the row is not rewritten

    def test_a_reissue_counts_it_the_same_way(self, alice, billing_staff):
        make_cdr(account=alice, started_at=T0, billsec=500, duration=30)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        invoicing.invoice_void(invoice=invoice, actor=billing_staff)
        invoice.refresh_from_db()
        corrected = invoicing.invoice_reissue(invoice=invoice, actor=billing_staff)
        assert [line.seconds for line in corrected.lines.all()] == [30]
