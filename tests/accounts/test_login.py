from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import PASSWORD


@pytest.mark.django_db
class LoginTests:
    def test_it_signs_a_customer_in_and_out(self, client, alice):
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        assert response.status_code == 302
        assert client.get("/accounts/numbers/").status_code == 200
        assert client.get("/accounts/logout/").status_code == 405  # sign-out is a POST (CSRF-protected)
        client.post("/accounts/logout/")
        response = client.get("/accounts/numbers/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_it_shows_an_error_tied_to_the_fields_on_a_wrong_password(self, client, alice):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong-password-x"})
        assert response.status_code == 200
        html = response.content.decode()
        assert 'role="alert"' in html and 'aria-invalid="true"' in html and 'aria-describedby="login-errors"' in html

    def test_it_changes_the_password_through_the_form(self, client, alice):
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        response = client.post("/accounts/password/change/", {
            "old_password": PASSWORD, "new_password1": "a-brand-new-passphrase-9", "new_password2": "a-brand-new-passphrase-9"})
        assert response.status_code == 302
        alice.refresh_from_db()
        assert alice.check_password("a-brand-new-passphrase-9")
        from voipxs.models import AuditEntry

        assert AuditEntry.objects.filter(action="user.password_set").exists()

    def test_it_names_the_field_when_the_new_passwords_differ(self, client, alice):
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        response = client.post("/accounts/password/change/", {
            "old_password": PASSWORD, "new_password1": "a-brand-new-passphrase-9", "new_password2": "other-passphrase-99"})
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="id_new_password2_error"' in html and 'aria-invalid="true"' in html


@pytest.mark.django_db
class PasswordResetTests:
    def test_it_mails_a_working_link_found_through_the_blind_index(self, client, alice):
        response = client.post("/accounts/password/reset/", {"email": "ALICE@Example.org"})
        assert response.status_code == 302 and response["Location"].endswith("/accounts/password/reset/sent/")
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]
        link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
        response = client.get(link, follow=True)
        assert response.status_code == 200 and b"new_password1" in response.content
        response = client.post(response.redirect_chain[-1][0], {
            "new_password1": "reset-passphrase-4242", "new_password2": "reset-passphrase-4242"})
        assert response.status_code == 302
        alice.refresh_from_db()
        assert alice.check_password("reset-passphrase-4242")

    def test_it_answers_the_same_for_an_unknown_address(self, client, alice):
        known = client.post("/accounts/password/reset/", {"email": "alice@example.org"})
        unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 302
        assert known["Location"] == unknown["Location"]
        assert len(mail.outbox) == 1  # only the real account got mail

    def test_it_sends_nothing_to_an_inactive_account(self, client, alice):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        client.post("/accounts/password/reset/", {"email": "alice@example.org"})
        assert mail.outbox == []
