"""The pages the DPO confirms before a step on the breach register (voipxs/confirm.py), each shown once the
service's check has passed: recording a notification (it stops or moves the incident's clocks, and a record is
never deleted), withdrawing one recorded in error, and closing the incident (breach_views.dpo_breach). Each offers
"Go back and change": the view shows its form again as typed."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from voipxs.confirm import confirmation_page

from .models import BreachIncident, BreachNotification


def _when(moment) -> str:
    return date_format(localtime(moment), "DATETIME_FORMAT")


def _back(incident: BreachIncident) -> str:
    return reverse("accounts_dsr:dpo-breach", kwargs={"pk": incident.pk})


def _record(n: BreachNotification) -> str:
    """One record as the register lists it."""
    line = f"{_when(n.sent_at)}: {n.get_recipient_display()}, {n.get_stage_display()}"
    return f"{line} {n.reference}" if n.reference else line


def notification_confirmation(request: HttpRequest, incident: BreachIncident, data: dict) -> HttpResponse:
    """`data`: the notification as the form has it (recipient, stage, sent_at, reference, note), already checked."""
    record = BreachNotification(incident=incident, recipient=data["recipient"], stage=data["stage"],
                                sent_at=data["sent_at"], reference=data["reference"].strip())
    lines = [_("The register records: %(record)s.") % {"record": _record(record)}]
    authority = record.recipient == BreachNotification.Recipient.AUTHORITY
    if authority and incident.authority_notified_at is None:
        lines.append(_("It stops the clock to notify the authority (due %(due)s).") % {
            "due": _when(incident.authority_deadline)})
        if incident.telecom_service and record.stage == BreachNotification.Stage.INITIAL:
            lines.append(_("The full notification to the authority is then due within 3 days (Reg. (EU) 611/2013 "
                           "art. 2(3))."))
    elif authority and record.stage != BreachNotification.Stage.INITIAL and incident.authority_full_due_at:
        lines.append(_("It records the full notification the authority was owed."))
    lines.append(_("A record is never changed or deleted: one made in error can only be withdrawn, with a reason, "
                   "and the withdrawal stays in the register."))
    return confirmation_page(request, title=_("Record a notification on incident #%(pk)s?") % {"pk": incident.pk},
                             consequences=lines, action_label=_("Yes, record the notification"),
                             cancel_url=_back(incident), edit_anchor="notify-title")


def withdrawal_confirmation(request: HttpRequest, notification: BreachNotification, reason: str,
                            after: BreachIncident) -> HttpResponse:
    """`after`: the incident as the withdrawal would leave it (breaches.breach_notification_withdraw_check)."""
    incident = notification.incident
    lines = [_("The record “%(record)s” is marked withdrawn, with your reason: “%(reason)s”. It stays in the "
               "register, and the audit log records the withdrawal.") % {"record": _record(notification),
                                                                         "reason": reason.strip()}]
    if incident.authority_notified_at and after.authority_notified_at is None:
        lines.append(_("No notification to the authority stands any more: its clock runs again (due %(due)s).") % {
            "due": _when(after.authority_deadline)})
    elif after.authority_full_due_at and not incident.authority_full_due_at:
        lines.append(_("The full notification to the authority is owed again (due %(due)s).") % {
            "due": _when(after.authority_full_due_at)})
    if incident.users_notified_at and after.users_notified_at is None:
        lines.append(_("The register no longer records that the affected users were told."))
    return confirmation_page(request, title=_("Withdraw a notification record of incident #%(pk)s?") % {
                                 "pk": incident.pk},
                             consequences=lines, action_label=_("Yes, withdraw the record"),
                             cancel_url=_back(incident), edit_anchor="withdraw-title")


def breach_close_confirmation(request: HttpRequest, closed: BreachIncident) -> HttpResponse:
    """`closed`: the incident as closing would leave it (breaches.breach_incident_close_check)."""
    lines = [_("A closed incident cannot be reopened: no notification can be recorded on it any more.")]
    if closed.authority_not_notified_reason:
        lines.append(_("The register records that the authority was not notified, because: “%(reason)s”") % {
            "reason": closed.authority_not_notified_reason})
    if closed.users_not_notified_reason:
        lines.append(_("The register records that the users were not told, because: “%(reason)s”") % {
            "reason": closed.users_not_notified_reason})
    return confirmation_page(request, title=_("Close incident #%(pk)s?") % {"pk": closed.pk}, consequences=lines,
                             action_label=_("Yes, close the incident"), cancel_url=_back(closed),
                             edit_anchor="close-title")
