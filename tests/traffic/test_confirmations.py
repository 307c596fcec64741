"""Issue 13 item 5: voiding or marking an invoice paid asks first, naming the invoice and what follows."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tests.factories import make_cdr, verified_client
from traffic.models import Invoice
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 10, 9, tzinfo=timezone.utc)


class InvoiceConfirmationTests:
    def test_void_asks_naming_the_invoice_and_acts_only_when_confirmed(self, client, billing_staff, alice):
        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        c = verified_client(client, billing_staff)
        asked = c.post(f"/calls/staff/invoices/{invoice.pk}/void/")
        page = asked.content.decode()
        assert asked.status_code == 200 and f"Void invoice {invoice.number}?" in page
        assert "cannot be reopened" in page and 'href="/calls/staff/invoices/"' in page
        assert Invoice.objects.get(pk=invoice.pk).status == "open"
        c.post(f"/calls/staff/invoices/{invoice.pk}/void/", {"confirm": "yes"})
        assert Invoice.objects.get(pk=invoice.pk).status == "void"

    def test_a_dispute_asks_naming_what_follows_and_acts_only_when_confirmed(self, client, billing_staff, alice):
        """Staff's Dispute button used to act at once, with no way back but rejecting the dispute it opened."""
        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        c = verified_client(client, billing_staff)
        asked = c.post(f"/calls/staff/invoices/{invoice.pk}/dispute/")
        page = asked.content.decode()
        assert asked.status_code == 200 and f"Open a dispute on invoice {invoice.number}?" in page
        assert "its calls are kept until the dispute is decided" in page and "cannot be withdrawn" in page
        assert 'href="/calls/staff/invoices/"' in page and "Yes, open the dispute" in page
        assert Invoice.objects.get(pk=invoice.pk).status == "open"
        c.post(f"/calls/staff/invoices/{invoice.pk}/dispute/", {"confirm": "yes"})
        assert Invoice.objects.get(pk=invoice.pk).status == "disputed"

    def test_the_list_offers_dispute_only_while_its_window_is_open(self, client, billing_staff, alice):
        """A button that could only be refused is not offered: past its window the row says when it closed."""
        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        c = verified_client(client, billing_staff)
        action = f'action="/calls/staff/invoices/{invoice.pk}/dispute/"'
        Invoice.objects.filter(pk=invoice.pk).update(dispute_window_ends=date(2099, 1, 1))
        assert action in c.get("/calls/staff/invoices/").content.decode()
        Invoice.objects.filter(pk=invoice.pk).update(dispute_window_ends=date(2026, 1, 31))
        page = c.get("/calls/staff/invoices/").content.decode()
        assert action not in page and "Dispute window ended on 31 January 2026" in page
        c.cookies["django_language"] = "nl"
        assert "Betwistingstermijn verstreken op 31 januari 2026" in c.get("/calls/staff/invoices/").content.decode()

    @pytest.mark.parametrize("status, window_ends, why", [
        ("open", date(2026, 1, 1), "The dispute window of this invoice has ended."),
        ("disputed", date(2099, 1, 1), "This invoice is already disputed."),
        ("void", date(2099, 1, 1), "A void invoice cannot be disputed."),
    ])
    def test_a_dispute_the_rule_refuses_is_not_asked_for_but_refused(self, client, billing_staff, alice, status,
                                                                     window_ends, why):
        """The question is asked only of a dispute the service would open (open or paid, its window not over):
        confirming one it refuses would be a question with no outcome."""
        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        Invoice.objects.filter(pk=invoice.pk).update(status=status, dispute_window_ends=window_ends)
        c = verified_client(client, billing_staff)
        done = c.post(f"/calls/staff/invoices/{invoice.pk}/dispute/", follow=True)
        page = done.content.decode()
        assert "Open a dispute on invoice" not in page and why in page
        assert Invoice.objects.get(pk=invoice.pk).status == status

    def test_the_dispute_question_is_dutch_on_the_dutch_page(self, client, billing_staff, alice):
        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        c = verified_client(client, billing_staff)
        c.cookies["django_language"] = "nl"
        page = c.post(f"/calls/staff/invoices/{invoice.pk}/dispute/").content.decode()
        assert '<html lang="nl">' in page and "Bevestig alstublieft" in page
        assert "Open a dispute" not in page and "cannot be withdrawn" not in page
        assert "Een betwisting openen voor factuur" in page and "kan niet worden ingetrokken" in page

    def test_upholding_a_dispute_asks_then_voids_it_as_the_disputes_outcome(self, client, billing_staff, alice):
        """A disputed invoice offers Reject and Uphold (no bare Void: upholding is that decision, recorded
        as the dispute's outcome); upholding asks first."""
        from voipxs.privacy.models import AuditEntry

        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        c = verified_client(client, billing_staff)
        c.post(f"/calls/staff/invoices/{invoice.pk}/dispute/", {"confirm": "yes"})
        listing = c.get("/calls/staff/invoices/").content.decode()
        assert f"/calls/staff/invoices/{invoice.pk}/uphold-dispute/" in listing
        assert f"/calls/staff/invoices/{invoice.pk}/void/" not in listing
        asked = c.post(f"/calls/staff/invoices/{invoice.pk}/uphold-dispute/").content.decode()
        assert f"Uphold the dispute on invoice {invoice.number}?" in asked and "Reissue" in asked
        assert Invoice.objects.get(pk=invoice.pk).status == "disputed"
        done = c.post(f"/calls/staff/invoices/{invoice.pk}/uphold-dispute/", {"confirm": "yes"}, follow=True)
        assert "upheld; the invoice is void" in done.content.decode()
        assert Invoice.objects.get(pk=invoice.pk).status == "void"
        assert AuditEntry.objects.get(action="invoice.dispute_resolved").extra == {"resolution": "upheld"}
        assert f"/calls/staff/invoices/{invoice.pk}/reissue/" in done.content.decode()

    def test_rejecting_a_dispute_asks_then_lets_the_invoice_stand(self, client, billing_staff, alice):
        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        c = verified_client(client, billing_staff)
        c.post(f"/calls/staff/invoices/{invoice.pk}/dispute/", {"confirm": "yes"})
        asked = c.post(f"/calls/staff/invoices/{invoice.pk}/reject-dispute/").content.decode()
        assert f"Reject the dispute on invoice {invoice.number}?" in asked and "stands and is owed again" in asked
        assert Invoice.objects.get(pk=invoice.pk).status == "disputed"
        c.cookies["django_language"] = "nl"
        dutch = c.post(f"/calls/staff/invoices/{invoice.pk}/reject-dispute/").content.decode()
        assert '<html lang="nl">' in dutch and "Bevestig alstublieft" in dutch
        assert Invoice.objects.get(pk=invoice.pk).status == "disputed"
        c.post(f"/calls/staff/invoices/{invoice.pk}/reject-dispute/", {"confirm": "yes"})
        assert Invoice.objects.get(pk=invoice.pk).status == "open"
