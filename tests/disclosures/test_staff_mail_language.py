"""The legal officers' and the DPO's mails about disclosure deadlines are written in each reader's language
(User.language; none chosen: English), one message per language (accounts.services.roles.staff_role_mail). The
Dutch is the catalogue's (locale/nl)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime, now

from accounts.models import User
from accounts.services.users import user_language_set
from disclosures.services.deadlines import disclosure_written_orders_escalate
from disclosures.services.jobs import disclosure_deadlines_escalate

from .conftest import ALICE_NUMBER, receive

pytestmark = pytest.mark.django_db


def _mail_to(user: User):
    [message] = [m for m in mail.outbox if user.email in m.to]
    return message


def _moment_in(language: str, moment) -> str:
    with translation.override(language):
        return f"{date_format(localtime(moment), 'DATETIME_FORMAT')} {localtime(moment):%Z}"


class LegalOfficerMailLanguageTests:
    def test_the_deadline_escalation_reaches_a_dutch_and_an_english_officer_each_in_their_own(self, legal1, legal2,
                                                                                                authority):
        user_language_set(user=legal1, language="nl")
        req = receive(legal1, authority, deadline=now() + timedelta(hours=2))
        mail.outbox.clear()
        hours = settings.DISCLOSURE_ESCALATION_HOURS
        with translation.override("nl"):  # the job's own language is neither reader's
            assert disclosure_deadlines_escalate() == 1

        dutch, english = _mail_to(legal1), _mail_to(legal2)
        assert dutch.to == [legal1.email] and english.to == [legal2.email]
        assert dutch.subject == "[VoIPXS] Termijn van 1 verzoek om verstrekking verloopt bijna"
        assert dutch.body == f"Verzoek om verstrekking #{req.pk} moet binnen {hours} uur zijn afgehandeld."
        assert english.subject == "[VoIPXS] 1 disclosure request near its deadline"
        assert english.body == f"Disclosure request #{req.pk} is due within {hours} hours."

    def test_the_missing_written_order_reaches_the_dutch_dpo_in_dutch_with_a_dutch_date(self, legal1, legal2,
                                                                                         authority, dpo):
        user_language_set(user=dpo, language="nl")
        req = receive(legal1, authority, emergency=True)
        mail.outbox.clear()
        assert disclosure_written_orders_escalate(now=req.written_order_due_at) == {"escalated": 1, "flagged": 0}

        dutch, english = _mail_to(dpo), _mail_to(legal2)
        due = req.written_order_due_at
        assert dutch.subject == "[VoIPXS] Verstrekkingen zonder schriftelijke vordering"
        assert dutch.body == (f"Spoedverzoek #{req.pk}: de schriftelijke vordering had er uiterlijk "
                              f"{_moment_in('nl', due)} moeten zijn en ontbreekt.")
        assert english.subject == "[VoIPXS] Disclosures without their written order"
        assert english.body == (f"Emergency request #{req.pk}: the written order was due {_moment_in('en', due)} "
                                f"and is not on file.")
        assert all(ALICE_NUMBER not in m.body for m in mail.outbox)
