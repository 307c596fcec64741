"""The legal officers' page forms. A form parses what was posted; the services decide. The forms of
a workflow step (NarrowForm, DocumentForm) also say what they hand to the step's service (`inputs`)."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from voipxs.timeutil import DayField, day_start

from .bases import CONTENT, CONTENT_LABEL, PRODUCTION_BASES
from .models import AuthorityKind, DataCategory, LegalBasis
from .services.intake import DOCUMENT_MAX_BYTES, MAX_HITS_LIMIT


# The kinds of document intake takes (services.intake.DOCUMENT_TYPES), under each document's file field.
DOCUMENT_KINDS = _("Taken: a PDF, a scan as PNG, JPEG or TIFF, a signed or encrypted file (.p7m, .p7s) or an XML "
                   "file, told apart by the file's own bytes.")


def _document_help(text) -> str:
    return format_lazy("{}. {}", text, DOCUMENT_KINDS) if text else DOCUMENT_KINDS


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class AuthorityDomainsForm(forms.Form):
    """The e-mail domains a body sends from (authority_create, authority_domains_set); empty: none listed."""

    email_domains = forms.CharField(label=_("E-mail domains"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text=_("the domains the body sends requests from, one per line "
                                                "(politie.nl); a subdomain counts as listed. A request from any "
                                                "other domain is flagged"))

    def clean_email_domains(self) -> list[str]:
        return _split(self.cleaned_data["email_domains"])


class AuthorityCertificateForm(forms.Form):
    """The certificate packages are encrypted to (authority_certificate_set); empty: remove it."""

    certificate = forms.CharField(label=_("Certificate (PEM)"), required=False, max_length=20_000, strip=False,
                                  widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
                                  help_text=_("the authority's X.509 encryption certificate with an RSA key, from "
                                              "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----; never a "
                                              "private key. Empty: remove the certificate"))


class AuthorityForm(AuthorityDomainsForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=AuthorityKind.choices)
    contact_phone = forms.CharField(label=_("Phone"),
                                    max_length=30, help_text=_("The body's switchboard, from an official source"))
    contact_email = forms.EmailField(label=_("E-mail"), required=False)
    field_order = ["name", "kind", "contact_phone", "contact_email", "email_domains"]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


def max_hits_field(help_text=None) -> forms.IntegerField:
    """The authority's cap on records (ETSI maxHits), as intake, a narrowing and a conversion take it. The service
    decides (intake.max_hits_check) and refuses at this field; the browser is told the range too."""
    return forms.IntegerField(label=_("Cap on the number of records (maxHits)"), required=False,
                              widget=forms.NumberInput(attrs={"min": 1, "max": MAX_HITS_LIMIT}),
                              help_text=help_text or _("only when the authority set one (ETSI maxHits): the package "
                                                       "holds at most this many records, the first in time order, "
                                                       "and says so when more match. Empty: no cap"))


class RequestForm(forms.Form):
    authority = forms.IntegerField(label=_("Authority"), widget=forms.Select)
    reference = forms.CharField(label=_("Reference"), max_length=100)
    received_from = forms.EmailField(label=_("Received from"), required=False,
                                     help_text=_("the e-mail address the request came from: only its domain is "
                                                 "kept, and checked against the authority's list. Empty for a "
                                                 "request by phone, on paper or in person"))
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    # Content is offered to record what an order asks; intake refuses it ("no data", bases.CONTENT).
    categories = forms.MultipleChoiceField(label=_("Categories"),
                                           choices=[*DataCategory.choices, (CONTENT, CONTENT_LABEL)],
                                           widget=forms.CheckboxSelectMultiple)
    numbers = forms.CharField(label=_("Numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("one per line; normalised to E.164 and stored encrypted"))
    account_ids = forms.CharField(label=_("Account ids"), required=False, help_text=_("comma separated"))
    window_start = DayField(label=_("Start of the period"), widget=forms.DateInput(attrs={"type": "date"}))
    window_end = DayField(label=_("End of the period"), widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("exclusive"))
    max_hits = max_hits_field()
    deadline = forms.DateTimeField(label=_("Deadline"), required=False,
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                   help_text=_("the authority's; an EPOC is due within 10 days (8 hours in an "
                                               "emergency) and a preservation order ends at its term anyway"))
    emergency = forms.BooleanField(label=_("Emergency"), required=False)
    oral_order = forms.BooleanField(label=_("Ordered orally"), required=False,
                                    help_text=_("by phone or in person: the written order is due within 3 days "
                                                "(Sv 126ni(3)), and the officers are reminded"))
    secrecy_until = forms.DateField(label=_("Secrecy until"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}),
                                    help_text=_("no notice to the user before this day"))
    notice_user = forms.TypedChoiceField(label=_("Notice to the user"), required=False, empty_value=None,
                                         coerce=lambda v: v == "yes", choices=[
                                             ("", _("As the legal basis says")), ("yes", _("Notify the user")),
                                             ("no", _("Withhold the notice"))])
    notice_withheld_reason = forms.CharField(label=_("Reason the notice is withheld"), max_length=300, required=False,
                                             widget=forms.Textarea(attrs={"rows": 2}),
                                             help_text=_("required when a basis that notifies is turned off; "
                                                         "criminal-procedure and European orders have a default"))
    notice_review_on = forms.DateField(label=_("Review the withheld notice on"), required=False,
                                       widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.FileField(label=_("Document"), required=False,
                               help_text=_document_help(_("the order or request letter; stored encrypted")))
    document_is_order = forms.BooleanField(label=_("This document is the written order"), required=False,
                                           help_text=_("the data are handed over on it: without it on file, only an "
                                                       "emergency or an oral order is approved and delivered"))

    def __init__(self, *args, authorities=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authority"].widget.choices = [(a.pk, str(a)) for a in authorities]
        days = {"days": settings.DISCLOSURE_NOTICE_REVIEW_DAYS}
        self.fields["notice_review_on"].help_text = _("empty: %(days)s days after intake") % days

    def clean_numbers(self) -> list[str]:
        return _split(self.cleaned_data["numbers"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("document_is_order") and not data.get("document"):
            self.add_error("document", _("Attach the written order, or untick “This document is the written order”."))
        return data

    def clean_account_ids(self) -> list[int]:
        try:
            return [int(v) for v in _split(self.cleaned_data["account_ids"])]
        except ValueError:
            raise forms.ValidationError(_("Account ids are whole numbers.")) from None


class NarrowForm(forms.Form):
    remove_target_ids = forms.CharField(label=_("Targets to drop"),
                                        required=False, help_text=_("target ids to drop, comma separated"))
    window_start = DayField(label=_("Start of the period"),
                            required=False, widget=forms.DateInput(attrs={"type": "date"}))
    window_end = DayField(label=_("End of the period"),
                          required=False, widget=forms.DateInput(attrs={"type": "date"}))
    max_hits = max_hits_field(_("only lower: at most this many records, the first in time order. Empty: the cap "
                                "stays as it is"))

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_narrow_%s")  # apart from the convert form's fields on the same page
        super().__init__(*args, **kwargs)

    def clean_remove_target_ids(self) -> list[int]:
        try:
            return [int(v) for v in _split(self.cleaned_data["remove_target_ids"])]
        except ValueError:
            raise forms.ValidationError(_("Target ids are whole numbers.")) from None

    def inputs(self) -> dict:
        d = self.cleaned_data
        return {"remove_target_ids": d["remove_target_ids"],
                "window_start": day_start(d["window_start"]) if d["window_start"] else None,
                "window_end": day_start(d["window_end"]) if d["window_end"] else None, "max_hits": d["max_hits"]}


def document_inputs(upload) -> dict:
    """An uploaded file as disclosure_document_add takes it; of a file larger than intake takes, no more than it
    takes and a byte, enough for intake to refuse it (document_check) without reading all of it into memory."""
    return {"title": upload.name, "content": upload.read(DOCUMENT_MAX_BYTES + 1),
            "content_type": upload.content_type or ""}


class DocumentForm(forms.Form):
    document = forms.FileField(label=_("Document"), help_text=_document_help(""))
    is_written_order = forms.BooleanField(label=_("This is the written order"), required=False)

    def inputs(self) -> dict:
        return {**document_inputs(self.cleaned_data["document"]), "is_written_order": self.cleaned_data["is_written_order"]}


class ConvertForm(forms.Form):
    """The production order that follows a preservation: taken in as a new request on the same scope."""

    legal_basis = forms.ChoiceField(label=_("Legal basis"),
                                    choices=[c for c in LegalBasis.choices if c[0] in PRODUCTION_BASES])
    reference = forms.CharField(label=_("Reference"), max_length=100, help_text=_("the production order's reference"))
    # Named apart from DocumentForm's "document", which the same page shows (one id per page).
    order_document = forms.FileField(label=_("Production order"),
                                     help_text=_document_help(_("the authority's written order; stored encrypted "
                                                                "with its SHA-256 and filed as the new request's "
                                                                "written order")))
    deadline = forms.DateTimeField(label=_("Deadline"),
                                   required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    categories = forms.MultipleChoiceField(label=_("Categories"),
                                           choices=DataCategory.choices, widget=forms.CheckboxSelectMultiple)
    max_hits = max_hits_field(_("only when the production order sets one (ETSI maxHits). Empty: no cap"))

    def inputs(self) -> dict:
        d = dict(self.cleaned_data)
        upload = document_inputs(d.pop("order_document"))
        return {**d, "order_document": upload["content"], "order_document_title": upload["title"],
                "order_document_content_type": upload["content_type"]}


class NoticeDecisionForm(forms.Form):
    """A new decision on the notice to the user, after a review (disclosure_notice_decision_set)."""

    # The service refuses naming the intake's fields (intake.notice_decision): each is this form's field.
    SERVICE_FIELDS = {"notice_user": "notify", "notice_withheld_reason": "reason", "notice_review_on": "review_on"}

    notify = forms.TypedChoiceField(label=_("Notice to the user"), coerce=lambda v: v == "yes",
                                    choices=[("no", _("Withhold the notice")), ("yes", _("Notify the user"))],
                                    widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason the notice is withheld"), max_length=300, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    review_on = forms.DateField(label=_("Review the withheld notice on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        days = {"days": settings.DISCLOSURE_NOTICE_REVIEW_DAYS}
        self.fields["review_on"].help_text = _("empty: %(days)s days from today") % days

    def inputs(self) -> dict:
        return dict(self.cleaned_data)


class ReportForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    half = forms.TypedChoiceField(label=_("Half year"), choices=[(1, "H1"), (2, "H2")], coerce=int)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Find a request"), max_length=100, required=False,
                        help_text=_("The authority's reference or a part of it, the authority's name, a target number, "
                                    "or our request number (#12)."),
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}))
