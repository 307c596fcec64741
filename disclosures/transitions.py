"""The one table of the steps a legal officer takes on a request. The API (api.py: one APIView per
row, e.g. RequestApproveApi) and the pages (views.transition: POST /disclosures/requests/<pk>/<step>/)
both dispatch through it, so what a step runs, takes and requires is written once.

A row says:
- `service`: the one service that runs. It checks the state the step starts from and the step's own
  rule about the officer (the intake officer cannot approve, the producer cannot check the output)
  and refuses with a message that the API (400) and the page (400, the message shown) both pass on.
  The state machine itself is services/transitions.py.
- `fields`: what the step takes, as the API's input fields. The page posts the same names as text.
- `keywords`: an input whose service keyword differs (both say "note"; a rejection takes a reason).
- `page_form`: the page's parser where a post is more than text (dates, a file), and `page_error`,
  its message when the post does not parse.
- `role`: who may take the step. Anyone else gets 403 from the API and 404 from the pages, so a
  customer never learns that a request exists.
- `api`: False for the one step the API takes another way (a document: base64 in JSON, DocumentAddApi).
- `confirm`: for a legal act (a callback recorded, an approval, a hand-over, a renewal, ...), what the
  page makes the officer confirm (a required box, checked again by the view: CONFIRM_REQUIRED). The API
  call is itself the deliberate act and takes no box.
- `button`: the step's button on the page, which a refusal for an unticked box names (CONFIRM_STEP_REQUIRED).
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from rest_framework import serializers

from voipxs.api_fields import DateTimeInput, IdInput
from voipxs.privacy.purposes import Role

from .bases import PRODUCTION_BASES
from .forms import ConvertForm, DocumentForm, NarrowForm, NoticeDecisionForm
from .models import DataCategory, DisclosureRequest, LegalBasis
from .services.intake import disclosure_document_add
from .services.notices import disclosure_notice_decision_set, disclosure_request_notices_send
from .services.preservation import disclosure_preservation_convert, disclosure_preservation_renew
from .services.transitions import (
    disclosure_output_check,
    disclosure_production_start,
    disclosure_request_approve,
    disclosure_request_ask_clarification,
    disclosure_request_close,
    disclosure_request_deliver,
    disclosure_request_narrow,
    disclosure_request_reject,
    disclosure_request_resume_review,
    disclosure_request_start_review,
    disclosure_request_verify_authority,
    disclosure_request_withdraw,
)


@dataclass(frozen=True)
class Transition:
    """One step on one request, as the API and the pages both offer it."""

    service: Callable[..., Any]
    summary: str
    fields: Mapping[str, serializers.Field] = field(default_factory=dict)
    keywords: Mapping[str, str] = field(default_factory=dict)
    page_form: type[forms.Form] | None = None
    page_error: str = ""
    role: Role = Role.LEGAL_OFFICER
    api: bool = True
    confirm: str = ""
    button: str = ""

    def run(self, *, actor, request: DisclosureRequest, inputs: Mapping[str, Any]) -> Any:
        return self.service(actor=actor, request=request, **{self.keywords.get(k, k): v for k, v in inputs.items()})


CONFIRM_REQUIRED = gettext_noop("Tick the box to confirm this step.")
CONFIRM_STEP_REQUIRED = gettext_noop("Tick the box to confirm “%(step)s”: nothing was done yet.")
DOCUMENT_NOT_BASE64 = gettext_noop("The document must be base64-encoded.")
# The schema's description of a document's fields (intake's DOCUMENT_TYPES, read from the bytes).
DOCUMENT_HELP = ("The file, base64-encoded, at most 15 MB: a PDF, a PNG, JPEG or TIFF scan, a signed or encrypted "
                 "CMS/PKCS#7 file (.p7m, .p7s; DER or PEM) or an XML file. Its type is read from its bytes; any other "
                 "file is refused (400, naming this field).")
CLAIMED_TYPE_HELP = "Not used: the type stored is the one read from the file's bytes."


class Base64ContentField(serializers.CharField):
    """A file sent in JSON as base64 (as DocumentAddApi takes it), handed to the service as bytes."""

    def to_internal_value(self, data) -> bytes:
        try:
            return base64.b64decode(super().to_internal_value(data), validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(DOCUMENT_NOT_BASE64) from None


# Created before the rows: an API serializer lists its fields in the order they were created.
NOTE = serializers.CharField(max_length=500, required=False, default="")
NOTE_REQUIRED = serializers.CharField(max_length=500)
# ETSI maxHits, checked by the service as at intake (intake.max_hits_check: 1 to 10 million, refused at the field).
MAX_HITS = serializers.IntegerField(required=False, allow_null=True, default=None,
                                   help_text="The authority's cap on the number of records; null or absent: "
                                             "unchanged when narrowing (only lowers), none when converting.")

# Keyed by the page's URL segment; each API view names its row the same way.
TRANSITIONS: dict[str, Transition] = {
    "verify": Transition(
        disclosure_request_verify_authority, "Record the out-of-band callback on a register channel",
        {"channel": serializers.ChoiceField(choices=[("phone", "phone"), ("email", "email")]), "note": NOTE},
        confirm=_("I called the authority back on the register's channel myself, and it confirmed this request."),
        button=_("Authority verified")),
    "review": Transition(disclosure_request_start_review, "Start the legal review"),
    "clarify": Transition(disclosure_request_ask_clarification, "Ask the authority for clarification",
                          {"note": NOTE_REQUIRED}),
    "resume": Transition(disclosure_request_resume_review, "Resume the review after a clarification"),
    "approve": Transition(disclosure_request_approve, "Approve (two officers, neither the intake)",
                          confirm=_("I reviewed the order and its legal basis, and approve this scope."),
                          button=_("Approve")),
    "reject": Transition(disclosure_request_reject, "Reject the request", {"note": NOTE_REQUIRED},
                         keywords={"note": "reason"}, confirm=_("Reject this request; it cannot be reopened."),
                         button=_("Reject")),
    "withdraw": Transition(disclosure_request_withdraw, "Record that the authority withdrew the request (final; "
                           "the note says how it withdrew it: its reference, or who said so)", {"note": NOTE_REQUIRED},
                           confirm=_("The authority withdrew this request: it ends here and cannot be reopened.")),
    "narrow": Transition(
        disclosure_request_narrow, "Narrow the scope (only shrinks; approvals start again)",
        {"remove_target_ids": serializers.ListField(child=IdInput(), required=False,
                                                    default=list),
         "window_start": DateTimeInput(required=False, allow_null=True, default=None),
         "window_end": DateTimeInput(required=False, allow_null=True, default=None),
         "categories": serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices),
                                             required=False, allow_null=True, default=None),
         "max_hits": MAX_HITS},
        page_form=NarrowForm, page_error=_("Check the narrowing fields."),
        confirm=_("Narrow the scope: it cannot be widened again, the approvals start again, and the data that falls "
                  "out of it loses its legal hold."), button=_("Narrow")),
    "produce": Transition(disclosure_production_start, "Queue the production of the package"),
    "check": Transition(disclosure_output_check, "Record the output check (another officer than the producer)"),
    "deliver": Transition(
        disclosure_request_deliver, "Mark delivered with the authority's receipt (and, where the authority has no "
        "certificate on file, the encrypted channel the package went by)",
        {"receipt": serializers.CharField(max_length=300),
         "secure_channel": serializers.CharField(max_length=200, required=False, allow_blank=True, default="")},
        confirm=_("The package was handed to the authority; this cannot be undone."), button=_("Mark delivered")),
    "close": Transition(disclosure_request_close, "Close the request (hold released after the grace period)",
                        confirm=_("Close this request."), button=_("Close")),
    "renew": Transition(
        disclosure_preservation_renew, "Renew a preservation once, under a new order (its reference recorded)",
        {"order_reference": serializers.CharField(max_length=100)},
        confirm=_("A new order renews this preservation; it can be renewed only once."),
        button=_("Renew the preservation")),
    "convert": Transition(
        disclosure_preservation_convert, "Convert a preservation into a production order on the same scope",
        {"legal_basis": serializers.ChoiceField(choices=[c for c in LegalBasis.choices if c[0] in PRODUCTION_BASES]),
         "reference": serializers.CharField(max_length=100),
         # The production order's document, filed on the new request as its written order (required).
         "order_document_base64": Base64ContentField(max_length=20_000_000, help_text=DOCUMENT_HELP),
         "order_document_title": serializers.CharField(max_length=200),
         "order_document_content_type": serializers.CharField(max_length=100, required=False,
                                                              default="application/octet-stream",
                                                              help_text=CLAIMED_TYPE_HELP),
         "deadline": DateTimeInput(required=False, allow_null=True, default=None),
         "categories": serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices),
                                             required=False, allow_null=True, default=None),
         "max_hits": MAX_HITS},
        keywords={"order_document_base64": "order_document"},
        page_form=ConvertForm, page_error=_("Check the production order's fields."),
        confirm=_("The authority sent a production order; take it in as a new request and end this preservation."),
        button=_("Convert")),
    "send-notices": Transition(disclosure_request_notices_send,
                               "Send the notices of a request to its users: the drafts an officer reviewed, or "
                               "the withheld ones once the secrecy order has ended"),
    "notice-decision": Transition(
        disclosure_notice_decision_set, "Record a new decision on the notice to the user (after a review)",
        {"notify": serializers.BooleanField(),
         "reason": serializers.CharField(max_length=300, required=False, allow_blank=True, default=""),
         "review_on": serializers.DateField(required=False, allow_null=True, default=None)},
        page_form=NoticeDecisionForm, page_error=_("Check the fields of the notice decision."),
        confirm=_("I reviewed whether the user may be told, and record this decision."),
        button=_("Record the decision")),
    "document": Transition(disclosure_document_add, "Add a received document (stored encrypted)",
                           page_form=DocumentForm, page_error=_("Choose a file."), api=False),
}
