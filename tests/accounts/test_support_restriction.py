"""LEGAL.md section 5, row 26 (GDPR art. 18): "Restricted rows are invisible to the support role and visible to the
legal-claim purpose only", through the support desk's own pages and its purpose (CUSTOMER_SUPPORT,
accounts.support.selectors.support_customers), the support role's other purpose (SECURITY), and the legal-claim
purpose (DISPUTE) that still reaches the restricted customer's calls and invoice while billing (BILLING) does not.

bob is restricted (a restriction request the DPO completed, ground "legal claims"); carol, of the same contractor,
is not, and shows throughout, so an empty answer about bob is the restriction's and not an empty desk."""
from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.timezone import now
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from accounts.selectors import access_user, phone_number_holder_at
from accounts.support.selectors import support_customer_card, support_customer_find
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import make_cdr, verified_client
from traffic.models import Invoice
from traffic.selectors.calls import cdr_list
from traffic.selectors.invoices import invoice_get
from traffic.services.invoices import invoice_run
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

BOB_NUMBER, CAROL_NUMBER = "+31205550201", "+31205550202"
LAST_MONTH = (now().date().replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def restricted(bob, carol, dpo):
    """bob restricted, with a call and an invoice of last month, a lockout on record and a second factor; carol not."""
    for user, number, other in ((bob, BOB_NUMBER, "+31699991111"), (carol, CAROL_NUMBER, "+31699994222")):
        make_cdr(account=user, src=number, dst=other, started_at=now().replace(
            year=LAST_MONTH.year, month=LAST_MONTH.month, day=15))
    invoice_run(month=LAST_MONTH)
    AccessAttempt.objects.create(username=bob.username, ip_address="192.0.2.7", user_agent="test",
                                 failures_since_start=5, attempt_time=now() - timedelta(minutes=1),
                                 get_data="", post_data="")
    TOTPDevice.objects.create(user=bob, name="default", confirmed=True)
    req = dsr_request_create(user=bob, kind=DataSubjectRequest.Kind.RESTRICTION, details="accuracy contested")
    dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo, ground="legal_claims")
    bob.refresh_from_db()
    assert bob.restricted_at is not None
    return bob


def _invoice_of(user) -> Invoice:
    return Invoice.objects.get(account=user, period=LAST_MONTH)


class SupportDeskTests:
    def test_the_search_finds_no_restricted_customer_by_number_or_e_mail(self, client, support, carol, restricted):
        desk = verified_client(client, support)
        for query in (BOB_NUMBER, "020 555 0201", "bob@example.org"):
            page = desk.get("/support/", {"q": query}).content.decode()
            assert "No customer found" in page and f"/support/customers/{restricted.pk}/" not in page, query
        assert f"/support/customers/{carol.pk}/" in desk.get("/support/", {"q": CAROL_NUMBER}).content.decode()
        # The search was made, under the support purpose, and found nothing.
        assert AuditEntry.objects.filter(action="support.find", purpose=Purpose.CUSTOMER_SUPPORT).count() == 4

    def test_the_restricted_customers_card_is_404_and_shows_nothing_of_them(self, client, support, carol, restricted):
        desk = verified_client(client, support)
        response = desk.get(f"/support/customers/{restricted.pk}/")
        assert response.status_code == 404
        page = response.content.decode()
        assert BOB_NUMBER not in page and "bob@example.org" not in page and "+31699991111" not in page
        assert desk.get(f"/support/customers/{carol.pk}/").status_code == 200

    def test_no_support_action_reaches_the_restricted_customer(self, client, support, restricted):
        desk = verified_client(client, support)
        pk = restricted.pk
        requests_before = DataSubjectRequest.objects.filter(user=restricted).count()
        assert desk.post(f"/support/customers/{pk}/unlock/").status_code == 404
        assert desk.post(f"/support/customers/{pk}/two-factor-reset/",
                         {"reason": "lost_device", "ticket": "T-1"}).status_code == 404
        opened = desk.post(f"/support/customers/{pk}/requests/", {"kind": "access", "channel": "phone"})
        assert opened.status_code == 404
        assert desk.post(f"/support/customers/{pk}/itemisation/", {"itemisation": "none"}).status_code == 404
        # Nothing changed for the restricted customer.
        assert AccessAttempt.objects.filter(username=restricted.username).exists()
        assert TOTPDevice.objects.filter(user=restricted).exists()
        assert DataSubjectRequest.objects.filter(user=restricted).count() == requests_before

    def test_the_support_selectors_leave_the_restricted_customer_out(self, support, carol, restricted):
        assert support_customer_find(actor=support, query=BOB_NUMBER) == []
        assert support_customer_find(actor=support, query="bob@example.org") == []
        assert support_customer_find(actor=support, query=CAROL_NUMBER) == [carol]
        with pytest.raises(Http404):
            support_customer_card(actor=support, user_id=restricted.pk)
        assert support_customer_card(actor=support, user_id=carol.pk).user == carol


