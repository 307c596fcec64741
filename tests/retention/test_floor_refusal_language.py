"""A policy period below its legal floor is refused in the page's language: the category, both periods and the legal
basis in the refusal are Dutch on a Dutch page; its message (for logs and commands) stays English."""
from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import translation

from retention.models import Category, RetentionPolicy
from retention.services import retention_policy_changes
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError

BASIS = "AWR art. 52: the fiscal duty to keep invoices 7 years"


def _refused(**given) -> ApplicationError:
    with translation.override("nl"), pytest.raises(ApplicationError) as refused:
        retention_policy_changes(category=Category.INVOICE, current=None, **given)
    return refused.value


@pytest.mark.django_db
class FloorRefusalLanguageTests:
    def test_the_message_stays_english_whatever_the_language_it_was_made_in(self):
        refused = _refused(period_months=14, period_days=3)
        assert refused.message == (f"Invoices and aggregated invoice lines must be kept at least 7 years ({BASIS}); "
                                   "1 year 2 months 3 days is shorter. Choose a period of at least 7 years.")

    def test_it_is_shown_with_dutch_periods_and_basis_in_dutch(self):
        refused = _refused(period_months=14, period_days=3)
        with translation.override("nl"):
            shown = refused.shown()
            basis = translation.gettext(BASIS)  # through the catalogue, once translated
        assert "7 jaar" in shown and "1 jaar 2 maanden 3 dagen" in shown
        assert "years" not in shown.replace(BASIS, "") and "month" not in shown and "days" not in shown
        assert f"({basis})" in shown
        with translation.override("en"):
            assert refused.shown() == refused.message

    def test_the_dpos_dutch_page_shows_the_refusal_in_dutch(self, client, dpo):
        policy = RetentionPolicy.objects.filter(category=Category.INVOICE).order_by("-version").first()
        response = verified_client(client, dpo).post(
            reverse("retention:policy-update", args=["invoice"]), HTTP_ACCEPT_LANGUAGE="nl",
            data={"trigger": policy.trigger, "period_months": 14, "period_days": 3, "action": policy.action,
                  "legal_basis": policy.legal_basis, "change_reason": "test"})
        page = html.unescape(response.content.decode())
        assert response.status_code == 400
        refusal = next(line for line in page.splitlines() if "2 maanden" in line)
        with translation.override("nl"):
            basis = translation.gettext(BASIS)  # through the catalogue, once translated
        assert "1 jaar 2 maanden 3 dagen" in refusal and "7 jaar" in refusal and f"({basis})" in refusal
        assert "year" not in refusal.replace(BASIS, "") and "month" not in refusal
