"""Reads of the data-subject workflow: purpose-bound and audited (voipxs.privacy.purposes.require_purpose)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, DateTimeField, F, IntegerField, QuerySet, Value, When
from django.http import Http404

from voipxs.privacy.purposes import Purpose, Role, has_role, require_purpose

from ..models import User
from ..selectors import access_user
from .models import BreachIncident, DataSubjectRequest, ExportFile, RepresentativeProof, Restriction
from .representative import representative_proof_content

DPO_ONLY = "Only the data protection officer handles data-subject requests and the registers."


def require_dpo(actor: Any) -> None:
    """403 unless `actor` holds the DPO role (the DPO's pages check it before a form is read)."""
    if not has_role(actor, Role.DPO):
        raise PermissionDenied(DPO_ONLY)


def dsr_request_list_own(*, actor: Any, purpose: Purpose | str = Purpose.SELF_SERVICE) -> QuerySet[DataSubjectRequest]:
    """The person's own requests (their page and their API), with whether a representative's proof of authority is
    kept for one made through a representative (that it is, never the file)."""
    require_purpose(actor=actor, purpose=purpose, action="dsr.list_own", target_type="user", target_id=actor.pk)
    return (DataSubjectRequest.objects.filter(user_id=actor.pk).select_related("representative_proof")
            .defer("representative_proof__content_enc").prefetch_related("exports", "objections")
            .order_by("-received_at"))


def dsr_export_get_own(*, actor: Any, export_id: int, purpose: Purpose | str = Purpose.SELF_SERVICE) -> ExportFile:
    """The owner's ready export, for its download; anything else (another person's, deleted, pending) is a 404. Its
    access record is the download's one audit entry (dsr_export_download_log writes none of its own)."""
    require_purpose(actor=actor, purpose=purpose, action="dsr.export_download", target_type="dsr_export",
                    target_id=export_id)
    export = ExportFile.objects.filter(pk=export_id, user_id=actor.pk, status=ExportFile.Status.READY).first()
    if export is None:
        raise Http404
    return export


def dsr_request_list_open(*, actor: Any, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> QuerySet[DataSubjectRequest]:
    """Open requests, the nearest deadline first (the DPO's work list). Pseudonymous: account ids only."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="dsr.list_open", target_type="dsr")
    return DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN_STATUSES).order_by("deadline", "pk")


def dsr_request_list_closed(*, actor: Any, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION, limit: int = 50):
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="dsr.list_closed", target_type="dsr")
    return DataSubjectRequest.objects.exclude(status__in=DataSubjectRequest.OPEN_STATUSES).order_by("-completed_at")[:limit]


def dsr_request_get(*, actor: Any, request_id: int, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> DataSubjectRequest:
    """One request, with whether a representative's proof of authority is on file (its type and size, not the
    file: dsr_representative_proof_get reads that)."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="dsr.get", target_type="dsr", target_id=request_id)
    try:
        return (DataSubjectRequest.objects.select_related("representative_proof")
                .defer("representative_proof__content_enc").get(pk=request_id))
    except DataSubjectRequest.DoesNotExist:
        raise Http404 from None


def dsr_representative_proof_get(
        *, actor: Any, request_id: int, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION,
) -> tuple[RepresentativeProof, bytes]:
    """The proof of authority of a request made through a representative, decrypted, for the DPO only; a 404 when
    there is none (never uploaded, or deleted with the customer's account)."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="dsr.representative_proof_get", target_type="dsr",
                    target_id=request_id)
    proof = RepresentativeProof.objects.filter(request_id=request_id).first()
    if proof is None:
        raise Http404
    return proof, representative_proof_content(proof)


def breach_incident_list(*, actor: Any, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> QuerySet[BreachIncident]:
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="breach.list", target_type="breach")
    # What is owed first: the open incidents by their next notification's due time (BreachIncident.clock_deadline,
    # here in SQL), then the open ones owing nothing, then the closed ones; the newest detected first within each.
    hours = {True: BreachIncident.TELECOM_CLOCK_HOURS, False: BreachIncident.GDPR_CLOCK_HOURS}
    owed = Case(*[When(authority_notified_at__isnull=True, telecom_service=telecom,
                       then=F("detected_at") + timedelta(hours=n)) for telecom, n in hours.items()],
                default=F("authority_full_due_at"), output_field=DateTimeField())
    open_first = Case(When(status=BreachIncident.Status.OPEN, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
    return (BreachIncident.objects.prefetch_related("notifications").alias(open_first=open_first, owed=owed)
            .order_by("open_first", F("owed").asc(nulls_last=True), "-detected_at"))


def breach_incident_get(*, actor: Any, incident_id: int, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> BreachIncident:
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="breach.get", target_type="breach", target_id=incident_id)
    try:
        return BreachIncident.objects.prefetch_related("notifications").get(pk=incident_id)
    except BreachIncident.DoesNotExist:
        raise Http404 from None


def restriction_list_active(*, actor: Any, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> QuerySet[Restriction]:
    """Active art. 18 restrictions of accounts not erased, the nearest end date first (none last): the DPO's
    list to tell and lift. Pseudonymous: account ids, grounds and dates only."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="restriction.list", target_type="restriction")
    not_erased = User.objects.filter(anonymised_at__isnull=True).values("pk")
    return (Restriction.objects.filter(lifted_at__isnull=True, user_id__in=not_erased)
            .order_by(F("ends_on").asc(nulls_last=True), "started_at", "pk"))


def restriction_get(*, actor: Any, restriction_id: int,
                    purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> Restriction:
    """One restriction for the DPO's steps, erased or lifted too (the steps refuse those, saying why)."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="restriction.get", target_type="restriction",
                    target_id=restriction_id)
    try:
        return Restriction.objects.get(pk=restriction_id)
    except Restriction.DoesNotExist:
        raise Http404 from None


def restriction_active_for(*, actor: Any, user_id: int,
                           purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> Restriction | None:
    """The person's active restriction, if any, for the DPO's page of a new restriction request (a new decision
    replaces its terms). Pseudonymous: ids, grounds and dates only."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="restriction.get_active", target_type="user",
                    target_id=user_id)
    return Restriction.objects.filter(user_id=user_id, lifted_at__isnull=True).first()


def notice_recipient_get(*, actor: Any, user_id: int, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> User:
    """A person the law says we must tell something (a restriction's coming lift, GDPR art. 18(3); a request's
    extension, art. 12(3)), for their address: through accounts' access_user, which checks the purpose (a
    restricted person is seen only for legal obligations and disputes)."""
    return access_user(actor=actor, purpose=purpose, user_id=user_id)