class SupportRoleOtherPurposesTests:
    def test_security_sees_neither_the_profile_nor_the_number(self, support, carol, restricted):
        with pytest.raises(Http404):
            access_user(actor=support, purpose=Purpose.SECURITY, user_id=restricted.pk)
        assert phone_number_holder_at(actor=support, purpose=Purpose.SECURITY, number=BOB_NUMBER, at=now()) is None
        assert access_user(actor=support, purpose=Purpose.SECURITY, user_id=carol.pk) == carol

    @pytest.mark.parametrize("purpose", [Purpose.SECURITY, Purpose.CUSTOMER_SUPPORT, Purpose.DISPUTE,
                                         Purpose.LEGAL_OBLIGATION])
    def test_support_reads_no_calls_under_any_purpose(self, support, restricted, purpose):
        with pytest.raises(PermissionDenied):
            cdr_list(actor=support, purpose=purpose, account=restricted)


class LegalClaimPurposeTests:
    def test_the_dispute_purpose_still_reads_the_restricted_calls_and_profile(self, legal1, restricted):
        rows = cdr_list(actor=legal1, purpose=Purpose.DISPUTE, account=restricted).rows
        assert [r.other_number for r in rows] == ["+31699991111"]
        assert access_user(actor=legal1, purpose=Purpose.DISPUTE, user_id=restricted.pk) == restricted
        holder = phone_number_holder_at(actor=legal1, purpose=Purpose.DISPUTE, number=BOB_NUMBER, at=now())
        assert holder.user_id == restricted.pk
        assert AuditEntry.objects.filter(action="cdr.list", purpose=Purpose.DISPUTE, outcome="ok").exists()

    def test_billing_disputes_the_restricted_invoice_but_cannot_otherwise_see_it(self, client, billing_staff,
                                                                                  carol, restricted):
        api = verified_client(client, billing_staff)
        invoice = _invoice_of(restricted)
        assert invoice.restricted_at is not None
        listed = {row["id"] for row in api.get("/api/v1/staff/invoices/").json()["results"]}
        assert invoice.pk not in listed and _invoice_of(carol).pk in listed  # BILLING: not a legal claim
        assert api.post(f"/api/v1/staff/invoices/{invoice.pk}/paid/").status_code == 404
        response = api.post(f"/api/v1/staff/invoices/{invoice.pk}/dispute/")  # DISPUTE: the legal claim
        assert response.status_code == 200 and response.json()["status"] == Invoice.Status.DISPUTED
        with pytest.raises(Http404):
            invoice_get(actor=billing_staff, purpose=Purpose.BILLING, invoice_id=invoice.pk)
        assert invoice_get(actor=billing_staff, purpose=Purpose.DISPUTE, invoice_id=invoice.pk) == invoice

    def test_the_restricted_customer_no_longer_sees_their_own_calls(self, restricted):
        assert cdr_list(actor=restricted, purpose=Purpose.SELF_SERVICE).rows == []
