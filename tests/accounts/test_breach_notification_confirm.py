"""The breach register is an accountability record (GDPR art. 33(5)). Recording that the authority or the persons
were notified stops or moves the incident's clocks, so the page asks first (voipxs/confirm.py); a record made in
error is never deleted or changed: it is withdrawn with a reason, stays in the register marked so, the audit log
records the withdrawal (not the reason's words), and the clocks count only the records that stand."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import localtime, now

from accounts.dsr.breaches import (
    ALREADY_WITHDRAWN, INCIDENT_CLOSED, WITHDRAWAL_REASON_REQUIRED, breach_incident_close, breach_incident_create,
    breach_notification_record, breach_notification_withdraw,
)
from accounts.dsr.deadlines import ReminderStage
from accounts.dsr.models import BreachIncident, BreachNotification
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
REASON = "Recorded on the wrong incident"


def _incident(dpo, *, telecom: bool = True, hours: int = 5) -> BreachIncident:
    return breach_incident_create(title="Trunk logs readable", detected_at=now() - timedelta(hours=hours), scope="s",
                                  telecom_service=telecom, actor=dpo)


def _url(inc: BreachIncident) -> str:
    return f"/privacy-requests/dpo/breaches/{inc.pk}/"


def _notify(**extra) -> dict:
    sent = localtime(now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    return {"action": "notify", "recipient": "authority", "stage": "initial", "sent_at": sent,
            "reference": "AP-2026-77", "note": "", **extra}


def _record(inc, dpo, recipient="authority", stage="initial", hours=1) -> BreachNotification:
    return breach_notification_record(incident=inc, recipient=recipient, stage=stage, actor=dpo,
                                      reference="AP-1" if recipient == "authority" else "",
                                      sent_at=now() - timedelta(hours=hours))


class RecordingAsksFirstTests:
    def test_the_first_click_names_what_the_register_will_say_and_records_nothing(self, client, dpo):
        inc = _incident(dpo)
        verified_client(client, dpo)
        response = client.post(_url(inc), _notify())
        body = response.content.decode()
        assert response.status_code == 200 and f"Record a notification on incident #{inc.pk}?" in body
        assert "AP-2026-77" in body and "It stops the clock to notify the authority" in body
        assert "full notification to the authority is then due within 3 days" in body
        assert "can only be withdrawn, with a reason" in body and 'name="confirm" value="yes"' in body
        assert not BreachNotification.objects.exists() and not AuditEntry.objects.filter(action="breach.notify").exists()
        assert BreachIncident.objects.get(pk=inc.pk).authority_notified_at is None

    def test_the_confirmed_click_records(self, client, dpo):
        inc = _incident(dpo)
        response = verified_client(client, dpo).post(_url(inc), _notify(confirm="yes"))
        assert response.status_code == 302 and BreachNotification.objects.get().reference == "AP-2026-77"
        assert BreachIncident.objects.get(pk=inc.pk).authority_notified_at is not None

    def test_going_back_shows_the_form_as_typed_and_records_nothing(self, client, dpo):
        inc = _incident(dpo)
        verified_client(client, dpo)
        asked = client.post(_url(inc), _notify()).content.decode()
        assert f'value="edit" formaction="{_url(inc)}#notify-title"' in asked
        data = _notify(note="Sent by the portal", confirm=["yes", "edit"])
        response = client.post(_url(inc), data)
        body = response.content.decode()
        assert response.status_code == 200 and "Please confirm" not in body and "errorlist" not in body
        assert 'value="AP-2026-77"' in body and f'value="{data["sent_at"]}"' in body and "Sent by the portal" in body
        assert '<option value="authority" selected>' in body and '<option value="initial" selected>' in body
        assert not BreachNotification.objects.exists()

    def test_what_the_service_refuses_is_refused_before_asking(self, client, dpo):
        inc = _incident(dpo)
        response = verified_client(client, dpo).post(_url(inc), _notify(reference=""))
        body = response.content.decode()
        assert response.status_code == 400 and "Please confirm" not in body and "aria-invalid" in body
        assert not BreachNotification.objects.exists()

    def test_closing_offers_to_go_back_to_the_reasons(self, client, dpo):
        inc = _incident(dpo)
        _record(inc, dpo, stage="final")
        verified_client(client, dpo)
        data = {"action": "close", "users_not_notified_reason": "No risk: encrypted."}
        asked = client.post(_url(inc), data).content.decode()
        assert f'formaction="{_url(inc)}#close-title"' in asked
        back = client.post(_url(inc), {**data, "confirm": ["yes", "edit"]}).content.decode()
        assert "No risk: encrypted.</textarea>" in back and BreachIncident.objects.get(pk=inc.pk).status == "open"


class WithdrawalServiceTests:
    def test_it_keeps_the_record_marked_and_runs_the_clock_again(self, dpo):
        inc = _incident(dpo)
        record = _record(inc, dpo)
        BreachIncident.objects.filter(pk=inc.pk).update(reminder_stage=ReminderStage.DUE_SOON)
        breach_notification_withdraw(notification=record, reason=f"  {REASON} ", actor=dpo)
        record.refresh_from_db()
        assert record.withdrawn_at is not None and record.withdrawal_reason == REASON
        inc.refresh_from_db()
        assert inc.authority_notified_at is None and inc.authority_full_due_at is None
        assert inc.reminder_stage == ReminderStage.NONE and inc.clock_deadline == inc.authority_deadline
        entry = AuditEntry.objects.get(action="breach.notify.withdraw")
        assert entry.target_id == str(inc.pk) and entry.extra["notification"] == record.pk
        assert REASON not in str(entry.extra)

    def test_the_clocks_follow_the_records_that_stand(self, dpo):
        inc = _incident(dpo)
        first, follow_up = _record(inc, dpo, hours=3), _record(inc, dpo, stage="follow_up", hours=2)
        users = _record(inc, dpo, recipient="users")
        breach_notification_withdraw(notification=users, reason=REASON, actor=dpo)
        inc.refresh_from_db()
        assert inc.users_notified_at is None and inc.authority_notified_at == first.sent_at
        assert inc.authority_full_due_at is None  # the follow-up still stands
        breach_notification_withdraw(notification=follow_up, reason=REASON, actor=dpo)
        inc.refresh_from_db()
        assert inc.authority_notified_at == first.sent_at
        assert inc.authority_full_due_at == first.sent_at + timedelta(days=3)  # the full one is owed again

    def test_the_first_standing_record_stops_the_clock(self, dpo):
        inc = _incident(dpo, telecom=False)
        early, later = _record(inc, dpo, hours=3), _record(inc, dpo, hours=1)
        breach_notification_withdraw(notification=early, reason=REASON, actor=dpo)
        assert BreachIncident.objects.get(pk=inc.pk).authority_notified_at == later.sent_at

    def test_it_refuses_no_reason_twice_or_a_closed_incident(self, dpo):
        inc = _incident(dpo)
        record = _record(inc, dpo, stage="final")
        with pytest.raises(ApplicationError) as exc:
            breach_notification_withdraw(notification=record, reason=" ", actor=dpo)
        assert exc.value.message == WITHDRAWAL_REASON_REQUIRED and exc.value.extra["field"] == "reason"
        breach_notification_withdraw(notification=record, reason=REASON, actor=dpo)
        with pytest.raises(ApplicationError, match=ALREADY_WITHDRAWN):
            breach_notification_withdraw(notification=record, reason=REASON, actor=dpo)
        kept = _record(inc, dpo, stage="final")
        breach_incident_close(incident=inc, users_not_notified_reason="No risk.", actor=dpo)
        with pytest.raises(ApplicationError, match=INCIDENT_CLOSED):
            breach_notification_withdraw(notification=kept, reason=REASON, actor=dpo)
        assert BreachNotification.objects.get(pk=kept.pk).withdrawn_at is None


class WithdrawalPageTests:
    def test_the_page_asks_then_withdraws_and_shows_it_in_the_register(self, client, dpo):
        inc = _incident(dpo)
        record = _record(inc, dpo)
        verified_client(client, dpo)
        page = client.get(_url(inc)).content.decode()
        assert 'id="withdraw-title"' in page and f'<option value="{record.pk}">' in page
        data = {"action": "withdraw", "notification": str(record.pk), "reason": REASON}
        asked = client.post(_url(inc), data)
        body = asked.content.decode()
        assert asked.status_code == 200 and f"Withdraw a notification record of incident #{inc.pk}?" in body
        assert REASON in body and "its clock runs again" in body
        assert f'formaction="{_url(inc)}#withdraw-title"' in body
        assert BreachNotification.objects.get(pk=record.pk).withdrawn_at is None
        back = client.post(_url(inc), {**data, "confirm": ["yes", "edit"]}).content.decode()
        assert f"{REASON}</textarea>" in back and f'<option value="{record.pk}" selected>' in back
        done = client.post(_url(inc), {**data, "confirm": "yes"}, follow=True)
        shown = done.content.decode()
        assert "The record is withdrawn" in shown and BreachNotification.objects.get(pk=record.pk).withdrawn_at
        assert '<li class="withdrawn"><del>' in shown and f"because: “{REASON}”" in shown
        assert 'id="withdraw-title"' not in shown  # no standing record left to withdraw

    def test_a_missing_reason_or_a_foreign_record_is_refused_at_the_field(self, client, dpo):
        inc, other = _incident(dpo), _incident(dpo)
        record, foreign = _record(inc, dpo), _record(other, dpo)
        verified_client(client, dpo)
        missing = client.post(_url(inc), {"action": "withdraw", "notification": str(record.pk), "reason": ""})
        assert missing.status_code == 400 and "Please confirm" not in missing.content.decode()
        wrong = client.post(_url(inc), {"action": "withdraw", "notification": str(foreign.pk), "reason": REASON,
                                        "confirm": "yes"})
        assert wrong.status_code == 400 and 'id="id_notification_error"' in wrong.content.decode()
        assert not BreachNotification.objects.filter(withdrawn_at__isnull=False).exists()

    def test_the_pages_are_in_dutch(self, client, dpo):
        inc = _incident(dpo)
        _record(inc, dpo)
        verified_client(client, dpo)
        client.cookies["django_language"] = "nl"
        page = client.get(_url(inc)).content.decode()
        asked = client.post(_url(inc), _notify()).content.decode()
        assert "Bevestig alstublieft" in asked
        for english in ("Withdraw a record made in error", "It stops the clock", "can only be withdrawn"):
            assert english not in page + asked
        assert "Een vastlegging intrekken die een vergissing was" in page and "Het register legt vast: " in asked and "kan alleen worden ingetrokken" in asked
