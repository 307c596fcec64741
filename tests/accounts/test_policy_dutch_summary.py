"""What changed in a policy version, in Dutch (GDPR art. 12: the notice in the reader's language). The DPO gives the
summary in Dutch beside the English; with a Dutch text it is required, since a Dutch reader of a translated policy
must not be told of it in English. The notice above every page, the version history and the e-mail carry the
reader's language; a version without it shows Dutch readers the English, marked lang="en"."""
from __future__ import annotations

import pytest
from django.core import mail

from accounts.dsr.models import PolicyVersion
from accounts.dsr.policy import (
    SUMMARY_NL_BLANK, SUMMARY_NL_NEEDED, policy_version_create, policy_version_publish,
)
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError

PAGE = "/privacy-requests/dpo/policy/"
EN, NL = "Unbilled calls are now kept two months.", "Niet-gefactureerde gesprekken bewaren we nu twee maanden."

pytestmark = pytest.mark.django_db


def _version(dpo, **dutch) -> PolicyVersion:
    return policy_version_create(version="2", summary=EN, text="Article 1: Scope", substantive=True, actor=dpo,
                                 **dutch)


def _notice(client, language: str) -> str:
    page = client.get("/calls/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    start = page.index('id="policy-notice"')
    return page[start:page.index("</aside>", start)]


class SummaryRulesTests:
    def test_a_dutch_text_without_a_dutch_summary_is_refused_at_the_summary_field(self, dpo):
        with pytest.raises(ApplicationError) as refused:
            _version(dpo, text_nl="Artikel 1: Reikwijdte")
        assert refused.value.message == SUMMARY_NL_NEEDED and refused.value.extra == {"field": "summary_nl"}
        assert not PolicyVersion.objects.filter(version="2").exists()

    @pytest.mark.parametrize("blank", ["", "  \n "])
    def test_a_blank_dutch_summary_is_refused(self, dpo, blank):
        with pytest.raises(ApplicationError) as refused:
            _version(dpo, summary_nl=blank)
        assert refused.value.message == SUMMARY_NL_BLANK and refused.value.extra == {"field": "summary_nl"}

    def test_a_dutch_summary_may_come_without_a_dutch_text(self, dpo):
        assert _version(dpo, summary_nl=NL).summaries == {"en": EN, "nl": NL}


class SummaryShownTests:
    def test_the_notice_above_every_page_is_in_the_readers_language(self, client, alice, dpo):
        policy_version_publish(policy=_version(dpo, text_nl="Artikel 1: Reikwijdte", summary_nl=NL), actor=dpo)
        verified_client(client, alice)
        dutch, english = _notice(client, "nl"), _notice(client, "en")
        assert NL in dutch and EN not in dutch and 'lang="en"' not in dutch
        assert EN in english and NL not in english

    def test_without_a_dutch_summary_dutch_readers_see_the_english_marked_as_english(self, client, alice, dpo):
        policy_version_publish(policy=_version(dpo), actor=dpo)
        verified_client(client, alice)
        assert f'<span lang="en">{EN}</span>' in _notice(client, "nl")
        assert '<span lang="en">' not in _notice(client, "en")

    def test_the_version_history_on_the_policy_page_is_in_the_readers_language(self, client, dpo):
        policy_version_publish(policy=_version(dpo, summary_nl=NL), actor=dpo)
        assert NL in client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        english = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert EN in english and NL not in english

    def test_the_email_is_in_the_persons_language_and_gives_both_to_one_who_never_chose(
            self, alice, bob, dpo, django_capture_on_commit_callbacks):
        alice.language = "nl"
        alice.save(update_fields=["language"])
        with django_capture_on_commit_callbacks(execute=True):
            policy_version_publish(policy=_version(dpo, summary_nl=NL), actor=dpo, email_users=True)
        bodies = {m.to[0]: m.body for m in mail.outbox}
        assert NL in bodies["alice@example.org"] and EN not in bodies["alice@example.org"]
        assert EN in bodies["bob@example.org"] and NL in bodies["bob@example.org"]


class DpoPageTests:
    def test_the_dpo_gives_the_dutch_summary_on_the_page_and_is_told_when_it_is_missing(self, client, dpo):
        verified_client(client, dpo)
        assert 'name="summary_nl"' in client.get(PAGE).content.decode()
        missing = client.post(PAGE, {"action": "create", "version": "5", "summary": EN, "text": "Article 1: A",
                                     "text_nl": "Artikel 1: A"})
        page = missing.content.decode()
        assert missing.status_code == 400 and 'id="id_summary_nl_error"' in page
        assert "Summarise what changed in Dutch too" in page
        created = client.post(PAGE, {"action": "create", "version": "5", "summary": EN, "text": "Article 1: A",
                                     "text_nl": "Artikel 1: A", "summary_nl": NL})
        assert created.status_code == 302
        assert PolicyVersion.objects.get(version="5").summaries == {"en": EN, "nl": NL}
        assert NL in client.get(PAGE, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
