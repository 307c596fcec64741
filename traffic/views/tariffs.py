"""Tariff pages for billing staff: the list, add a tariff, end one, import a rate deck. Every change
takes two steps: the form, then a page naming what will happen with a button to confirm it; only the
confirmed POST calls the service (`traffic.services.tariffs`, audited, re-rates pending calls)."""
from __future__ import annotations

import re
import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.timezone import localdate
from django.utils.translation import gettext_lazy as _, pgettext_lazy
from django.views.decorators.http import require_POST

from voipxs.exceptions import ApplicationError

from ..rate_deck import MAX_DECK_BYTES, parse_rate_deck
from ..selectors.tariffs import tariff_get, tariff_list
from ..services import tariffs as tariff_services
from ..tariff_rules import validate_tariff_prefix, validate_zone_text
from .access import require_billing


class TariffForm(forms.Form):
    prefix = forms.RegexField(label=pgettext_lazy("tariffs", "Prefix"), regex=r"^\+?\d{1,20}$", max_length=21,
                              error_messages={"invalid": _("The prefix must be 1 to 20 digits.")},
                              help_text=_("E.164 digits, e.g. 316 for Dutch mobile numbers"),
                              validators=[validate_tariff_prefix])
    zone = forms.CharField(label=pgettext_lazy("tariffs", "Description (zone)"), max_length=60,
                           validators=[validate_zone_text])
    zone_nl = forms.CharField(label=_("Description in Dutch"), max_length=60, required=False,
                              validators=[validate_zone_text],
                              help_text=_("Shown on the Dutch pages and invoices; empty: the description above."))
    price_per_minute = forms.DecimalField(label=_("Price per minute (EUR)"), min_value=0, max_digits=10, decimal_places=5)
    setup_fee = forms.DecimalField(label=_("Set-up fee (EUR)"), min_value=0, max_digits=10, decimal_places=5, initial=0)
    increment_first = forms.IntegerField(label=_("First increment (s)"), min_value=1, max_value=3600, initial=60)
    increment_next = forms.IntegerField(label=_("Next increments (s)"), min_value=1, max_value=3600, initial=60)
    valid_from = forms.DateField(label=pgettext_lazy("tariffs", "Valid from"), widget=forms.DateInput(attrs={"type": "date"}))


class EndForm(forms.Form):
    valid_to = forms.DateField(label=pgettext_lazy("tariffs", "Last day"), widget=forms.DateInput(attrs={"type": "date"}))


