"""The DPO's tools for a restriction's end (GDPR art. 18): a "due soon" mark on the page and an early reminder a
week before the last day (once), a read-only and pseudonymous admin, and moving the last day of an active
restriction through a service, by the rules it was recorded with, after a confirmation, audited with ids and
dates only."""
from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils.formats import date_format
from django.utils.timezone import localdate, make_aware

from accounts.dsr.models import DataSubjectRequest, Restriction
from accounts.dsr.reminders import restriction_ends_remind
from accounts.dsr.restriction import (
    END_IN_PAST, END_REASON_INVALID, END_REQUIRED, END_UNCHANGED, ERASED, NO_GROUND, NOT_ACTIVE,
    restriction_end_change, restriction_lift, restriction_lift_notice_record,
)
from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_restriction_apply
from accounts.tasks import restriction_ends_remind_task
from tests.factories import PASSWORD, make_user, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import actor_ref, target_ref
from voipxs.privacy.models import AuditEntry

Ground = Restriction.Ground
Reason = Restriction.EndChangeReason
PAGE = "/privacy-requests/dpo/restrictions/"
ADMIN = "/admin/accounts/restriction/"

pytestmark = pytest.mark.django_db


def _restricted(user, dpo, *, ground=Ground.ACCURACY_CONTESTED, days: int | None = 14) -> Restriction:
    req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.RESTRICTION, details="My address is wrong")
    dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo, ground=ground,
                         ends_on=localdate() + timedelta(days=days) if days is not None else None)
    return Restriction.objects.get(user=user, lifted_at__isnull=True)


def _person(name: str = "jansen.pieter"):
    return make_user(name, email="pieter.jansen@example.net", numbers=["+31205550177"])


def _row(page: str, restriction: Restriction) -> str:
    """The page's table row of one restriction, its <tr> tag included."""
    match = re.search(rf'<tr id="restriction-{restriction.pk}"[^>]*>.*?</tr>', page, re.DOTALL)
    assert match, f"restriction #{restriction.pk} not listed"
    return match.group(0)


def _end_url(restriction: Restriction) -> str:
    return f"/privacy-requests/dpo/restrictions/{restriction.pk}/end/"


def _at_half_past_seven(days: int = 0) -> datetime:
    """The moment the daily beat task runs (07:30, Europe/Amsterdam), `days` days from today."""
    return make_aware(datetime.combine(localdate() + timedelta(days=days), time(7, 30)))


class RestrictionDueSoonTests:
    def test_the_page_marks_one_ending_in_3_days_due_soon_and_not_one_ending_in_30(self, client, alice, bob, dpo):
        soon, later = _restricted(alice, dpo, days=3), _restricted(bob, dpo, days=30)
        verified_client(client, dpo)
        page = client.get(PAGE).content.decode()
        soon_row, later_row = _row(page, soon), _row(page, later)
        assert 'class="due-soon"' in soon_row and "Due soon" in soon_row
        assert "due-soon" not in later_row and "Due soon" not in later_row and "Overdue" not in later_row
        assert "7 days" in page  # the page says what "due soon" means

    def test_the_last_day_in_seven_days_is_due_soon_and_in_eight_not(self, client, alice, bob, dpo):
        seven, eight = _restricted(alice, dpo, days=7), _restricted(bob, dpo, days=8)
        verified_client(client, dpo)
        page = client.get(PAGE).content.decode()
        assert "Due soon" in _row(page, seven) and "Due soon" not in _row(page, eight)

        assert restriction_ends_remind(now=_at_half_past_seven()) == 1
        (message,) = mail.outbox
        assert f"Restriction #{seven.pk} " in message.body and f"#{eight.pk} " not in message.body

    def test_the_daily_job_warns_the_dpo_once_before_the_last_day_then_once_after_it(self, dpo):
        person = _person()
        soon = _restricted(person, dpo, days=3)
        later = _restricted(make_user("dora"), dpo, days=30)

        assert restriction_ends_remind_task() == {"reminded": 1}  # the beat task, as it runs at 07:30
        (message,) = mail.outbox
        assert message.to == [dpo.email] and "ending soon" in message.subject
        assert (f"Restriction #{soon.pk} (account #{person.pk}): last day {date_format(soon.ends_on, 'DATE_FORMAT')}, "
                f"ends soon") in message.body
        assert "person not told yet" in message.body and f"#{later.pk} " not in message.body
        text = f"{message.subject}\n{message.body}".lower()
        for personal in ("jansen", "pieter", "example.net", "205550177", "accuracy", "address"):
            assert personal not in text

        # Once: the same day's second run and the next days' runs before the end send nothing more.
        assert restriction_ends_remind_task() == {"reminded": 0}
        for day in (1, 2, 3):
            assert restriction_ends_remind(now=_at_half_past_seven(day)) == 0
        assert len(mail.outbox) == 1
        (entry,) = AuditEntry.objects.filter(action="restriction.reminder")
        assert entry.target_id == str(soon.pk) and entry.extra["stage"] == "due_soon"

        # The day after the last day: the overdue reminder, once.
        assert restriction_ends_remind(now=_at_half_past_seven(4)) == 1
        assert restriction_ends_remind(now=_at_half_past_seven(5)) == 0
        assert len(mail.outbox) == 2 and "not lifted" in mail.outbox[1].body

    def test_moving_the_end_date_starts_the_reminders_again_for_the_new_date(self, alice, dpo):
        restriction = _restricted(alice, dpo, days=3)
        assert restriction_ends_remind(now=_at_half_past_seven()) == 1
        restriction_end_change(restriction=restriction, ends_on=localdate() + timedelta(days=20),
                               reason=Reason.CHECK_LONGER, actor=dpo)
        assert restriction_ends_remind(now=_at_half_past_seven(1)) == 0  # 19 days left: not near
        assert restriction_ends_remind(now=_at_half_past_seven(14)) == 1  # 6 days left: near again
        new_last_day = date_format(localdate() + timedelta(days=20), "DATE_FORMAT")  # "26 December 2026"
        assert len(mail.outbox) == 2 and new_last_day in mail.outbox[1].body


