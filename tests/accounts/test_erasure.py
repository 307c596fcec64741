"""Erasure (GDPR art. 17): what may go is gone, what the law keeps is restricted and named, the account closed."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils.formats import date_format
from django.utils.timezone import now

from accounts.dsr.services import dsr_request_create
from accounts.services.sign_in import WRONG_PASSWORD
from accounts.models import PhoneNumber, User, UserSession
from accounts.dsr.models import DataSubjectRequest
from tests.factories import PASSWORD, make_cdr, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

ERASURE = DataSubjectRequest.Kind.ERASURE


def _invoice(user, *, status: str, period: date, window_ends: date):
    from traffic.models import Invoice

    return Invoice.objects.create(number=f"INV-{user.pk}-{period:%Y%m}", account=user, period=period,
                                  due_date=period + timedelta(days=45), dispute_window_ends=window_ends, status=status,
                                  paid_at=now() if status == "paid" else None)


@pytest.mark.django_db
class ErasureTests:
    def test_it_erases_profile_and_keeps_the_open_invoice_and_held_calls_restricted(self, client, alice, bob):
        from knox.models import AuthToken
        from retention.services import legal_hold_place
        from traffic.models import Cdr, Invoice

        invoice = _invoice(alice, status="open", period=date.today().replace(day=1) - timedelta(days=40),
                           window_ends=date.today() + timedelta(days=150))
        billed = make_cdr(account=alice, invoice=invoice, dst="+31699993678")
        other = make_cdr(account=alice, dst="+31699997321", started_at=now() - timedelta(days=3))
        bobs = make_cdr(account=bob, src="+31205550201")
        legal_hold_place(reason="preservation_order", reference="TEST-HOLD-1", categories=["cdr_billed", "cdr_unbilled"],
                         numbers=["+31205550101"], window_start=now() - timedelta(days=60),
                         expires_at=now() + timedelta(days=90))
        AuthToken.objects.create(user=alice)
        verified_client(client, alice)
        assert UserSession.objects.count() == 1

        asked = client.post("/privacy-requests/new/", {"kind": ERASURE, "password": PASSWORD})
        assert asked.status_code == 200 and "Erase your data and close your account?" in asked.content.decode()
        assert PASSWORD not in asked.content.decode()  # the password is asked again, never echoed into the page
        assert UserSession.objects.count() == 1 and not DataSubjectRequest.objects.exists()
        response = client.post("/privacy-requests/new/", {"kind": ERASURE, "password": PASSWORD, "confirm": "yes"})

        assert response.status_code == 200
        page = response.content.decode()
        assert "Invoices and their aggregated lines are kept" in page
        # A preservation order is a criminal investigation's: the calls stay, but the page must not say
        # why (that would tip alice off); the line on other legal obligations is in every answer.
        assert "Legal hold" not in page and "TEST-HOLD-1" not in page and "126ni" not in page
        assert "Where another legal obligation makes us keep data" in page
        alice = User.objects.get(pk=alice.pk)
        assert not alice.is_active and alice.closed_at and alice.email is None and alice.username.startswith("erased-")
        assert not alice.has_usable_password()
        assert not AuthToken.objects.filter(user=alice).exists() and UserSession.objects.count() == 0
        assert not User.objects.filter(username="alice").exists()
        # kept and restricted, with a deletion date for the invoice
        assert Invoice.objects.get(pk=invoice.pk).restricted_at is not None
        assert set(Cdr.objects.filter(account=alice).values_list("id", flat=True)) == {billed.id, other.id}
        assert not Cdr.objects.filter(account=alice, restricted_at__isnull=True).exists()
        assert Cdr.objects.get(pk=bobs.pk).restricted_at is None
        req = DataSubjectRequest.objects.get(user=alice, kind=ERASURE)
        kept = {k["category"]: k for k in req.outcome["kept"]}
        assert kept["invoices"]["until"] and "calls" in kept and not any("cdr" in c for c in kept)
        # the table's "Deleted on" is a date as people read it, not the stored ISO text
        until = date.fromisoformat(kept["invoices"]["until"])
        # (each cell names its column for a phone's card: {% stacked_table %})
        assert f'<td data-label="Deleted on" role="cell">{date_format(until, "DATE_FORMAT")}</td>' in page
        assert kept["invoices"]["until"] not in page
        # the DPO's record of the request still names the hold that kept the calls
        assert [k["reason"] for k in req.outcome["kept_withheld"]] == ["Legal hold (preservation order, TEST-HOLD-1)."]
        assert "TEST-HOLD-1" not in req.answer
        assert req.status == DataSubjectRequest.Status.COMPLETED
        # the held number's assignment period stays (it is what the hold is about)
        assert PhoneNumber.objects.filter(user=alice).exists()
        # logins end at once: the old session is gone and the password no longer works
        from django.contrib.auth import authenticate
        from django.test import RequestFactory

        for name in ("alice", alice.username):
            assert authenticate(RequestFactory().post("/accounts/login/"), username=name, password=PASSWORD) is None

    def test_it_deletes_calls_nothing_keeps_and_says_so(self, alice):
        from traffic.models import Cdr, Invoice

        invoice = _invoice(alice, status="paid", period=date(2025, 1, 1), window_ends=date(2025, 8, 1))
        make_cdr(account=alice, invoice=invoice, started_at=now() - timedelta(days=2))
        make_cdr(account=alice, disposition="failed", billsec=0, rating="free")

        req = dsr_request_create(user=alice, kind=ERASURE, password=PASSWORD)

        assert Cdr.objects.filter(account_id=alice.pk).count() == 0
        assert Invoice.objects.get(pk=invoice.pk).restricted_at is not None
        assert not PhoneNumber.objects.filter(user_id=alice.pk).exists()
        assert [k["category"] for k in req.outcome["kept"]] == ["invoices"]
        assert "- Invoices: " in req.answer and "Calls" not in req.answer.split("\n", 1)[1]

    def test_a_dispute_hold_is_named_but_an_investigations_hold_never_is(self, alice):
        from retention.services import legal_hold_place
        from traffic.models import Cdr

        make_cdr(account=alice, started_at=now() - timedelta(days=3))
        legal_hold_place(reason="dispute", reference="geschil-77", categories=["cdr_billed", "cdr_unbilled"],
                         account_ids=[alice.pk])
        legal_hold_place(reason="disclosure_request", reference="disclosure:12", owner="disclosure",
                         categories=["cdr_billed", "cdr_unbilled"], account_ids=[alice.pk])

        req = dsr_request_create(user=alice, kind=ERASURE, password=PASSWORD)

        assert "geschil-77" in req.answer and "disclosure" not in req.answer.lower()
        assert [k["reason"] for k in req.outcome["kept"]] == ["Legal hold (dispute, geschil-77)."]
        assert Cdr.objects.filter(account_id=alice.pk).count() == 1  # kept, and restricted

    def test_a_hold_keeps_only_the_calls_it_covers_and_the_rest_goes(self, alice):
        """A hold keeps its numbers' or accounts' calls in its window, not every call of the person (GDPR art.
        5(1)(c), 17(3)(e): the exception reaches as far as the hold, no further)."""
        from retention.services import legal_hold_place
        from traffic.models import Cdr

        held = make_cdr(account=alice, src="+31205550101", started_at=now() - timedelta(days=5))
        before_window = make_cdr(account=alice, src="+31205550101", started_at=now() - timedelta(days=40))
        other_number = make_cdr(account=alice, src="+31205550109", dst="+31699997321",
                                started_at=now() - timedelta(days=4))
        legal_hold_place(reason="preservation_order", reference="TEST-HOLD-2", categories=["cdr_billed", "cdr_unbilled"],
                         numbers=["+31205550101"], window_start=now() - timedelta(days=10),
                         expires_at=now() + timedelta(days=90))

        req = dsr_request_create(user=alice, kind=ERASURE, password=PASSWORD)

        assert set(Cdr.objects.filter(account_id=alice.pk).values_list("id", flat=True)) == {held.id}
        assert Cdr.objects.get(pk=held.pk).restricted_at is not None
        assert not Cdr.objects.filter(pk__in=[before_window.pk, other_number.pk]).exists()
        calls = req.outcome["counts"]["calls"]
        assert (calls["deleted"], calls["restricted"], calls["kept"]) == (2, 1, 1)

    def test_it_refuses_erasure_without_the_password(self, client, alice):
        verified_client(client, alice)
        response = client.post("/privacy-requests/new/", {"kind": ERASURE, "password": "wrong", "confirm": "yes"})
        assert response.status_code == 400 and WRONG_PASSWORD in response.content.decode()
        assert User.objects.get(pk=alice.pk).is_active
        assert AuditEntry.objects.filter(action="dsr.reauth_failed").exists()  # the refusal keeps its audit entry
        with pytest.raises(ApplicationError):
            dsr_request_create(user=alice, kind=ERASURE, password="")
        assert not DataSubjectRequest.objects.exists()
