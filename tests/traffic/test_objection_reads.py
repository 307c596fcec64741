"""GDPR art. 21(1) in the reads of calls and invoices: once the DPO upholds a person's objection to a purpose based on
legitimate interests, the staff reads under that purpose leave the person out (DISPUTE: the staff call and invoice
reads and the hold table beside them; INTERCONNECTION: the interconnection report; SECURITY: the admin's call pages).
A rejected or pending objection changes nothing, nor does an upheld one any other purpose. Under DISPUTE a claim
already pending stays readable: the calls and the invoice of an invoice under an open dispute (traffic.selectors.scope
module docstring)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from django.db import connection
from django.http import Http404

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.objection import dsr_objection_decide
from accounts.dsr.services import dsr_request_create
from retention.models import HeldCdr
from retention.selectors import held_cdr_list
from tests.factories import make_cdr, make_source, make_user, verified_client
from tests.retention.helpers import make_invoice
from traffic.selectors import calls as call_selectors
from traffic.selectors import interconnection, invoices as invoice_selectors
from traffic.selectors.admin_calls import CDR_ADMIN_READS
from voipxs.privacy import crypto
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
BALANCE = {"legitimate_interest": "Interest-objx", "person_interests": "Weighed-objx", "reasons": "Reasons-objx"}


def objection(user, purpose: str, outcome: str | None, dpo) -> None:
    """`user` objects to `purpose`; the DPO decides it with `outcome` (None: left pending)."""
    req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.OBJECTION, details="My grounds",
                             purposes=[purpose])
    if outcome is not None:
        dsr_objection_decide(request=req, decisions={purpose: {"outcome": outcome, **BALANCE}}, answer="Decided.",
                             actor=dpo)


@pytest.fixture
def people(dpo):
    """Four customers with one call each: Uma's objection is upheld, Rita's rejected, Pia's pending, Nora objected
    to nothing. The objections name `purpose` (set by the test through `people(purpose)`)."""
    def make(purpose: str) -> dict:
        found = {}
        for name, outcome in (("uma", "upheld"), ("rita", "rejected_compelling"), ("pia", None), ("nora", False)):
            user = make_user(name, numbers=[f"+3120555{len(found) + 1:04d}"])
            if outcome is not False:
                objection(user, purpose, outcome, dpo)
            found[name] = user
        return found
    return make


def _dispute_call_owners(actor) -> set[int]:
    page = call_selectors.cdr_list(actor=actor, purpose=Purpose.DISPUTE, limit=500)
    return {row.account_id for row in page.rows}


class DisputeReadsTests:
    def test_the_staff_dispute_call_list_leaves_out_only_an_upheld_objector(self, people, billing_staff):
        users = people("dispute")
        for user in users.values():
            make_cdr(account=user, src=user.phone_numbers.get().number, started_at=T0)
        assert _dispute_call_owners(billing_staff) == {users[n].pk for n in ("rita", "pia", "nora")}
        # BILLING is the contract's: the objection to DISPUTE does not touch it.
        billing = call_selectors.cdr_list(actor=billing_staff, purpose=Purpose.BILLING, limit=500)
        assert users["uma"].pk in {row.account_id for row in billing.rows}
        # Asked for by account, the upheld objector's calls are not there either; the export reads the same.
        assert call_selectors.cdr_list(actor=billing_staff, purpose=Purpose.DISPUTE, account=users["uma"]).rows == []
        exported = call_selectors.cdr_export_rows(actor=billing_staff, purpose=Purpose.DISPUTE, account=users["uma"])
        assert list(exported) == []

    def test_an_open_dispute_stays_readable_as_a_pending_legal_claim(self, people, billing_staff):
        users = people("dispute")
        uma = users["uma"]
        disputed = make_invoice(account=uma, period=date(2026, 2, 1), status="disputed")
        settled = make_invoice(account=uma, period=date(2026, 1, 1), status="paid")
        kept = make_cdr(account=uma, src="+31205550001", started_at=T0, invoice=disputed)
        make_cdr(account=uma, src="+31205550001", started_at=T0, invoice=settled)
        rows = call_selectors.cdr_list(actor=billing_staff, purpose=Purpose.DISPUTE, account=uma).rows
        assert [row.id for row in rows] == [kept.pk]
        assert invoice_selectors.invoice_get(actor=billing_staff, purpose=Purpose.DISPUTE,
                                             invoice_id=disputed.pk) == disputed
        with pytest.raises(Http404):
            invoice_selectors.invoice_get(actor=billing_staff, purpose=Purpose.DISPUTE, invoice_id=settled.pk)
        listed = invoice_selectors.invoice_list(actor=billing_staff, purpose=Purpose.DISPUTE, account=uma)
        assert [invoice.pk for invoice in listed] == [disputed.pk]
        # Billing still reads both invoices.
        assert invoice_selectors.invoice_get(actor=billing_staff, purpose=Purpose.BILLING,
                                             invoice_id=settled.pk) == settled

    def test_the_staff_dispute_pages_act_on_a_pending_dispute_and_find_no_other_invoice(self, client, people,
                                                                                         billing_staff):
        users = people("dispute")
        disputed = make_invoice(account=users["uma"], period=date(2026, 2, 1), status="disputed")
        open_one = make_invoice(account=users["uma"], period=date(2026, 3, 1), status="open",
                                window_ends=date(2099, 1, 1))
        others = make_invoice(account=users["rita"], period=date(2026, 3, 1), status="open",
                              window_ends=date(2099, 1, 1))
        staff = verified_client(client, billing_staff)
        assert staff.post(f"/calls/staff/invoices/{open_one.pk}/dispute/").status_code == 404
        assert staff.post(f"/calls/staff/invoices/{others.pk}/dispute/", {"confirm": "yes"}).status_code == 302
        confirm = staff.post(f"/calls/staff/invoices/{disputed.pk}/reject-dispute/")
        assert confirm.status_code == 200 and disputed.number in confirm.content.decode()

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the hold table is read only where months drop")
    def test_the_hold_tables_copies_follow_the_same_rule(self, people, billing_staff):
        users = people("dispute")
        uma, rita = users["uma"], users["rita"]
        disputed = make_invoice(account=uma, period=date(2026, 2, 1), status="disputed")
        unpaid = make_invoice(account=uma, period=date(2026, 1, 1), status="open")
        for cdr_id, user, invoice in ((99101, uma, unpaid), (99102, uma, disputed), (99103, rita, None)):
            held_copy(cdr_id, user, invoice)
        owners = {(row.account_id, row.id) for row in
                  call_selectors.cdr_list(actor=billing_staff, purpose=Purpose.DISPUTE, limit=500).rows}
        assert owners == {(uma.pk, 99102), (rita.pk, 99103)}


class HeldCallListTests:
    def test_the_held_call_list_under_dispute_leaves_out_an_upheld_objector(self, people, legal1):
        users = people("dispute")
        uma, rita = users["uma"], users["rita"]
        disputed = make_invoice(account=uma, period=date(2026, 2, 1), status="disputed")
        for cdr_id, user, invoice in ((99201, uma, None), (99202, uma, disputed), (99203, rita, None)):
            held_copy(cdr_id, user, invoice)
        listed = {row.cdr_id for row in held_cdr_list(actor=legal1, purpose=Purpose.DISPUTE)}
        assert listed == {99202, 99203}
        # Under the law's own purpose (LEGAL_OBLIGATION, art. 6(1)(c)) nobody may object: all three.
        assert {row.cdr_id for row in held_cdr_list(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION)} == {
            99201, 99202, 99203}


def held_copy(cdr_id: int, user, invoice) -> HeldCdr:
    aad = f"heldcdr:{cdr_id}".encode()
    return HeldCdr.objects.create(
        cdr_id=cdr_id, started_at=T0, source_id=make_source().pk, unique_id=f"h{cdr_id}", fingerprint="f",
        account_id=user.pk, invoice_id=getattr(invoice, "pk", None), direction="out", disposition="answered",
        src_enc=crypto.encrypt_bytes(b"+31205550001", aad=aad), dst_enc=crypto.encrypt_bytes(b"+31699990001", aad=aad),
        src_index="s", dst_index="d", rating="rated", billsec=60, duration=65)


class InterconnectionReportTests:
    def test_the_report_counts_no_call_of_an_upheld_objector(self, people, billing_staff):
        users = people("interconnection")
        for user in users.values():
            make_cdr(account=user, src=user.phone_numbers.get().number, started_at=T0, billsec=60)
        [row] = interconnection.interconnection_report(actor=billing_staff, month=date(2026, 3, 1))
        assert (row.calls, row.seconds) == (3, 180)  # Rita's, Pia's and Nora's; not Uma's


class SecurityReadsTests:
    def test_the_admins_call_pages_leave_out_an_upheld_objector_to_security(self, people, admin_user):
        users = people("security")
        for user in users.values():
            make_cdr(account=user, src=user.phone_numbers.get().number, started_at=T0)
        shown = set(CDR_ADMIN_READS.queryset(actor=admin_user).values_list("account_id", flat=True))
        assert shown == {users[n].pk for n in ("rita", "pia", "nora")}

    def test_an_objection_to_security_leaves_the_dispute_reads_alone(self, people, billing_staff):
        users = people("security")
        for user in users.values():
            make_cdr(account=user, src=user.phone_numbers.get().number, started_at=T0)
        assert _dispute_call_owners(billing_staff) == {user.pk for user in users.values()}
