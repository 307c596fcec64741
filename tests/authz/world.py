"""The seeded world of the authorization matrix: one person per role, and one object of every kind a
route takes an id of, owned by someone who is none of the people asking.

The customer asking is alice and the contractor admin is Acme's; every customer-side object belongs to
mallory (a customer of another contractor). The disclosure request was taken in by legal2 and approved
by legal3 and legal4, so it is not the asking legal officer's (legal1) either; the hold, the breach and
the role request (by a second admin, for support) were made by people who are not asking. Rows that only
an admin page shows (login traces, a held CDR) are made directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.db import models
from django.test import TestCase
from django.utils.timezone import now
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts.ciot.models import SubscriberDetails
from accounts.dsr.breaches import breach_incident_create
from accounts.dsr.models import DataSubjectRequest, ExportFile, RecipientNotification, Restriction
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from accounts.dsr.objection_models import Objection
from accounts.models import Contractor, PhoneNumber, RoleGrant, User
from accounts.services.call_setup_tokens import call_setup_token_create
from accounts.support.services import support_request_open
from accounts.services.roles import user_roles_set
from accounts.services.sign_in import recovery_codes_regenerate
from disclosures.models import AuthorityKind, DisclosureRequest, LegalBasis, Notice, Package
from disclosures.services.authorities import authority_create, authority_verify
from disclosures.services.intake import disclosure_document_add, disclosure_request_receive
from disclosures.services.transitions import (
    disclosure_output_check,
    disclosure_production_start,
    disclosure_request_approve,
    disclosure_request_deliver,
    disclosure_request_start_review,
    disclosure_request_verify_authority,
)
from retention.models import Category, HeldCdr, LegalHold, PurgeReceipt, PurgeRun, RetentionPolicy
from retention.purge.run import purge_expired
from retention.services import legal_hold_place
from tests.factories import PASSWORD, ContractorFactory, make_cdr, make_source, make_user
from traffic.models import BlockedPrefix, CallExport, Cdr, CdrImport, Invoice, Source, Tariff
from traffic.services import invoices as invoicing
from traffic.services.call_exports import call_export_request
from voipxs.models import AuditAnchor, AuditEntry
from voipxs.privacy.purposes import Role, objectable_purposes

MALLORY_NUMBER = "+31205550999"
ANONYMOUS = "anonymous"
ROLES: tuple[str, ...] = (ANONYMOUS, *Role.values)
# Who asks for each role: the personas of tests/factories.py.
ROLE_PEOPLE: dict[str, str | None] = {
    ANONYMOUS: None, Role.CUSTOMER: "alice", Role.CONTRACTOR_ADMIN: "acme_admin", Role.BILLING: "billing",
    Role.LEGAL_OFFICER: "legal1", Role.DPO: "dpo", Role.SUPPORT: "support", Role.ADMIN: "admin",
    Role.NOC: "noc", Role.FRAUD: "fraud",
}


@dataclass
class World:
    """Ids by kind (for the portal and API routes) and one instance per model (for the admin pages)."""

    ids: dict[str, Any]
    admin_objects: dict[type[models.Model], models.Model]


def people_make() -> dict[str, User]:
    """The personas of tests/factories.py (made as its fixtures make them: the world is seeded once for
    every role, outside any one test), and a fourth legal officer and a second admin."""
    acme, other = ContractorFactory(name="Acme BV"), ContractorFactory(name="Other BV")
    people = {
        "alice": make_user("alice", numbers=["+31205550101"]),
        "acme_admin": make_user("acme-admin", roles=(Role.CUSTOMER, Role.CONTRACTOR_ADMIN), contractor=acme,
                                numbers=["+31205550200"]),
        "bob": make_user("bob", contractor=acme, numbers=["+31205550201"]),
        "mallory": make_user("mallory", contractor=other, numbers=[MALLORY_NUMBER]),
    }
    staff = {"legal1": Role.LEGAL_OFFICER, "legal2": Role.LEGAL_OFFICER, "legal3": Role.LEGAL_OFFICER,
             "legal4": Role.LEGAL_OFFICER, "dpo": Role.DPO, "billing": Role.BILLING, "support": Role.SUPPORT,
             "admin": Role.ADMIN, "admin2": Role.ADMIN, "noc": Role.NOC, "fraud": Role.FRAUD}
    people.update({name: make_user(name, roles=(role,), totp=True) for name, role in staff.items()})
    return people


def world_build(*, people: dict[str, User]) -> World:
    mallory = people["mallory"]
    legal2, legal3, legal4 = people["legal2"], people["legal3"], people["legal4"]
    cdr, invoice = _traffic(mallory=mallory)
    with TestCase.captureOnCommitCallbacks(execute=True):
        dsr = dsr_request_create(user=mallory, kind="portability", details="", password=PASSWORD)
        call_export = call_export_request(owner=mallory)
    export = ExportFile.objects.get(request=dsr)
    authority, disclosure = _disclosure(intake=legal2, approvers=(legal3, legal4))
    # A criminal request notifies no one by default; a withheld notice, as a secrecy order leaves it.
    Notice.objects.create(request=disclosure, user=mallory, state=Notice.State.WITHHELD,
                          withheld_until=now().date() + timedelta(days=90))
    hold = legal_hold_place(reason=LegalHold.Reason.PRESERVATION_ORDER, reference="authz-hold",
                            categories=[Category.CDR_BILLED], account_ids=[mallory.pk], actor=people["dpo"])
    breach = breach_incident_create(title="Lost laptop", detected_at=now() - timedelta(hours=2), scope="one laptop",
                                    telecom_service=False, actor=people["dpo"])
    user_roles_set(user=people["support"], roles=[Role.SUPPORT, Role.DPO], actor=people["admin2"])  # a pending RoleGrant
    recovery_codes_regenerate(user=legal2)
    AuthToken.objects.create(user=mallory)
    call_setup_token, _text = call_setup_token_create(user=mallory, name="mallory's browser")
    blocked, _created = BlockedPrefix.objects.get_or_create(prefix="31909", defaults={"reason": "premium_rate"})
    purge_expired(dry_run=True)
    _admin_only_rows(cdr=cdr)
    restriction = _restriction(dpo=people["dpo"])
    # A request made through a representative, with their proof of authority on file (only the DPO opens it).
    proof_request = support_request_open(actor=people["support"], user=people["bob"], kind="restriction",
                                         representative_kind="lawyer", representative_name="A. Advocaat",
                                         authority_checked=True, proof=b"%PDF-1.4\n%%EOF\n")
    ids = {"invoice": invoice.pk, "import": CdrImport.objects.get().pk, "dsr": dsr.pk, "export": export.pk,
           "authority": authority.pk, "disclosure": disclosure.pk, "hold": hold.pk, "breach": breach.pk,
           "user": mallory.pk, "category": Category.CDR_BILLED, "call_export": call_export.pk,
           # The customer the support desk acts on: bob, not mallory, so that support's unlock (which
           # deletes the login traces of the customer it acts on) leaves the trace the admin pages ask for.
           "customer": people["bob"].pk, "contractor": mallory.contractor_id,
           "call_setup_token": call_setup_token.pk, "blocked_prefix": blocked.pk,
           "tariff": Tariff.objects.get().pk, "restriction": restriction.pk, "dsr_proof": proof_request.pk}
    objection, notification = _objection_and_recipient(restriction=restriction)
    ids.update(objection_dsr=objection.request_id, recipient_request=notification.request_id,
               recipient_notification=notification.pk)
    objects = _admin_objects(people=people, cdr=cdr, invoice=invoice, legal2=legal2, disclosure=disclosure, hold=hold)
    return World(ids=ids, admin_objects={**objects, CallExport: call_export, Restriction: restriction,
                                         Objection: objection, RecipientNotification: notification})


def _traffic(*, mallory: User) -> tuple[Cdr, Invoice]:
    last_month = (now().date().replace(day=1) - timedelta(days=1)).replace(day=15)
    cdr = make_cdr(account=mallory, src=MALLORY_NUMBER, dst="+31699990009",
                   started_at=now().replace(year=last_month.year, month=last_month.month, day=15))
    invoice = invoicing.invoice_run(month=date(last_month.year, last_month.month, 1))[0]
    CdrImport.objects.create(source=make_source(), file_name="Master.csv", file_sha256="0" * 64,
                             status=CdrImport.Status.DONE, imported=1, finished_at=now())
    Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.12"), valid_from=date(2020, 1, 1))
    return cdr, invoice


def _disclosure(*, intake: User, approvers: tuple[User, User]) -> tuple[Any, DisclosureRequest]:
    """A request about mallory's number, walked to delivered (so it has a package and a notice)."""
    authority = authority_create(actor=intake, name="Politie Authz", kind=AuthorityKind.POLICE,
                                 contact_phone="020 555 9999", contact_email="desk@politie.example")
    authority_verify(actor=approvers[0], authority=authority, note="checked")  # another officer than the registrar
    req = disclosure_request_receive(
        actor=intake, authority=authority, reference="REF-AUTHZ", legal_basis=LegalBasis.SV_126N,
        categories=["traffic_data"], window_start=now() - timedelta(days=90), window_end=now(),
        deadline=now() + timedelta(days=3), numbers=[MALLORY_NUMBER], account_ids=[])
    # The written order it is handed over on, filed at intake as the order came in writing.
    disclosure_document_add(actor=intake, request=req, title="vordering REF-AUTHZ.pdf", content=b"%PDF-1.7 signed order",
                            content_type="application/pdf", is_written_order=True)
    req = disclosure_request_verify_authority(actor=intake, request=req, channel="phone")
    req = disclosure_request_start_review(actor=intake, request=req)
    for officer in approvers:
        req = disclosure_request_approve(actor=officer, request=req)
    with TestCase.captureOnCommitCallbacks(execute=True):
        disclosure_production_start(actor=intake, request=req)
    req = disclosure_output_check(actor=approvers[0], request=DisclosureRequest.objects.get(pk=req.pk))
    req = disclosure_request_deliver(actor=intake, request=req, receipt="handed over, receipt PV-1",
                                     secure_channel="in person, on an encrypted USB stick")
    return authority, req


