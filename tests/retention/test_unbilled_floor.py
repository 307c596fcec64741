"""The unbilled-calls policy has a floor: a call is invoiced in the month after it was made (the invoice run of the
1st), so the purge, which takes a call no invoice names for an unbilled one once it is past this period, must not
run before that invoice has been made. A DPO's shorter period is refused at the field, on the page and in the admin."""
from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import translation

from retention.models import Category, RetentionPolicy
from retention.services import retention_policy_update
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

BASIS = "Tw art. 11.5(2): a call is invoiced in the month after it; it must stay until that invoice is made"


def _post(client, dpo, language: str, **changes):
    policy = RetentionPolicy.objects.filter(category=Category.CDR_UNBILLED).order_by("-version").first()
    data = {"trigger": policy.trigger, "period_months": policy.period_months, "period_days": policy.period_days,
            "action": policy.action, "legal_basis": policy.legal_basis, "change_reason": "test", **changes}
    response = verified_client(client, dpo).post(reverse("retention:policy-update", args=[Category.CDR_UNBILLED]),
                                                 data, HTTP_ACCEPT_LANGUAGE=language)
    return response, html.unescape(response.content.decode())


def test_a_period_shorter_than_the_invoice_run_is_refused_at_the_field(dpo):
    with pytest.raises(ApplicationError) as refused:
        retention_policy_update(category=Category.CDR_UNBILLED, actor=dpo, period_months=1, period_days=20,
                                change_reason="r")
    assert refused.value.extra["field"] == "period_months"
    assert f"must be kept at least 2 months ({BASIS})" in refused.value.message
    with pytest.raises(ApplicationError):
        retention_policy_update(category=Category.CDR_UNBILLED, actor=dpo, period_months=0, period_days=14,
                                change_reason="r")
    assert RetentionPolicy.objects.filter(category=Category.CDR_UNBILLED).count() == 1


def test_two_months_or_more_is_accepted(dpo):
    assert retention_policy_update(category=Category.CDR_UNBILLED, actor=dpo, period_months=2,
                                   change_reason="r").period_months == 2


def test_the_dpos_page_refuses_it_in_english(client, dpo):
    response, page = _post(client, dpo, "en", period_months=1, period_days=0)
    assert response.status_code == 400
    assert "must be kept at least 2 months" in page and "1 month is shorter" in page


def test_the_dpos_dutch_page_refuses_it_with_dutch_periods(client, dpo):
    response, page = _post(client, dpo, "nl", period_months=1, period_days=0)
    assert response.status_code == 400
    refusal = next(line for line in page.splitlines() if "1 maand" in line)
    assert "2 maanden" in refusal and "month" not in refusal.replace(BASIS, "")


def test_the_dpos_dutch_page_names_the_basis_in_dutch(client, dpo):
    _response, page = _post(client, dpo, "nl", period_months=1, period_days=0)
    refusal = next(line for line in page.splitlines() if "1 maand" in line)
    with translation.override("nl"):
        assert translation.gettext(BASIS) != BASIS
    assert BASIS not in refusal


def test_the_admin_shows_the_refusal_on_the_form(client, dpo):
    policy = RetentionPolicy.objects.filter(category=Category.CDR_UNBILLED).order_by("-version").first()
    client.raise_request_exception = False
    response = verified_client(client, dpo).post(
        reverse("admin:retention_retentionpolicy_change", args=[policy.pk]),
        {"trigger": policy.trigger, "period_months": 1, "period_days": 0, "action": policy.action,
         "legal_basis": policy.legal_basis, "change_reason": "shorter"})
    assert response.status_code == 200
    assert "must be kept at least 2 months" in html.unescape(response.content.decode())
    assert RetentionPolicy.objects.filter(category=Category.CDR_UNBILLED).count() == 1
