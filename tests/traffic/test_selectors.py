from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils.timezone import now

from tests.factories import make_cdr
from traffic.selectors import calls as selectors
from voipxs.privacy.audit import AuditEntry
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


def _calls(account, n, *, start=T0, **kw):
    return [make_cdr(account=account, started_at=start - timedelta(minutes=i), **kw) for i in range(n)]


class CdrListTests:
    def test_it_shows_a_customer_only_own_calls_decrypted(self, alice, bob):
        make_cdr(account=alice, src="+31205550101", dst="+31699993678", started_at=T0, caller_name="Alice")
        make_cdr(account=bob, src="+31205550201", dst="+31699997321", started_at=T0)
        page = selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE)
        assert [(r.own_number, r.other_number, r.caller_name) for r in page.rows] == [
            ("+31205550101", "+31699993678", "Alice")]
        assert page.next_cursor is None

    def test_it_refuses_a_customer_asking_for_someone_else(self, alice, bob):
        with pytest.raises(PermissionDenied):
            selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE, account=bob)

    def test_it_refuses_purposes_the_role_lacks_and_audits_the_refusal(self, alice, support):
        with pytest.raises(PermissionDenied):
            selectors.cdr_list(actor=alice, purpose=Purpose.BILLING)
        with pytest.raises(PermissionDenied):
            selectors.cdr_list(actor=support, purpose=Purpose.SECURITY)
        # Support holds SECURITY, which reads no calls: refused, and recorded so (not as a read that never happened).
        assert AuditEntry.objects.filter(action="cdr.list", outcome="refused").count() == 2
        assert not AuditEntry.objects.filter(action="cdr.list", outcome="ok").exists()

    def test_it_audits_each_read(self, alice):
        selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE)
        assert AuditEntry.objects.filter(action="cdr.list", outcome="ok").count() == 1

    def test_it_shows_a_contractor_its_users_masked_and_never_others(self, acme_admin, bob, carol, mallory, alice):
        make_cdr(account=bob, src="+31205550201", dst="+31699993678", started_at=T0, caller_name="Bob B")
        make_cdr(account=carol, src="+31205550202", dst="+31699993679", started_at=T0 - timedelta(hours=1))
        make_cdr(account=mallory, src="+31205550999", started_at=T0)
        make_cdr(account=alice, started_at=T0)
        page = selectors.cdr_list(actor=acme_admin, purpose=Purpose.CONTRACTOR_INFORMATION)
        assert [r.account_id for r in page.rows] == [bob.pk, carol.pk]
        assert page.rows[0].other_number == "+31699993•••"
        assert page.rows[0].own_number == "+31205550•••"
        assert page.rows[0].caller_name == ""
        with pytest.raises(PermissionDenied):
            selectors.cdr_list(actor=mallory, purpose=Purpose.CONTRACTOR_INFORMATION)

    def test_it_pages_by_keyset_without_gaps_or_repeats(self, alice):
        made = _calls(alice, 7)
        # two calls in the same second: the id breaks the tie
        made.append(make_cdr(account=alice, started_at=T0 - timedelta(minutes=3)))
        seen, cursor = [], None
        for _ in range(10):
            page = selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE, after=cursor, limit=3)
            seen += [r.id for r in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(c.id for c in made)
        assert len(seen) == len(set(seen))

    def test_it_filters_by_number_in_national_format_direction_and_dates(self, alice):
        make_cdr(account=alice, dst="+31699993678", started_at=T0)
        make_cdr(account=alice, dst="+31699999999", started_at=T0)
        make_cdr(account=alice, src="+31699993678", dst="+31205550101", direction="in", started_at=T0 - timedelta(days=40))
        by_number = selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE, number="06 9999 3678")
        assert len(by_number.rows) == 2
        incoming = selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE, direction="in")
        assert [r.other_number for r in incoming.rows] == ["+31699993678"]
        in_march = selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE, since=T0.date().replace(day=1),
                                      until=T0.date().replace(day=31))
        assert len(in_march.rows) == 2

    def test_it_names_the_field_of_a_bad_filter(self, alice):
        for kwargs, field in [({"after": "not-a-cursor"}, "cursor"), ({"number": "hello"}, "number"),
                              ({"direction": "sideways"}, "direction"), ({"limit": 0}, "limit"),
                              ({"since": T0.date(), "until": T0.date() - timedelta(days=2)}, "since")]:
            with pytest.raises(ApplicationError) as info:
                selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE, **kwargs)
            assert info.value.extra["field"] == field

    def test_it_hides_restricted_calls_except_for_legal_and_dispute(self, alice, billing_staff, legal1):
        cdr = make_cdr(account=alice, started_at=T0)
        type(cdr).objects.filter(pk=cdr.pk).update(restricted_at=now())
        assert selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows == []
        assert selectors.cdr_list(actor=billing_staff, purpose=Purpose.BILLING, account=alice).rows == []
        assert len(selectors.cdr_list(actor=billing_staff, purpose=Purpose.DISPUTE, account=alice).rows) == 1
        assert len(selectors.cdr_list(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION, account=alice).rows) == 1

    def test_it_masks_on_request(self, alice):
        make_cdr(account=alice, dst="+31699993678", started_at=T0)
        page = selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE, masked=True)
        assert page.rows[0].other_number == "+31699993•••"

    def test_it_exports_every_call_in_batches(self, alice, bob):
        _calls(alice, 5)
        _calls(bob, 2)
        rows = list(selectors.cdr_export_rows(actor=alice, purpose=Purpose.SELF_SERVICE, batch_size=2))
        assert len(rows) == 5 and all(r.account_id == alice.pk for r in rows)


class UsageTests:
    def test_it_sums_per_month_in_sql_with_empty_months(self, alice, bob):
        make_cdr(account=alice, started_at=T0, billsec=60, price=Decimal("0.10"))
        make_cdr(account=alice, started_at=T0, billsec=30, price=Decimal("0.05"))
        make_cdr(account=alice, started_at=T0 - timedelta(days=31), billsec=10, price=Decimal("0.01"))
        make_cdr(account=bob, started_at=T0, billsec=999)
        usage = selectors.cdr_usage_by_month(actor=alice, purpose=Purpose.SELF_SERVICE, months=3, today=T0.date())
        assert [(u.month.month, u.calls, u.seconds, u.amount) for u in usage] == [
            (1, 0, 0, Decimal("0.00")), (2, 1, 10, Decimal("0.01")), (3, 2, 90, Decimal("0.15"))]

    def test_a_months_amount_rounds_half_up_to_the_cent_as_the_invoice_does(self, alice):
        for price in ("0.10000", "0.02500"):  # 0.125: €0.13 on the invoice, so €0.13 here (half to even gave 0.12)
            make_cdr(account=alice, started_at=T0, billsec=60, price=Decimal(price))
        usage = selectors.cdr_usage_by_month(actor=alice, purpose=Purpose.SELF_SERVICE, months=1, today=T0.date())
        assert usage[0].amount == Decimal("0.13")