class RestrictionEndChangeTests:
    def test_it_extends_and_shortens_audited_with_ids_dates_and_reason_only(self, dpo):
        person = _person()
        restriction = _restricted(person, dpo, days=14)
        first, longer, shorter = restriction.ends_on, localdate() + timedelta(days=40), localdate() + timedelta(days=5)

        restriction_end_change(restriction=restriction, ends_on=longer, reason=Reason.CHECK_LONGER, actor=dpo)
        restriction_end_change(restriction=restriction, ends_on=shorter, reason=Reason.CHECK_SOONER, actor=dpo)

        changed = Restriction.objects.get(pk=restriction.pk)
        assert changed.ends_on == shorter
        assert (changed.ground, changed.request_id, changed.lifted_at) == (restriction.ground, restriction.request_id,
                                                                          None)
        entries = AuditEntry.objects.filter(action="dsr.restriction_end_change").order_by("pk")
        assert [e.extra for e in entries] == [
            {"restriction": restriction.pk, "reason": "check_longer", "ends_on_before": first.isoformat(),
             "ends_on": longer.isoformat()},
            {"restriction": restriction.pk, "reason": "check_sooner", "ends_on_before": longer.isoformat(),
             "ends_on": shorter.isoformat()}]
        assert {(e.target_type, e.target_id, e.actor) for e in entries} == {
            ("user", target_ref("user", person.pk), actor_ref(dpo))}  # pseudonyms, as every entry about a person
        logged = json.dumps([e.extra for e in entries]).lower()
        for personal in ("jansen", "pieter", "example.net", "205550177", "address"):
            assert personal not in logged

    def test_a_ground_without_an_end_may_get_one_and_lose_it(self, alice, dpo):
        restriction = _restricted(alice, dpo, ground=Ground.LEGAL_CLAIMS, days=None)
        day = localdate() + timedelta(days=60)
        restriction_end_change(restriction=restriction, ends_on=day, reason=Reason.PERSON_ASKED, actor=dpo)
        assert Restriction.objects.get(pk=restriction.pk).ends_on == day
        restriction_end_change(restriction=restriction, ends_on=None, reason=Reason.PERSON_ASKED, actor=dpo)
        assert Restriction.objects.get(pk=restriction.pk).ends_on is None

    @pytest.mark.parametrize("days, reason, message", [
        (-1, Reason.CHECK_SOONER, END_IN_PAST),
        (None, Reason.CHECK_LONGER, END_REQUIRED),  # this ground lasts only while it is checked
        (14, Reason.CHECK_LONGER, END_UNCHANGED),
        (20, "", END_REASON_INVALID),
        (20, "because", END_REASON_INVALID),
    ])
    def test_it_refuses_what_recording_refuses_and_changes_nothing(self, alice, dpo, days, reason, message):
        restriction = _restricted(alice, dpo, days=14)
        ends_on = localdate() + timedelta(days=days) if days is not None else None
        with pytest.raises(ApplicationError) as refused:
            restriction_end_change(restriction=restriction, ends_on=ends_on, reason=reason, actor=dpo)
        assert refused.value.message == str(message)
        assert Restriction.objects.get(pk=restriction.pk).ends_on == restriction.ends_on
        assert not AuditEntry.objects.filter(action="dsr.restriction_end_change").exists()

    def test_it_refuses_a_lifted_an_erased_and_a_groundless_restriction(self, alice, bob, dpo):
        later = localdate() + timedelta(days=30)
        lifted = _restricted(alice, dpo)
        restriction_lift_notice_record(restriction=lifted, channel="letter", actor=dpo)
        restriction_lift(restriction=lifted, actor=dpo)
        erased = _restricted(bob, dpo)
        dsr_request_create(user=bob, kind=DataSubjectRequest.Kind.ERASURE, password=PASSWORD)
        carol = make_user("carol")
        dsr_restriction_apply(user=carol, actor=dpo)  # as before grounds were recorded (migration 0018)
        groundless = Restriction.objects.create(user=carol)
        for restriction, message in ((lifted, NOT_ACTIVE), (erased, ERASED), (groundless, NO_GROUND)):
            with pytest.raises(ApplicationError) as refused:
                restriction_end_change(restriction=restriction, ends_on=later, reason=Reason.CHECK_LONGER, actor=dpo)
            assert refused.value.message == str(message)
        assert not AuditEntry.objects.filter(action="dsr.restriction_end_change").exists()


