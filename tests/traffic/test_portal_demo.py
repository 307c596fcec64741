from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from traffic.models import Cdr, Invoice
from traffic.selectors.calls import cdr_list
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db


class PortalDemoDataTests:
    def test_it_gives_the_demo_users_calls_and_invoices_in_every_state(self):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        assert "Calls and invoices" in out.getvalue()
        from accounts.models import User

        alice = User.objects.get(username="alice")
        statuses = list(Invoice.objects.filter(account=alice).order_by("period").values_list("status", flat=True))
        assert statuses == ["paid", "disputed", "open"]
        page = cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE)
        assert page.rows and all(r.own_number == "+31205550101" for r in page.rows)
        assert Cdr.objects.filter(contractor__name="Acme BV").exists()
        before = Cdr.objects.count()
        call_command("seed_demo", stdout=io.StringIO())
        assert Cdr.objects.count() == before
