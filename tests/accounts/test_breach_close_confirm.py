"""Closing a breach incident is final (no notification can be recorded on it afterwards), so the DPO's page asks
first (voipxs/confirm.py), naming what the register will say; what the model refuses is refused before asking."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.breaches import breach_incident_create, breach_notification_record
from accounts.dsr.models import BreachIncident
from tests.factories import verified_client

pytestmark = pytest.mark.django_db
REASON = "Encrypted data; no risk (art. 34(3)(a))."


def _notified(dpo) -> BreachIncident:
    inc = breach_incident_create(title="t", detected_at=now() - timedelta(hours=1), scope="s", telecom_service=True,
                                 actor=dpo)
    for stage in ("initial", "final"):
        breach_notification_record(incident=inc, recipient="authority", stage=stage, reference="AP-1", sent_at=now(),
                                   actor=dpo)
    return inc


class BreachCloseConfirmationTests:
    def test_the_first_click_asks_naming_the_register_entry(self, client, dpo):
        inc = _notified(dpo)
        verified_client(client, dpo)
        response = client.post(f"/privacy-requests/dpo/breaches/{inc.pk}/",
                               {"action": "close", "users_not_notified_reason": REASON})
        body = response.content.decode()
        assert response.status_code == 200 and f"Close incident #{inc.pk}?" in body
        assert "cannot be reopened" in body and "users were not told, because" in body
        assert "Encrypted data; no risk" in body and 'name="confirm" value="yes"' in body
        assert BreachIncident.objects.get(pk=inc.pk).status == "open"

    def test_the_confirmation_page_is_in_dutch(self, client, dpo):
        inc = _notified(dpo)
        verified_client(client, dpo)
        client.cookies["django_language"] = "nl"
        body = client.post(f"/privacy-requests/dpo/breaches/{inc.pk}/",
                           {"action": "close", "users_not_notified_reason": REASON}).content.decode()
        assert '<html lang="nl">' in body and "Bevestig alstublieft" in body
        assert BreachIncident.objects.get(pk=inc.pk).status == "open"

    def test_a_missing_reason_is_refused_at_the_field_before_asking(self, client, dpo):
        inc = _notified(dpo)
        verified_client(client, dpo)
        response = client.post(f"/privacy-requests/dpo/breaches/{inc.pk}/", {"action": "close", "confirm": "yes"})
        body = response.content.decode()
        assert response.status_code == 400 and "Please confirm" not in body and "aria-invalid" in body
        assert BreachIncident.objects.get(pk=inc.pk).status == "open"

    def test_the_confirmed_click_closes_it(self, client, dpo):
        inc = _notified(dpo)
        verified_client(client, dpo)
        response = client.post(f"/privacy-requests/dpo/breaches/{inc.pk}/",
                               {"action": "close", "users_not_notified_reason": REASON, "confirm": "yes"})
        assert response.status_code == 302
        closed = BreachIncident.objects.get(pk=inc.pk)
        assert closed.status == "closed" and closed.users_not_notified_reason == REASON