class RestrictionEndPageTests:
    def test_the_dpo_changes_the_end_date_from_the_page_after_a_confirmation(self, client, alice, dpo):
        restriction = _restricted(alice, dpo, days=3)
        verified_client(client, dpo)
        assert f'href="{_end_url(restriction)}"' in _row(client.get(PAGE).content.decode(), restriction)
        form = client.get(_end_url(restriction))
        assert form.status_code == 200 and 'name="ends_on"' in form.content.decode()
        assert 'name="reason"' in form.content.decode() and "alice" not in form.content.decode()

        new_day = localdate() + timedelta(days=45)
        data = {"ends_on": new_day.isoformat(), "reason": Reason.CHECK_LONGER}
        asked = client.post(_end_url(restriction), data)
        assert asked.status_code == 200 and 'name="confirm"' in asked.content.decode()
        assert "Change the end date of the restriction" in asked.content.decode()
        assert Restriction.objects.get(pk=restriction.pk).ends_on == restriction.ends_on  # asked first

        done = client.post(_end_url(restriction), {**data, "confirm": "yes"})
        assert done.status_code == 302 and done["Location"].endswith(f"#restriction-{restriction.pk}")
        assert Restriction.objects.get(pk=restriction.pk).ends_on == new_day
        assert AuditEntry.objects.get(action="dsr.restriction_end_change").extra["ends_on"] == new_day.isoformat()
        page = client.get(PAGE).content.decode()
        assert "Due soon" not in _row(page, restriction)

    @pytest.mark.parametrize("ends_on, reason, words", [
        ("yesterday", "check_sooner", "Enter a valid date"),
        ("past", "check_sooner", "give a day from today on"),
        ("", "check_longer", "this ground lasts only while it is checked"),
        ("later", "", "This field is required"),
        ("later", "no-such-reason", "Select a valid choice"),
        ("same", "check_longer", "already the restriction"),
    ])
    def test_an_invalid_end_date_or_reason_is_a_form_error_not_a_500(self, client, alice, dpo, ends_on, reason,
                                                                      words):
        restriction = _restricted(alice, dpo, days=14)
        days = {"past": localdate() - timedelta(days=1), "later": localdate() + timedelta(days=30),
                "same": restriction.ends_on}
        value = days[ends_on].isoformat() if ends_on in days else ends_on
        verified_client(client, dpo)
        for data in ({"ends_on": value, "reason": reason}, {"ends_on": value, "reason": reason, "confirm": "yes"}):
            refused = client.post(_end_url(restriction), data)
            assert refused.status_code == 400
            text = refused.content.decode().replace("&#x27;", "'")
            assert words in text and 'class="errorlist' in text and 'name="confirm"' not in text
        assert Restriction.objects.get(pk=restriction.pk).ends_on == restriction.ends_on
        assert not AuditEntry.objects.filter(action="dsr.restriction_end_change").exists()

    def test_only_the_dpo_reaches_it(self, client, alice, dpo, legal1, support, admin_user):
        restriction = _restricted(alice, dpo)
        data = {"ends_on": (localdate() + timedelta(days=30)).isoformat(), "reason": "check_longer", "confirm": "yes"}
        for user in (alice, legal1, support, admin_user):
            verified_client(client, user)
            assert client.get(_end_url(restriction)).status_code == 403, user
            assert client.post(_end_url(restriction), data).status_code == 403, user
            client.logout()
        assert client.get(_end_url(restriction)).status_code == 302  # signed out: to the sign-in page
        verified_client(client, dpo)
        assert client.get("/privacy-requests/dpo/restrictions/999999/end/").status_code == 404
        assert Restriction.objects.get(pk=restriction.pk).ends_on == restriction.ends_on

    def test_the_end_date_page_renders_in_dutch(self, client, alice, dpo):
        restriction = _restricted(alice, dpo)
        verified_client(client, dpo)
        page = client.get(_end_url(restriction), HTTP_ACCEPT_LANGUAGE="nl")
        assert page.status_code == 200 and page["Content-Language"] == "nl"


