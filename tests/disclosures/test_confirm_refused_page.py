"""A step sent without its confirmation box ticked was refused with "Tick the box to confirm this step." alone: the
banner did not say which step, and what the officer had typed (a reason, a receipt, a narrowed scope) was gone. The
refusal now names the step by its button, and the page comes back with that step's form open and filled in as
typed, the refusal beside its box (as a refused notice decision comes back), nothing done."""
from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from disclosures.models import DisclosureRequest, Status
from tests.factories import verified_client

from .conftest import receive

pytestmark = pytest.mark.django_db



def _refused(client, officer, req, step, data):
    c = verified_client(client, officer)
    r = c.post(reverse("disclosures:transition", args=[req.pk, step]), data)  # no "confirm"
    return r.status_code, r.content.decode()


def _form(html: str, step: str) -> str:
    found = re.search(rf'<form method="post"[^>]*action="[^"]*/{step}/".*?</form>', html, re.S)
    assert found, f"no {step} form on the page"
    return found.group(0)


def _banner(html: str) -> str:
    found = re.search(r'<ul class="messages">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def _box_error(form: str) -> str:
    """The refusal beside the form's confirmation box, the box pointing at it."""
    found = re.search(r'<ul class="errorlist" id="([\w-]+)"><li>(.*?)</li></ul>\s*<label class="confirm">'
                      r'<input type="checkbox" name="confirm"[^>]*aria-describedby="([\w-]+)"', form, re.S)
    assert found and found.group(1) == found.group(3), "no refusal beside the confirmation box"
    return found.group(2)


def test_a_rejection_comes_back_with_its_reason_and_the_step_named(client, legal1, authority):
    req = receive(legal1, authority)
    status, html = _refused(client, legal1, req, "reject", {"note": "No legal basis <given>"})
    assert status == 400
    named = "Tick the box to confirm “Reject”: nothing was done yet."
    assert named in _banner(html)
    form = _form(html, "reject")
    assert 'value="No legal basis &lt;given&gt;"' in form
    assert _box_error(form) == named
    assert DisclosureRequest.objects.get(pk=req.pk).status == Status.RECEIVED


def test_a_delivery_comes_back_with_its_receipt_and_channel(client, legal1, bare):
    req = receive(legal1, bare)  # no certificate on file: the encrypted channel is asked too
    DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.CHECKED)
    status, html = _refused(client, legal1, req, "deliver",
                            {"receipt": "PV-2026-17, signed by the desk", "secure_channel": "in person, USB"})
    assert status == 400
    assert "Tick the box to confirm “Mark delivered”: nothing was done yet." in _banner(html)
    form = _form(html, "deliver")
    assert 'value="PV-2026-17, signed by the desk"' in form and 'value="in person, USB"' in form
    assert "Mark delivered" in _box_error(form)
    assert DisclosureRequest.objects.get(pk=req.pk).status == Status.CHECKED


def test_a_narrowing_comes_back_open_with_the_scope_typed(client, legal1, authority):
    req = receive(legal1, authority, numbers=["+31205550177", "+31699993678"])
    drop = req.targets.order_by("pk").last()
    DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.UNDER_REVIEW)
    status, html = _refused(client, legal1, req, "narrow", {"remove_target_ids": str(drop.pk), "max_hits": "40"})
    assert status == 400
    assert "Tick the box to confirm “Narrow”: nothing was done yet." in _banner(html)
    narrow = re.search(r'<details id="narrow-scope"[^>]*>.*?</details>', html, re.S)
    assert narrow and narrow.group(0).startswith('<details id="narrow-scope" open')
    form = _form(narrow.group(0), "narrow")
    assert f'value="{drop.pk}"' in form and 'value="40"' in form and 'id="id_narrow_max_hits"' in form
    assert "Narrow" in _box_error(form)
    assert DisclosureRequest.objects.get(pk=req.pk).targets.count() == 2


def test_only_the_refused_step_is_filled_in_and_marked(client, legal1, authority):
    req = receive(legal1, authority)
    status, html = _refused(client, legal1, req, "reject", {"note": "No legal basis"})
    verify = _form(html, "verify")
    assert "errorlist" not in verify and "aria-invalid" not in verify
    assert '<details id="notice-review"><summary>' in html


def test_the_page_before_any_refusal_has_no_box_marked(client, legal1, authority):
    req = receive(legal1, authority)
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    reject = _form(html, "reject")
    assert 'aria-invalid' not in reject and "errorlist" not in reject and 'maxlength="500" value="">' in reject


def test_the_refusal_names_the_step_in_dutch(client, legal1, authority):
    req = receive(legal1, authority)
    c = verified_client(client, legal1)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    html = c.post(reverse("disclosures:transition", args=[req.pk, "reject"]), {"note": "x"}).content.decode()
    assert "“Afwijzen”" in _banner(html) and "Tick the box" not in html
