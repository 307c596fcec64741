"""The register of authorities: adding one, and each change another legal officer confirms."""
from __future__ import annotations

from typing import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_POST

from voipxs.exceptions import ApplicationError

from .common import officer_only
from ..forms import (
    AuthorityCertificateForm,
    AuthorityDomainsForm,
    AuthorityForm,
    NoteForm,
)
from ..models import Authority
from ..selectors import authority_list
from ..services.authorities import (
    CERTIFICATE_UNREADABLE,
    authority_certificate_confirm,
    authority_certificate_discard,
    authority_certificate_set,
    authority_create,
    authority_domains_confirm,
    authority_domains_discard,
    authority_domains_set,
    authority_verify,
)


AUTHORITY_CONFIRM = gettext_lazy(
    "I checked these channels and e-mail domains against an official source myself (not the request letter).")
DOMAINS_INVALID = gettext_noop("Check the e-mail domains.")
DOMAINS_CONFIRM = gettext_lazy(
    "I took these e-mail domains from an official source of the authority, not from a request letter.")
DOMAINS_SECOND_CONFIRM = gettext_lazy(
    "I checked these e-mail domains against an official source of the authority myself, not on the word of the "
    "officer who proposed them.")
CERTIFICATE_CONFIRM = gettext_lazy(
    "I received this certificate from the authority and compared its SHA-256 fingerprint with the authority on a "
    "channel of the register.")
CERTIFICATE_SECOND_CONFIRM = gettext_lazy(
    "I compared this fingerprint with the authority myself, on a channel of the register, not on the word of the "
    "officer who proposed it.")
# A change sent without its box ticked: refused in the register's banner, saying what the tick confirms (each row
# has a box of each kind, the banner is at the page's top), for which authority, and that nothing was done.
VERIFY_UNCONFIRMED = gettext_noop(
    "Tick the box to confirm that you checked the contact channels of %(authority)s against an official register "
    "or source yourself: it was not marked verified.")
DOMAINS_UNCONFIRMED = gettext_noop(
    "Tick the box to confirm that the e-mail domains of %(authority)s come from an official source, not a request "
    "letter: no change was proposed.")
DOMAINS_SECOND_UNCONFIRMED = gettext_noop(
    "Tick the box to confirm that you checked the proposed e-mail domains of %(authority)s against an official "
    "source yourself: nothing changed.")
CERTIFICATE_UNCONFIRMED = gettext_noop(
    "Tick the box to confirm that you compared the certificate's SHA-256 fingerprint with %(authority)s on a "
    "channel of the register: no change was proposed.")
CERTIFICATE_SECOND_UNCONFIRMED = gettext_noop(
    "Tick the box to confirm that you compared the proposed certificate's fingerprint with %(authority)s yourself: "
    "nothing changed.")


@login_required
def authorities(request: HttpRequest) -> HttpResponse:
    officer_only(request)
    form = AuthorityForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                authority_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("Authority added; another legal officer verifies its channels before "
                                            "its requests are handled."))
                return redirect("disclosures:authorities")
        status = 400
    return render(request, "disclosures/authorities.html",
                  {"authorities": authority_list(actor=request.user), "form": form, "note_form": NoteForm(),
                   "confirm_text": AUTHORITY_CONFIRM, "certificate_confirm": CERTIFICATE_CONFIRM,
                   "certificate_second_confirm": CERTIFICATE_SECOND_CONFIRM, "domains_confirm": DOMAINS_CONFIRM,
                   "domains_second_confirm": DOMAINS_SECOND_CONFIRM}, status=status)


def _register_step(request: HttpRequest, pk: int, step: Callable[[Authority], str], *,
                   unconfirmed: str | None = None) -> HttpResponse:
    """One change to the register from its page, by a legal officer: `step` calls its service on the authority and
    returns what to tell the officer; a refusal is shown instead, or, for a change with a confirmation box left
    unticked, `unconfirmed` (what the tick confirms). Back to the register either way."""
    officer_only(request)
    authority = get_object_or_404(Authority, pk=pk)
    try:
        if unconfirmed and request.POST.get("confirm") != "yes":
            raise ApplicationError.formatted(unconfirmed, {"authority": authority.name}, field="confirm")
        messages.success(request, step(authority))
    except ApplicationError as exc:
        messages.error(request, exc.shown())
    return redirect("disclosures:authorities")


@login_required
@require_POST
def authority_verification(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority_verify(actor=request.user, authority=authority, note=request.POST.get("note", ""))
        return _("Contact channels recorded as verified.")
    return _register_step(request, pk, step, unconfirmed=VERIFY_UNCONFIRMED)


@login_required
@require_POST
def authority_domains(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        form = AuthorityDomainsForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(DOMAINS_INVALID, extra={"field": "email_domains"})
        authority_domains_set(actor=request.user, authority=authority, email_domains=form.cleaned_data["email_domains"])
        return _("Change proposed: it takes effect when another legal officer confirms it; until then requests are "
                 "checked against the e-mail domains in force.")
    return _register_step(request, pk, step, unconfirmed=DOMAINS_UNCONFIRMED)


@login_required
@require_POST
def authority_domains_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        # The page posts the list it showed, comma-separated (the register's hidden field).
        seen = request.POST.get("proposed_domains", "").split(",")
        authority_domains_confirm(actor=request.user, authority=authority, proposed_domains=seen)
        return _("E-mail domains saved; requests already taken in keep the flag they got.")
    return _register_step(request, pk, step, unconfirmed=DOMAINS_SECOND_UNCONFIRMED)


@login_required
@require_POST
def authority_domains_discarding(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority_domains_discard(actor=request.user, authority=authority)
        return _("The proposed change of the e-mail domains was discarded; nothing changed.")
    return _register_step(request, pk, step)


@login_required
@require_POST
def authority_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        form = AuthorityCertificateForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(CERTIFICATE_UNREADABLE, extra={"field": "certificate"})
        authority_certificate_set(actor=request.user, authority=authority, certificate=form.cleaned_data["certificate"])
        return _("Change proposed: it takes effect when another legal officer confirms it, after comparing its "
                 "fingerprint with the authority.")
    return _register_step(request, pk, step, unconfirmed=CERTIFICATE_UNCONFIRMED)


@login_required
@require_POST
def authority_certificate_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority = authority_certificate_confirm(actor=request.user, authority=authority,
                                                  proposed_sha256=request.POST.get("proposed_sha256", ""))
        if authority.certificate:
            return _("Certificate saved: packages for this authority are now encrypted to it.")
        return _("Certificate removed: packages for this authority go only on an encrypted channel, recorded at "
                 "delivery.")
    return _register_step(request, pk, step, unconfirmed=CERTIFICATE_SECOND_UNCONFIRMED)


@login_required
@require_POST
def authority_certificate_discarding(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority_certificate_discard(actor=request.user, authority=authority)
        return _("The proposed change of the certificate was discarded; nothing changed.")
    return _register_step(request, pk, step)
