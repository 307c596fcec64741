"""The number periods stay when calls stay: an account anonymised (or erased) while an unpaid or disputed invoice keeps
its calls (the retention keeper's "calls") keeps the assignment periods of its numbers, which show the line was the
account's when the calls were made (collection, a dispute body: Tw art. 11.5(2), (6)), as a legal hold's calls do."""
from __future__ import annotations

from datetime import date

import pytest

from accounts.models import AccountCloseReason, PhoneNumber
from accounts.services.closing import account_anonymise, account_close, numbers_kept
from tests.factories import make_cdr
from tests.retention.helpers import make_invoice
from voipxs.privacy.registry import Kept

pytestmark = pytest.mark.django_db


def test_calls_kept_for_an_open_invoice_keep_the_numbers():
    assert numbers_kept([Kept(category="calls", reason="Calls of an invoice that is unpaid.", legal_basis="Tw")])
    assert numbers_kept([Kept(category="cdr_billed,cdr_unbilled", reason="Legal hold (dispute, x).", legal_basis="")])
    assert not numbers_kept([Kept(category="invoices", reason="Invoices are kept.", legal_basis="AWR art. 52")])


def test_an_account_anonymised_with_an_unpaid_invoice_keeps_its_number_periods(alice, billing_staff):
    invoice = make_invoice(account=alice, period=date(2026, 10, 1), status="open")
    make_cdr(account=alice, invoice=invoice)
    account_close(user=alice, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
    account_anonymise(user=alice, actor=None)
    assert PhoneNumber.objects.filter(user=alice).exists()


def test_an_account_whose_calls_all_went_loses_its_numbers(alice, billing_staff):
    make_invoice(account=alice, period=date(2019, 1, 1), status="paid")
    account_close(user=alice, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
    account_anonymise(user=alice, actor=None)
    assert not PhoneNumber.objects.filter(user=alice).exists()
