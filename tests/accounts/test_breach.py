"""Breach register: 24-hour clock for telecom breaches, 72 hours otherwise; a closed incident records who was told."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils.timezone import now

from accounts.dsr.breaches import ACM_ONLY_TELECOM, breach_incident_close, breach_incident_create, breach_notification_record
from accounts.dsr.models import BREACH_FULL_UNRECORDED, BREACH_USERS_UNRECORDED, BreachIncident
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError


@pytest.mark.django_db
class BreachTests:
    def test_it_runs_a_24_hour_clock_for_telecom_and_72_otherwise(self, dpo):
        detected = now() - timedelta(hours=2)
        telecom = breach_incident_create(title="SIP trunk logs exposed", detected_at=detected, scope="CDR export bucket",
                                         telecom_service=True, actor=dpo)
        other = breach_incident_create(title="Laptop lost", detected_at=detected, scope="HR sheet", telecom_service=False,
                                       actor=dpo)
        assert telecom.authority_deadline == detected + timedelta(hours=24)
        assert other.authority_deadline == detected + timedelta(hours=72)

    def test_it_refuses_to_close_without_recording_who_was_told_or_why_not(self, dpo):
        inc = breach_incident_create(title="t", detected_at=now() - timedelta(hours=1), scope="s", telecom_service=True,
                                     actor=dpo)
        breach_notification_record(incident=inc, recipient="authority", stage="initial", reference="AP-1",
                                   sent_at=now(), actor=dpo)
        with pytest.raises(ApplicationError) as exc:
            breach_incident_close(incident=inc, actor=dpo)
        assert exc.value.message == str(BREACH_USERS_UNRECORDED) and exc.value.extra["field"] == "users_not_notified_reason"
        assert BreachIncident.objects.get(pk=inc.pk).status == "open"
        breach_notification_record(incident=inc, recipient="authority", stage="final", reference="AP-1",
                                   sent_at=now(), actor=dpo)
        closed = breach_incident_close(incident=inc, users_not_notified_reason="Encrypted data; no risk (art. 34(3)(a)).",
                                       actor=dpo)
        assert closed.status == "closed" and closed.authority_notified_at and closed.users_not_notified_reason
        with pytest.raises(ApplicationError):
            breach_notification_record(incident=inc, recipient="users", stage="final", sent_at=now(), actor=dpo)

    def test_the_model_refuses_a_closed_incident_without_the_record(self):
        inc = BreachIncident(title="t", detected_at=now(), scope="s", status="closed", closed_at=now())
        with pytest.raises(ValidationError) as exc:
            inc.full_clean()
        assert set(exc.value.message_dict) == {"authority_not_notified_reason", "users_not_notified_reason"}

    def test_it_notifies_the_acm_of_telecom_breaches_only(self, dpo):
        inc = breach_incident_create(title="t", detected_at=now(), scope="s", telecom_service=False, actor=dpo)
        with pytest.raises(ApplicationError, match=ACM_ONLY_TELECOM):
            breach_notification_record(incident=inc, recipient="acm", stage="initial", reference="ACM-1",
                                       sent_at=now(), actor=dpo)

    def test_the_dpo_pages_record_and_show_the_register(self, client, dpo, alice):
        verified_client(client, alice)
        assert client.get("/privacy-requests/dpo/breaches/").status_code == 403
        client.logout()
        verified_client(client, dpo)
        response = client.post("/privacy-requests/dpo/breaches/", {
            "title": "Phished admin account", "detected_at": (now() - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"),
            "scope": "Admin could read invoices", "affected_count": "40", "telecom_service": "on"})
        assert response.status_code == 302
        inc = BreachIncident.objects.get()
        assert inc.telecom_service and inc.clock_hours == 24
        response = client.post(f"/privacy-requests/dpo/breaches/{inc.pk}/", {"action": "close"})
        assert response.status_code == 400 and "notified" in response.content.decode()
        page = client.get("/privacy-requests/dpo/breaches/").content.decode()
        assert "Phished admin account" in page and "24 h" in page
        bad = client.post("/privacy-requests/dpo/breaches/", {"title": "x", "detected_at": "not a date", "scope": "s",
                                                              "affected_count": "0"})
        assert bad.status_code == 400 and "detected_at" in bad.content.decode()


@pytest.mark.django_db
class FullNotificationTests:
    """Reg. (EU) 611/2013 art. 2(3): a telecom breach's initial notification is followed by the full one within
    3 days; nothing ran once the initial one was recorded, and the incident could be closed on it alone."""

    def test_an_initial_notice_starts_three_days_to_the_full_one(self, client, dpo):
        inc = breach_incident_create(title="Trunk logs readable", detected_at=now() - timedelta(hours=5), scope="s",
                                     telecom_service=True, actor=dpo)
        sent = now() - timedelta(hours=1)
        breach_notification_record(incident=inc, recipient="authority", stage="initial", reference="AP-9",
                                   sent_at=sent, actor=dpo)
        inc.refresh_from_db()
        assert inc.authority_full_due_at == sent + timedelta(days=3)
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/breaches/{inc.pk}/").content.decode()
        assert 'id="full-notification-due"' in page
        with pytest.raises(ApplicationError) as exc:
            breach_incident_close(incident=inc, users_not_notified_reason="No risk.", actor=dpo)
        assert exc.value.message == str(BREACH_FULL_UNRECORDED)
        breach_notification_record(incident=inc, recipient="authority", stage="follow_up", reference="AP-9",
                                   sent_at=now(), actor=dpo)
        assert BreachIncident.objects.get(pk=inc.pk).authority_full_due_at is None
        assert breach_incident_close(incident=inc, users_not_notified_reason="No risk.", actor=dpo).status == "closed"

    def test_a_final_first_notice_or_a_non_telecom_breach_owes_nothing_more(self, dpo):
        final = breach_incident_create(title="t", detected_at=now(), scope="s", telecom_service=True, actor=dpo)
        other = breach_incident_create(title="t", detected_at=now(), scope="s", telecom_service=False, actor=dpo)
        for inc, stage in ((final, "final"), (other, "initial")):
            breach_notification_record(incident=inc, recipient="authority", stage=stage, reference="AP-1",
                                       sent_at=now(), actor=dpo)
            assert BreachIncident.objects.get(pk=inc.pk).authority_full_due_at is None

    def test_the_register_page_starts_with_the_24_hour_clock(self, client, dpo):
        page = verified_client(client, dpo).get("/privacy-requests/dpo/breaches/").content.decode()
        assert re.search(r'<input type="checkbox" name="telecom_service"[^>]* checked>', page)
