"""A person's language (User.language): the footer's switch keeps a signed-in person's choice on their account
(audited, codes only), the security page says which language we write to them in, and their export shows it."""
from __future__ import annotations

import pytest

from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_request_create
from accounts.models import User
from accounts.services.users import LANGUAGE_INVALID, user_language_set
from tests.accounts.dsr_helpers import export_json, section
from tests.factories import PASSWORD, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import target_ref
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

SWITCH = "/i18n/setlang/"


def _language(user: User) -> str:
    return User.objects.values_list("language", flat=True).get(pk=user.pk)


def _changes(user: User) -> list[dict]:
    return list(AuditEntry.objects.filter(action="user.language", target_id=target_ref("user", user.pk))
                .order_by("pk").values_list("extra", flat=True))


class LanguageSwitchTests:
    def test_choosing_dutch_in_the_portal_keeps_it_on_the_account(self, client, alice):
        c = verified_client(client, alice)
        response = c.post(SWITCH, {"language": "nl", "next": "/accounts/numbers/"}, follow=True)
        assert response.redirect_chain[-1][0] == "/accounts/numbers/"
        assert '<html lang="nl">' in response.content.decode()  # Django's switch still does its part
        assert _language(alice) == "nl"
        assert _changes(alice) == [{"from": "", "to": "nl"}]

    def test_choosing_again_changes_it_and_the_same_choice_records_nothing_new(self, client, alice):
        c = verified_client(client, alice)
        for language in ("nl", "nl", "en"):
            c.post(SWITCH, {"language": language, "next": "/"})
        assert _language(alice) == "en"
        assert _changes(alice) == [{"from": "", "to": "nl"}, {"from": "nl", "to": "en"}]

    def test_a_visitor_who_is_not_signed_in_switches_the_site_and_nothing_is_stored(self, client, alice):
        response = client.post(SWITCH, {"language": "nl", "next": "/privacy/"}, follow=True)
        assert '<html lang="nl">' in response.content.decode()
        assert _language(alice) == "" and not AuditEntry.objects.filter(action="user.language").exists()

    @pytest.mark.parametrize("language", ["de", "", "nl-xx"])
    def test_a_language_the_site_does_not_offer_is_not_stored(self, client, alice, language):
        response = verified_client(client, alice).post(SWITCH, {"language": language, "next": "/"})
        assert response.status_code == 302
        assert _language(alice) == "" and _changes(alice) == []

    def test_opening_the_switch_without_a_post_stores_nothing(self, client, alice):
        assert verified_client(client, alice).get(SWITCH, {"language": "nl"}).status_code in (302, 204)
        assert _language(alice) == ""


class LanguageServiceTests:
    def test_it_refuses_a_language_the_site_does_not_offer(self, alice):
        with pytest.raises(ApplicationError) as error:
            user_language_set(user=alice, language="fr")
        assert (error.value.message, error.value.extra["field"]) == (LANGUAGE_INVALID, "language")
        assert _language(alice) == ""

    def test_an_empty_choice_goes_back_to_the_site_default(self, alice):
        user_language_set(user=alice, language="nl")
        user_language_set(user=alice, language="", actor=alice)
        assert _language(alice) == "" and _changes(alice)[-1] == {"from": "nl", "to": ""}


class SecurityPageLanguageTests:
    def test_it_says_which_language_we_write_in(self, client, alice):
        c = verified_client(client, alice)
        assert "We write our e-mails to you in English." in c.get("/accounts/security/").content.decode()
        user_language_set(user=alice, language="nl")
        assert "We write our e-mails to you in Dutch." in c.get("/accounts/security/").content.decode()


class LanguageExportTests:
    def test_the_persons_export_shows_their_choice(self, alice, settings, tmp_path,
                                                   django_capture_on_commit_callbacks):
        settings.PRIVATE_FILES_DIR = tmp_path
        user_language_set(user=alice, language="nl")
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
        [profile] = section(export_json(ExportFile.objects.get(request=req)), "profile")["rows"]
        assert profile["language"] == "nl"


class SignInLanguageTests:
    def test_signing_in_on_a_new_device_puts_the_site_in_the_persons_language(self, client, alice):
        User.objects.filter(pk=alice.pk).update(language="nl")
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True)
        assert client.cookies["django_language"].value == "nl"
        assert '<html lang="nl">' in response.content.decode()

    def test_a_person_who_never_chose_keeps_the_device_s_language(self, client, alice):
        client.cookies["django_language"] = "nl"
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True)
        assert client.cookies["django_language"].value == "nl"
        assert '<html lang="nl">' in response.content.decode()
        client.logout()  # a new device: no cookies
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True)
        assert "django_language" not in client.cookies and '<html lang="en">' in response.content.decode()
