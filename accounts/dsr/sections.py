"""Registrations of the data-subject workflow: the "requests" and "policy_notices" sections, the export-file
purger, the key rotator of representatives' proofs of authority, demo data."""
from __future__ import annotations

from typing import Any, Iterable

from django.utils.translation import gettext_lazy as _

from voipxs.privacy.registry import (
    Section, register_demo_seeder, register_purger, register_rotator, register_section,
)

from ..models import User
from .export import dsr_exports_purge
from .models import DataSubjectRequest, PolicyNoticeSeen, RecipientNotification
from .panels import RequestPanel, register_request_panel
from .recipients import (
    TOLD_TO_RECIPIENTS, export_recipient_notifications, recipient_notification_list, recipient_notifications_pending,
)
from .representative import representative_proof_rotate
from .services import dsr_request_create


def _export_requests(user: Any) -> Iterable[dict]:
    """The "requests" section: the requests a person made, in their own export. One made through a representative
    says so, with the kind, the representative's name (the person is entitled to know who acted for them: it is
    their own request's record), when support checked the representative's proof of authority, and whether a copy
    of that proof is kept (not the copy: dsr/representative.py)."""
    requests = (DataSubjectRequest.objects.filter(user_id=user.pk).select_related("representative_proof")
                .defer("representative_proof__content_enc").prefetch_related("objections").order_by("received_at"))
    for req in requests:
        checked = req.representative_checked_at
        yield {"id": req.pk, "kind": req.kind, "status": req.status, "received_at": req.received_at.isoformat(),
               "deadline": req.deadline.isoformat(), "extension_reason": req.extension_reason,
               "completed_at": req.completed_at.isoformat() if req.completed_at else None, "answer": req.answer,
               "details": req.details,
               "through_representative": bool(req.representative_kind),
               "representative_kind": req.representative_kind, "representative_name": req.representative_name,
               "representative_authority_checked_at": checked.isoformat() if checked else None,
               "representative_proof_kept": req.representative_proof_kept,
               "objections": [_objection_row(o) for o in req.objections.all()]}


def _objection_row(objection: Any) -> dict:
    """An objection's purpose (GDPR art. 21(1)) and, once decided, its outcome, when it was decided and the balancing
    record; the person's grounds are their request's `details` (their own words, as every request's).

    The balancing record is given in full, not kept back as internal: it is data about the person (GDPR art. 15(1)),
    neither LEGAL.md nor DESIGN.md calls it internal, and the restriction's answer is given the same way (the
    request's `answer`, and the ground and the dates of art. 18 in the profile section). It names nobody else (who
    decided is not exported), so art. 15(4) keeps nothing back."""
    decided = objection.decided_at
    return {"purpose": objection.purpose, "outcome": objection.outcome,
            "legitimate_interest": objection.legitimate_interest, "your_interests": objection.person_interests,
            "reasons": objection.reasons, "decided_at": decided.isoformat() if decided else None}


register_section(Section(
    name="requests", label=_("Data-subject requests"), order=70, purpose="self_service",
    legal_basis="GDPR art. 6(1)(c); GDPR art. 12 and 5(2) (accountability)",
    retention=("as the account; once it is erased or anonymised, the request record as accountability (kind, "
               "dates, status, outcome), without the texts: what you wrote, the extension's reason and our answer, "
               "an objection's balancing record, and a representative's name and proof of authority"),
    exporter=_export_requests,
    description="The data-subject requests you made and our answers.",
))


def _export_policy_notices(user: Any) -> Iterable[dict]:
    """The "policy_notices" section: which privacy-policy versions the person was shown and when (the notice of a
    substantive change counts as seen once they opened the policy: dsr/policy.py), a record kept about them."""
    seen = PolicyNoticeSeen.objects.filter(user_id=user.pk).select_related("version").order_by("seen_at", "pk")
    for record in seen:
        published = record.version.published_at
        yield {"version": record.version.version, "published_at": published.isoformat() if published else None,
               "seen_at": record.seen_at.isoformat()}


register_section(Section(
    name="policy_notices", label=_("Privacy policy notices"), order=75, purpose="legal_obligation",
    legal_basis="GDPR art. 6(1)(c); GDPR art. 13 and 5(2) (accountability: that you were told of a change)",
    retention=("as the account; once it is erased, under the account's number only, as the record that the "
               "change was announced"),
    exporter=_export_policy_notices,
    description="The versions of our privacy policy whose changes you were shown, and when.",
))
register_section(Section(
    name="recipient_notifications", label=_("Recipients told of your requests"), order=72,
    purpose="legal_obligation", legal_basis="GDPR art. 6(1)(c); GDPR art. 19",
    retention="as the request record",
    exporter=export_recipient_notifications,
    description=("The recipients to whom your data was disclosed and whom we told of the correction, erasure or "
                 "restriction you asked for, and when. Disclosures under a secrecy order that is still running are "
                 "not listed."),
))
register_request_panel(RequestPanel(  # GDPR art. 19 on the DPO's request page: who to tell, and when they were
    name="recipients", kinds=TOLD_TO_RECIPIENTS, template="dpo/_recipients.html",
    context=lambda *, actor, req, params: {"notifications": recipient_notification_list(actor=actor, req=req),
                                           "pending": recipient_notifications_pending(actor=actor, req=req),
                                           "how": RecipientNotification.How.choices},
))
register_purger("dsr_export", dsr_exports_purge)
register_rotator("accounts.RepresentativeProof", representative_proof_rotate)  # sealed under the master keys


def seed_dsr(stdout: Any) -> None:
    """Demo: an open rectification request of bob's, so the DPO's request list is not empty. Idempotent."""
    bob = User.objects.filter(username="bob").first()
    if bob is None or DataSubjectRequest.objects.filter(user=bob).exists():
        return
    dsr_request_create(user=bob, kind=DataSubjectRequest.Kind.RECTIFICATION,
                       details="My label on my office number is wrong.")
    stdout.write("Privacy: bob has an open rectification request; the DPO sees it at /privacy-requests/dpo/.")


register_demo_seeder(50, "accounts-dsr", seed_dsr)
