"""The e-mails to a person are written in the language they chose in the portal (User.language), whatever
language is active where the notice was queued (a support member's or DPO's Dutch page, a worker with none);
a person who never chose gets the site's default, English. The Dutch is the catalogue's (locale/nl)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localdate, localtime

from accounts.dsr.models import DataSubjectRequest, Restriction
from accounts.dsr.policy import policy_version_create, policy_version_generated, policy_version_publish
from accounts.dsr.restriction import restriction_lift_notice_request
from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_request_extend
from accounts.models import Itemisation, User
from accounts.services.users import user_language_set
from accounts.support.services import support_itemisation_set
from tests.factories import make_user

pytestmark = pytest.mark.django_db

Kind = DataSubjectRequest.Kind


def _dutch(user: User) -> User:
    return user_language_set(user=user, language="nl")


def _one_mail_to(user: User):
    [message] = [m for m in mail.outbox if m.to == [user.email]]
    return message


def _labels(language: str) -> dict[str, str]:
    with translation.override(language):
        return {choice: str(label) for choice, label in Itemisation.choices}


def _lift_told(user: User, dpo) -> None:
    """Restrict `user` (ground: accuracy contested) and have the DPO ask for the lift notice, from a Dutch page."""
    req = dsr_request_create(user=user, kind=Kind.RESTRICTION, details="Check my address first")
    dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo,
                         ground=Restriction.Ground.ACCURACY_CONTESTED, ends_on=localdate() + timedelta(days=14))
    restriction = Restriction.objects.get(user=user, lifted_at__isnull=True)
    with translation.override("nl"), TestCase.captureOnCommitCallbacks(execute=True):
        restriction_lift_notice_request(restriction=restriction, actor=dpo)


class RestrictionLiftNoticeLanguageTests:
    def test_a_dutch_speaking_person_is_told_in_dutch(self, dpo):
        person = _dutch(make_user("jan"))
        _lift_told(person, dpo)
        message = _one_mail_to(person)
        assert message.subject == "De beperking van uw gegevens wordt opgeheven"
        assert "Juistheid betwist, voor de tijd die nodig is om die te controleren (art. 18(1)(a))" in message.body
        assert "We will lift this restriction soon" not in message.body

    def test_a_person_who_never_chose_is_told_in_english_from_a_dutch_page(self, alice, dpo):
        _lift_told(alice, dpo)
        message = _one_mail_to(alice)
        assert message.subject == "The restriction of your data will be lifted"
        assert "Accuracy contested, for the time to verify it (art. 18(1)(a))" in message.body


class ExtensionNoticeLanguageTests:
    def _extended(self, user: User, dpo) -> DataSubjectRequest:
        req = dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My label is wrong")
        with translation.override("nl"), TestCase.captureOnCommitCallbacks(execute=True):
            return dsr_request_extend(request=req, reason="De gegevens van de vervoerder duren zes weken.", actor=dpo)

    def _deadline(self, req: DataSubjectRequest, language: str) -> str:
        with translation.override(language):
            return date_format(localtime(req.deadline), "DATE_FORMAT")

    def test_a_dutch_speaking_person_gets_the_kind_and_the_new_deadline_in_dutch(self, dpo):
        person = _dutch(make_user("jan"))
        req = self._extended(person, dpo)
        message = _one_mail_to(person)
        dutch, english = self._deadline(req, "nl"), self._deadline(req, "en")
        assert dutch != english  # the month's name differs, so the date says which language it was written in
        assert message.subject == f"Uw privacyverzoek #{req.pk} duurt langer"
        assert f"#{req.pk} (Mijn gegevens corrigeren (AVG art. 16)) te beantwoorden." in message.body
        assert f"We antwoorden uiterlijk op {dutch}." in message.body
        assert english not in message.body

    def test_an_english_speaking_person_gets_it_in_english(self, alice, dpo):
        person = user_language_set(user=alice, language="en")
        req = self._extended(person, dpo)
        message = _one_mail_to(person)
        assert message.subject == f"Your privacy request #{req.pk} takes longer"
        assert f"(Correct my data (GDPR art. 16)). We will answer by {self._deadline(req, 'en')}." in message.body

    def test_a_language_the_site_no_longer_offers_falls_back_to_english_dates_too(self, alice, dpo):
        User.objects.filter(pk=alice.pk).update(language="fr")  # chosen when the site still offered it
        req = self._extended(User.objects.get(pk=alice.pk), dpo)
        message = _one_mail_to(alice)
        assert message.subject == f"Your privacy request #{req.pk} takes longer"
        assert f"We will answer by {self._deadline(req, 'en')}." in message.body


class ItemisationNoticeLanguageTests:
    def _changed_by_dutch_support(self, user: User, support) -> None:
        with translation.override("nl"), TestCase.captureOnCommitCallbacks(execute=True):
            support_itemisation_set(actor=support, user=user, itemisation="masked", channel="phone")

    def test_a_dutch_speaking_customer_is_told_in_dutch(self, alice, support):
        self._changed_by_dutch_support(_dutch(alice), support)
        message = _one_mail_to(alice)
        assert message.subject == "Uw gespecificeerde rekeningen zijn op uw verzoek gewijzigd"
        assert "Uw nieuwe keuze: " in message.body and "Hebt u niet om deze wijziging gevraagd?" in message.body
        # the choice in force is named in Dutch too
        assert any(_labels("nl")[choice] in message.body for choice in Itemisation.values)
        assert not any(_labels("en")[choice] in message.body for choice in Itemisation.values)

    def test_a_customer_who_never_chose_is_told_in_english_not_in_the_support_members_language(self, alice,
                                                                                               support):
        self._changed_by_dutch_support(alice, support)
        message = _one_mail_to(alice)
        assert message.subject == "Your itemised bills were changed at your request"
        assert "Your new choice: " in message.body and "If you did not ask for this change" in message.body
        assert any(_labels("en")[choice] in message.body for choice in Itemisation.values)


class PolicyNoticeLanguageTests:
    def test_each_person_gets_the_notice_in_their_language_with_their_summary(self, alice, dpo):
        jan = _dutch(make_user("jan"))
        with translation.override("nl"), TestCase.captureOnCommitCallbacks(execute=True):
            pv = policy_version_generated(summaries={"en": "We keep failed calls longer.",
                                                     "nl": "We bewaren mislukte gesprekken langer."},
                                          substantive=True, actor=dpo)
        dutch, english = _one_mail_to(jan), _one_mail_to(alice)
        assert dutch.subject == f"VoIPXS heeft zijn privacybeleid gewijzigd (versie {pv.version})"
        assert "We bewaren mislukte gesprekken langer." in dutch.body
        assert "We keep failed calls longer." not in dutch.body
        # Alice never chose: English around every summary, as before.
        assert english.subject == f"VoIPXS has changed its privacy policy (version {pv.version})"
        assert "We keep failed calls longer." in english.body and "We bewaren mislukte" in english.body

    def test_a_typed_summary_goes_to_everyone_as_typed(self, dpo):
        jan = _dutch(make_user("jan"))
        pv = policy_version_create(version="9", summary="Nieuwe tekst.", text="t", substantive=True, actor=dpo)
        with TestCase.captureOnCommitCallbacks(execute=True):
            policy_version_publish(policy=pv, actor=dpo, email_users=True)
        message = _one_mail_to(jan)
        assert message.subject == "VoIPXS heeft zijn privacybeleid gewijzigd (versie 9)"
        assert "Nieuwe tekst." in message.body


class PasswordResetLanguageTests:
    def test_a_dutch_speaking_person_gets_the_reset_link_in_dutch_from_an_english_page(self, client, alice):
        _dutch(alice)
        assert client.post("/accounts/password/reset/", {"email": "alice@example.org"}).status_code == 302
        message = _one_mail_to(alice)
        assert message.subject == "Een nieuw VoIPXS-wachtwoord instellen" and "Uw inlognaam: alice" in message.body

    def test_a_person_who_never_chose_gets_the_language_of_the_page_they_asked_on(self, client, alice):
        client.post("/accounts/password/reset/", {"email": "alice@example.org"}, HTTP_ACCEPT_LANGUAGE="nl")
        client.post("/accounts/password/reset/", {"email": "alice@example.org"})
        assert [m.subject for m in mail.outbox] == ["Een nieuw VoIPXS-wachtwoord instellen",
                                                    "Set a new VoIPXS password"]
