"""The e-mails to staff (accounts.services.roles.staff_role_mail) are written in each member's language
(User.language; none chosen, or one the site no longer offers: the site's default, English): one message per
language, whatever language is active where the job runs. The DPO's reminders and billing's void-invoice reminder
are shown here in Dutch and English; the legal officers' in tests/disclosures/test_staff_mail_language.py. The
Dutch is the catalogue's (locale/nl)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from django.core import mail
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localdate, localtime, make_aware, now
from django.utils.translation import gettext

from accounts.dsr.models import DataSubjectRequest, Restriction
from accounts.dsr.reminders import dsr_deadlines_remind, restriction_ends_remind
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from accounts.models import User
from accounts.services.roles import staff_role_mail
from accounts.services.users import user_language_set
from tests.factories import make_cdr, make_user
from traffic.models import Invoice
from traffic.services import invoices as invoicing
from voipxs.privacy.models import AuditEntry
from voipxs.privacy.purposes import Role

pytestmark = pytest.mark.django_db


def _speaking(user: User, language: str) -> User:
    return user_language_set(user=user, language=language)


def _mail_to(user: User):
    [message] = [m for m in mail.outbox if user.email in m.to]
    return message


def _in(language: str, value: date | datetime, fmt: str) -> str:
    with translation.override(language):
        return date_format(localtime(value) if isinstance(value, datetime) else value, fmt)


@pytest.fixture
def dpo_nl(db) -> User:
    return _speaking(make_user("dpo_nl", roles=(Role.DPO,), totp=True), "nl")


@pytest.fixture
def dpo_en(db) -> User:
    return _speaking(make_user("dpo_en", roles=(Role.DPO,), totp=True), "en")


class StaffRoleMailTests:
    def test_each_language_gets_one_message_in_it_and_the_count_is_every_recipient(self, dpo, dpo_nl, dpo_en):
        forgotten = make_user("dpo_de", roles=(Role.DPO,), totp=True)
        User.objects.filter(pk=forgotten.pk).update(language="de")  # chosen once, no longer offered
        gone = _speaking(make_user("dpo_gone", roles=(Role.DPO,), totp=True), "nl")
        User.objects.filter(pk=gone.pk).update(is_active=False)

        with translation.override("nl"):  # a Dutch page or worker: not what an English member reads
            sent = staff_role_mail(role=Role.DPO, compose=lambda: (gettext("Overdue"), gettext("Due soon")))

        assert sent == 4
        assert sorted(sorted(m.to) for m in mail.outbox) == [sorted([dpo.email, dpo_en.email, forgotten.email]),
                                                             [dpo_nl.email]]
        dutch, english = _mail_to(dpo_nl), _mail_to(dpo_en)
        assert (dutch.subject, dutch.body) == ("Termijn verstreken", "Termijn verloopt binnenkort")
        assert (english.subject, english.body) == ("Overdue", "Due soon")
        assert gone.email not in {address for m in mail.outbox for address in m.to}


def _restricted(user: User, dpo: User, *, days: int) -> Restriction:
    req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.RESTRICTION, details="My address is wrong")
    dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo,
                         ground=Restriction.Ground.ACCURACY_CONTESTED, ends_on=localdate() + timedelta(days=days))
    return Restriction.objects.get(user=user, lifted_at__isnull=True)


class DpoReminderLanguageTests:
    def test_the_restriction_reminder_reaches_a_dutch_and_an_english_dpo_each_in_their_own(self, alice, dpo_nl,
                                                                                             dpo_en):
        restriction = _restricted(alice, dpo_nl, days=3)
        assert restriction_ends_remind(now=make_aware(datetime.combine(localdate(), time(7, 30)))) == 1

        dutch, english = _mail_to(dpo_nl), _mail_to(dpo_en)
        assert dutch.to == [dpo_nl.email] and english.to == [dpo_en.email]
        assert dutch.subject == ("[VoIPXS] 1 beperking loopt binnenkort af of is over de einddatum, "
                                 "niet opgeheven")
        assert (f"Beperking #{restriction.pk} (account #{alice.pk}): laatste dag "
                f"{_in('nl', restriction.ends_on, 'DATE_FORMAT')}, loopt binnenkort af (betrokkene nog niet "
                f"ingelicht)") in dutch.body
        assert english.subject == "[VoIPXS] 1 restriction ending soon or past its end date, not lifted"
        assert (f"Restriction #{restriction.pk} (account #{alice.pk}): last day "
                f"{_in('en', restriction.ends_on, 'DATE_FORMAT')}, ends soon (person not told yet)") in english.body
        entry = AuditEntry.objects.get(action="restriction.reminder", target_id=str(restriction.pk))
        assert entry.extra["recipients"] == 2

    def test_the_data_subject_request_reminder_too(self, alice, dpo_nl, dpo_en):
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My label is wrong")
        due = now() + timedelta(days=3)
        DataSubjectRequest.objects.filter(pk=req.pk).update(deadline=due)
        assert dsr_deadlines_remind(now=now()) == 1

        dutch, english = _mail_to(dpo_nl), _mail_to(dpo_en)
        assert dutch.subject == "[VoIPXS] 1 verzoek van een betrokkene bijna of over de termijn"
        assert (f"Verzoek #{req.pk} (rectification) moet uiterlijk {_in('nl', due, 'DATETIME_FORMAT')} "
                f"{localtime(due):%Z} zijn afgehandeld: /privacy-requests/dpo/{req.pk}/") in dutch.body
        assert english.subject == "[VoIPXS] 1 data-subject request near or past its deadline"
        assert (f"Request #{req.pk} (rectification) is due {_in('en', due, 'DATETIME_FORMAT')} "
                f"{localtime(due):%Z}: /privacy-requests/dpo/{req.pk}/") in english.body


@pytest.fixture
def billing_nl(db) -> User:
    return _speaking(make_user("billing_nl", roles=(Role.BILLING,), totp=True), "nl")


@pytest.fixture
def void(alice, billing_staff) -> Invoice:
    """An upheld dispute's void invoice, waiting for its corrected one."""
    make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, tzinfo=timezone.utc))
    invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 1))[0]
    ended = now().date() - timedelta(days=5)
    Invoice.objects.filter(pk=invoice.pk).update(dispute_window_ends=ended, calls_kept_until=ended)
    invoice.refresh_from_db()
    disputed = invoicing.invoice_dispute(invoice=invoice, actor=billing_staff, today=ended - timedelta(days=1))
    return invoicing.invoice_resolve_dispute(invoice=disputed, actor=billing_staff, resolution="upheld")


class BillingReminderLanguageTests:
    def test_the_void_invoice_reminder_reaches_dutch_and_english_billing_each_in_their_own(self, void, billing_staff,
                                                                                              billing_nl):
        mail.outbox.clear()
        until = void.calls_kept_until
        assert invoicing.invoice_reissues_remind(today=until - timedelta(days=30)) == 1

        dutch, english = _mail_to(billing_nl), _mail_to(billing_staff)  # billing_staff chose no language
        assert dutch.subject == ("[VoIPXS] Vernietigde facturen opnieuw uitgeven voordat hun gesprekken worden "
                                 "verwijderd")
        assert (f"Factuur {void.number}: de betwisting is gegrond verklaard en er is nog geen gecorrigeerde factuur "
                f"gemaakt. De gesprekken ervan worden na {_in('nl', until, 'DATE_FORMAT')} verwijderd") in dutch.body
        assert english.subject == "[VoIPXS] Void invoices to reissue before their calls go"
        assert (f"Invoice {void.number}: its dispute was upheld and no corrected invoice has been made. Its calls are "
                f"deleted after {_in('en', until, 'DATE_FORMAT')}; reissue it") in english.body