class RestrictionAdminTests:
    def test_the_dpo_lists_and_opens_restrictions_with_ids_and_dates_and_no_personal_data(self, client, dpo):
        person = _person()
        restriction = _restricted(person, dpo, days=3)
        verified_client(client, dpo)
        listed = client.get(ADMIN)
        assert listed.status_code == 200
        opened = client.get(f"{ADMIN}{restriction.pk}/change/")
        assert opened.status_code == 200
        assert f'<td class="field-account">#{person.pk}</td>' in listed.content.decode()  # the account by its id
        assert f'<div class="readonly">#{person.pk}</div>' in opened.content.decode()
        for page in (listed.content.decode(), opened.content.decode()):
            assert "Accuracy contested" in page and restriction.ends_on.strftime("%B %Y") in page
            for personal in ("jansen", "pieter", "example.net", "205550177", "+31 20"):
                assert personal not in page
        assert AuditEntry.objects.filter(action="admin.restriction.read", purpose="legal_obligation").exists()

    def test_it_finds_by_account_id_and_offers_no_add_change_or_delete(self, client, alice, bob, dpo):
        mine, other = _restricted(alice, dpo), _restricted(bob, dpo)
        verified_client(client, dpo)
        found = client.get(ADMIN, {"q": str(alice.pk)}).content.decode()
        assert f"/admin/accounts/restriction/{mine.pk}/change/" in found
        assert f"/admin/accounts/restriction/{other.pk}/change/" not in found
        assert client.get(ADMIN, {"q": "not-a-number"}).status_code == 200
        assert client.get(f"{ADMIN}add/").status_code == 403
        assert client.get(f"{ADMIN}{mine.pk}/delete/").status_code == 403
        changed = client.post(f"{ADMIN}{mine.pk}/change/", {"ends_on": "2099-01-01"})
        assert changed.status_code == 403 and Restriction.objects.get(pk=mine.pk).ends_on == mine.ends_on

    def test_only_the_dpo_sees_it_and_nobody_writes_through_it(self, client, alice, dpo, admin_user, legal1, support):
        restriction = _restricted(alice, dpo)
        for user in (admin_user, legal1, support):
            verified_client(client, user)
            assert client.get(ADMIN).status_code == 403, user
            assert client.get(f"{ADMIN}{restriction.pk}/change/").status_code == 403, user
            assert "/admin/accounts/restriction/" not in client.get("/admin/").content.decode()
            # Not even the superuser adds, changes or deletes one: restrictions change through the services only.
            assert client.get(f"{ADMIN}add/").status_code == 403, user
            assert client.post(f"{ADMIN}{restriction.pk}/change/", {"ends_on": "2099-01-01"}).status_code == 403, user
            assert client.post(f"{ADMIN}{restriction.pk}/delete/", {"post": "yes"}).status_code == 403, user
            client.logout()
        assert Restriction.objects.get(pk=restriction.pk).ends_on == restriction.ends_on