class DeckForm(forms.Form):
    # not required: a deck kept from the last round (`kept`, below) stands in for it
    file = forms.FileField(label=_("Rate deck (CSV: prefix, description, rate, increments, optionally "
                                   "description_nl)"), allow_empty_file=False, required=False)
    valid_from = forms.DateField(label=_("New prices valid from"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        # On the page beside the tariff form, which has a valid_from too: ids of its own, so each label names its field.
        kwargs.setdefault("auto_id", "id_deck_%s")
        super().__init__(*args, **kwargs)


class DeckConfirmForm(forms.Form):
    csv = forms.CharField(widget=forms.HiddenInput, strip=False, max_length=2 * 1024 * 1024)
    valid_from = forms.DateField(widget=forms.HiddenInput)
    confirm = forms.CharField(widget=forms.HiddenInput, max_length=64)


def _list_page(request: HttpRequest, *, form=None, deck_form=None, status: int = 200,
               kept: dict | None = None) -> HttpResponse:
    prefix = (request.GET.get("prefix") or "").strip()
    tariffs = tariff_list(prefix=prefix if prefix.lstrip("+").isdigit() else None)
    return render(request, "traffic/tariffs.html", {
        "tariffs": tariffs, "prefix": prefix, "today": localdate(),
        "form": form or TariffForm(), "deck_form": deck_form or DeckForm(), "kept": kept,
    }, status=status)


# A deck refused only for its date is kept for one correction round, as a browser cannot refill a file input: in the
# cache, under its uploader and a random token the page carries back, for KEPT_SECONDS, taken out by its next post.
# Only a deck whose every line is well-formed (prefixes, zone names, prices) is kept: a refused file may be anything
# chosen by mistake (a call list, a customer export), and such a file is never stored.
KEPT_SECONDS = 30 * 60
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
KEPT_GONE = _("The rate deck of your last upload is no longer kept; choose the file again.")


def _kept_key(request: HttpRequest, token: str) -> str:
    return f"traffic:rate-deck-kept:{request.user.pk}:{token}"


def _deck_keep(request: HttpRequest, name: str, text: str) -> dict:
    token = secrets.token_urlsafe(24)
    cache.set(_kept_key(request, token), {"name": name, "text": text}, KEPT_SECONDS)
    return {"token": token, "name": name}


def _deck_read(request: HttpRequest, deck_form: DeckForm) -> tuple[str, str] | None:
    """The deck's (file name, text): the file uploaded, or without one the deck kept from the last round (taken out
    of the cache either way: one round). None, with the refusal at the file field."""
    token, upload = request.POST.get("kept") or "", request.FILES.get("file")
    kept = cache.get(_kept_key(request, token)) if _TOKEN.fullmatch(token) else None
    if kept is not None:
        cache.delete(_kept_key(request, token))
    if upload is None and "file" not in deck_form.errors:
        if kept is None:
            deck_form.add_error("file", KEPT_GONE if token else forms.Field.default_error_messages["required"])
        return (kept["name"], kept["text"]) if kept else None
    if "file" in deck_form.errors:
        return None
    try:
        return upload.name[:100], upload.read(MAX_DECK_BYTES + 1).decode("utf-8-sig")  # over: refused by the parser
    except UnicodeDecodeError:
        deck_form.add_error("file", _("The rate deck must be UTF-8 text."))
        return None


@login_required
def staff_tariffs(request: HttpRequest) -> HttpResponse:
    """GET: the list and the forms. POST: a new tariff; without `confirmed` it shows what will be added."""
    require_billing(request)
    if request.method != "POST":
        return _list_page(request)
    form = TariffForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    if request.POST.get("confirmed") != "1":
        return render(request, "traffic/tariff_confirm.html", {"kind": "add", "data": form.cleaned_data, "form": form})
    try:
        tariff = tariff_services.tariff_create(actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        exc.add_to(form)
        return _list_page(request, form=form, status=400)
    messages.success(request, _("Tariff %(prefix)s %(zone)s added; calls waiting for a price are re-rated.")
                     % {"prefix": tariff.prefix, "zone": tariff.zone})
    return redirect("traffic:staff-tariffs")


@login_required
def staff_tariff_end(request: HttpRequest, tariff_id: int) -> HttpResponse:
    require_billing(request)
    tariff = tariff_get(tariff_id)
    form = EndForm(request.POST or None, initial={"valid_to": localdate()})
    context = {"tariff": tariff, "form": form}
    if request.method != "POST":
        return render(request, "traffic/tariff_end.html", context)
    if not form.is_valid():
        return render(request, "traffic/tariff_end.html", context, status=400)
    if request.POST.get("confirmed") != "1":
        return render(request, "traffic/tariff_confirm.html", {"kind": "end", "tariff": tariff, "form": form,
                                                               "data": form.cleaned_data})
    try:
        tariff_services.tariff_end(tariff=tariff, last_day=form.cleaned_data["valid_to"], actor=request.user)
    except ApplicationError as exc:
        exc.add_to(form)
        return render(request, "traffic/tariff_end.html", context, status=400)
    messages.success(request, _("Tariff %(prefix)s %(zone)s ends on %(day)s.") % {
        "prefix": tariff.prefix, "zone": tariff.zone, "day": date_format(form.cleaned_data["valid_to"], "DATE_FORMAT")})
    return redirect("traffic:staff-tariffs")


@login_required
@require_POST
def staff_rate_deck_preview(request: HttpRequest) -> HttpResponse:
    """The uploaded deck checked line by line, and what it would change; nothing is applied here."""
    require_billing(request)
    deck_form = DeckForm(request.POST, request.FILES)
    deck_form.is_valid()
    if (deck := _deck_read(request, deck_form)) is None:
        return _list_page(request, deck_form=deck_form, status=400)
    name, text = deck
    rows, errors = parse_rate_deck(text)
    plan = None
    if not errors:
        if not deck_form.errors:
            try:
                plan = tariff_services.rate_deck_plan(rows=rows, valid_from=deck_form.cleaned_data["valid_from"])
            except ApplicationError as exc:
                exc.add_to(deck_form)
        if plan is None:  # refused for its date only: the deck itself is right, kept for the next round
            return _list_page(request, deck_form=deck_form, status=400, kept=_deck_keep(request, name, text))
    confirm = DeckConfirmForm(initial={"csv": text, "valid_from": deck_form.cleaned_data.get("valid_from"),
                                       "confirm": plan.digest if plan else ""})
    return render(request, "traffic/rate_deck_preview.html", {"errors": errors, "plan": plan, "confirm_form": confirm},
                  status=400 if errors else 200)


@login_required
@require_POST
def staff_rate_deck_apply(request: HttpRequest) -> HttpResponse:
    require_billing(request)
    form = DeckConfirmForm(request.POST)
    if form.is_valid():
        rows, errors = parse_rate_deck(form.cleaned_data["csv"])
        if not errors:
            try:
                plan = tariff_services.rate_deck_apply(rows=rows, valid_from=form.cleaned_data["valid_from"],
                                                       confirm=form.cleaned_data["confirm"], actor=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.shown())
            else:
                messages.success(request, _("Rate deck applied from %(day)s: %(new)d new prefixes, %(price)d new prices, "
                                            "%(unchanged)d unchanged; calls waiting for a price are re-rated.")
                                 % {"day": date_format(plan.valid_from, "DATE_FORMAT"), **plan.counts})
            return redirect("traffic:staff-tariffs")
    messages.error(request, _("The confirmation was incomplete; upload the rate deck again."))
    return redirect("traffic:staff-tariffs")