def _restriction(*, dpo: User) -> Restriction:
    """A restriction (GDPR art. 18) of a person of its own, who has no numbers or calls: restricting mallory would
    hide her calls from the roles the other rows are about."""
    person = make_user("rita")
    req = dsr_request_create(user=person, kind=DataSubjectRequest.Kind.RESTRICTION, details="My address is wrong")
    dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo,
                         ground=Restriction.Ground.ACCURACY_CONTESTED, ends_on=now().date() + timedelta(days=14))
    return Restriction.objects.get(user=person)


def _objection_and_recipient(*, restriction: Restriction) -> tuple[Objection, RecipientNotification]:
    """An objection (GDPR art. 21) of a person of its own, pending the DPO's decision, and a recipient still to be
    told (GDPR art. 19) of rita's restriction (written as the sync writes one: rita has no disclosure of her own)."""
    purpose = str(objectable_purposes()[0])
    req = dsr_request_create(user=make_user("otto"), kind=DataSubjectRequest.Kind.OBJECTION,
                             details="My situation", purposes=[purpose])
    notification = RecipientNotification.objects.create(
        request_id=restriction.request_id, recipient_key="disclosure:authz", recipient="Politie Authz",
        recipient_kind="police", disclosed_at=now() - timedelta(days=30))
    return Objection.objects.get(request=req), notification


