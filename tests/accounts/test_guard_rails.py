"""Issue 13 item 5 for accounts: a breach notification needs its date and the regulator's reference,
an empty correction request is refused, and the first wrong sign-in code is not "too many"."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import localtime, now
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.dsr.breaches import (
    REFERENCE_REQUIRED,
    SENT_AT_REQUIRED,
    SENT_BEFORE_DETECTION,
    SENT_IN_FUTURE,
    breach_incident_create,
    breach_notification_record,
)
from accounts.dsr.models import BreachIncident, BreachNotification, DataSubjectRequest
from accounts.dsr.services import DETAILS_REQUIRED, dsr_request_create
from tests.accounts.helpers import _fresh_cache, totp_code  # noqa: F401
from tests.factories import PASSWORD, verified_client
from voipxs.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def _incident(dpo, *, telecom: bool = True) -> BreachIncident:
    return breach_incident_create(title="Trunk logs readable", detected_at=now() - timedelta(hours=3),
                                  scope="Call records of one trunk", telecom_service=telecom, actor=dpo)


class BreachNotificationTests:
    @pytest.mark.parametrize("recipient", ["authority", "acm"])
    def test_a_regulator_notification_needs_the_regulators_reference(self, dpo, recipient):
        inc = _incident(dpo)
        with pytest.raises(ApplicationError) as exc:
            breach_notification_record(incident=inc, recipient=recipient, stage="initial", sent_at=now(),
                                       reference="  ", actor=dpo)
        assert exc.value.message == REFERENCE_REQUIRED and exc.value.extra["field"] == "reference"
        assert BreachIncident.objects.get(pk=inc.pk).authority_notified_at is None

    def test_every_notification_needs_a_date_that_is_not_in_the_future_nor_before_detection(self, dpo):
        inc = _incident(dpo)
        for sent_at, message in ((None, SENT_AT_REQUIRED), (now() + timedelta(hours=1), SENT_IN_FUTURE),
                                 (now() - timedelta(days=2), SENT_BEFORE_DETECTION)):
            with pytest.raises(ApplicationError) as exc:
                breach_notification_record(incident=inc, recipient="authority", stage="initial", sent_at=sent_at,
                                           reference="AP-1", actor=dpo)
            assert exc.value.message == message and exc.value.extra["field"] == "sent_at"
        assert not BreachNotification.objects.exists()

    def test_users_are_told_without_a_reference(self, dpo):
        inc = _incident(dpo)
        breach_notification_record(incident=inc, recipient="users", stage="initial", sent_at=now(), actor=dpo)
        assert BreachIncident.objects.get(pk=inc.pk).users_notified_at is not None

    def test_an_empty_form_records_nothing_and_names_the_fields(self, client, dpo):
        inc = _incident(dpo)
        response = verified_client(client, dpo).post(f"/privacy-requests/dpo/breaches/{inc.pk}/",
                                                     {"action": "notify", "recipient": "authority", "stage": "initial"})
        page = response.content.decode()
        assert response.status_code == 400 and 'id="id_sent_at_error"' in page
        response = client.post(f"/privacy-requests/dpo/breaches/{inc.pk}/", {
            "action": "notify", "recipient": "authority", "stage": "initial",
            "sent_at": localtime(now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")})
        assert response.status_code == 400 and "reference the authority gave" in response.content.decode()
        assert BreachIncident.objects.get(pk=inc.pk).authority_notified_at is None
        response = client.post(f"/privacy-requests/dpo/breaches/{inc.pk}/", {
            "action": "notify", "recipient": "authority", "stage": "initial",
            "sent_at": localtime(now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"), "reference": "AP-2026-0042",
            "confirm": "yes"})  # recording asks first (test_breach_notification_confirm.py)
        assert response.status_code == 302
        assert BreachNotification.objects.get().reference == "AP-2026-0042"


class EmptyRequestTests:
    def test_an_empty_correction_request_is_refused(self, client, alice):
        with pytest.raises(ApplicationError) as exc:
            dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="   ")
        assert exc.value.message == DETAILS_REQUIRED and exc.value.extra["field"] == "details"
        response = verified_client(client, alice).post("/privacy-requests/new/", {"kind": "rectification", "details": ""})
        assert response.status_code == 400 and "Say what is wrong" in response.content.decode()
        assert not DataSubjectRequest.objects.exists()

    def test_an_access_request_needs_no_words(self, alice):
        assert dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS).pk


class FirstWrongCodeTests:
    def test_the_first_wrong_code_says_it_is_wrong_not_too_many(self, client, legal1):
        client.post("/accounts/login/", {"username": "legal1", "password": PASSWORD})
        response = client.post("/accounts/two-factor/", {"otp_token": "000000"})
        page = response.content.decode()
        assert response.status_code == 400
        assert "That code is wrong or has expired" in page and "Too many" not in page

    def test_a_code_sent_during_the_back_off_says_to_wait(self, client, legal1):
        client.post("/accounts/login/", {"username": "legal1", "password": PASSWORD})
        client.post("/accounts/two-factor/", {"otp_token": "000000"})
        device = TOTPDevice.objects.get(user=legal1)
        response = client.post("/accounts/two-factor/", {"otp_token": totp_code(device)})
        assert "Too many wrong codes" in response.content.decode()