def _admin_only_rows(*, cdr: Cdr) -> None:
    """Rows nothing in the portal makes: login traces (django-axes) and a CDR copied out before its month went."""
    trace = {"username": "mallory", "ip_address": "192.0.2.7", "user_agent": "authz", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(**trace, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**trace, locked_out=False)
    AccessLog.objects.create(**trace)
    HeldCdr.objects.create(cdr_id=cdr.pk, started_at=cdr.started_at, source_id=cdr.source_id, unique_id=cdr.unique_id,
                           fingerprint=cdr.fingerprint, account_id=cdr.account_id, direction=cdr.direction,
                           disposition=cdr.disposition, src_enc=b"", dst_enc=b"", src_index="", dst_index="",
                           rating=cdr.rating)


def _admin_objects(*, people: dict[str, User], cdr: Cdr, invoice: Invoice, legal2: User,
                   disclosure: DisclosureRequest, hold: LegalHold) -> dict[type[models.Model], models.Model]:
    """The row each admin change/delete/history page is asked for: someone else's wherever rows have an owner."""
    mallory = people["mallory"]
    objects: list[models.Model] = [
        mallory, Contractor.objects.get(pk=mallory.contractor_id), PhoneNumber.objects.get(user=mallory),
        Group.objects.get(name=Role.LEGAL_OFFICER), AuthToken.objects.get(user=mallory),
        TOTPDevice.objects.get(user=legal2), StaticDevice.objects.get(user=legal2),
        RoleGrant.objects.get(status=RoleGrant.Status.PENDING), AuditEntry.objects.order_by("pk").first(),
        AccessAttempt.objects.get(), AccessLog.objects.get(), AccessFailureLog.objects.get(),
        Source.objects.get(pk=cdr.source_id), CdrImport.objects.get(), Tariff.objects.get(), cdr, invoice,
        RetentionPolicy.objects.order_by("pk").first(), hold, PurgeReceipt.objects.order_by("pk").first(),
        PurgeRun.objects.get(), HeldCdr.objects.get(), disclosure.authority, disclosure,
        Package.objects.get(request=disclosure), Notice.objects.get(request=disclosure),
        SubscriberDetails.objects.create(user=mallory, name="Mallory Example", street="Damrak", house_number="1",
                                         postcode="1012LG", town="Amsterdam"),
        _anchor(),
    ]
    return {type(obj): obj for obj in objects}


def _anchor() -> AuditAnchor:
    """A trim anchor (the admin lists them read-only), written as the trim writes one: with its MAC."""
    from voipxs.privacy.audit import anchor_mac

    anchor = AuditAnchor(up_to_seq=0, entry_hash="0" * 64, removed=0, cutoff=datetime(2021, 1, 1, tzinfo=dt_timezone.utc))
    anchor.mac = anchor_mac(anchor)
    anchor.save()
    return anchor
